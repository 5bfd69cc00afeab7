# A shell's ${NAME} in a task's strings is read by fanout first: the
# error says how to pass it on (or, in env, where to use it instead);
# elsewhere, and in sudo_user, which no shell reads, it does not.
locals {
  home = "${HOME}" # ERROR: Unknown variable
}

task "deploy" {
  run      = ["cd ${HOME}/app", "make"] # ERROR: Unknown variable
  rollback = "rm -rf ${TMPDIR}/build" # ERROR: Unknown variable
  only_if  = "test -d ${APP_DIR}" # ERROR: Unknown variable
  unless   = "test -f ${LOCK}" # ERROR: Unknown variable
  env = {
    PATH = "${PATH}:/opt/app/bin" # ERROR: Unknown variable
  }
  sudo_user = "${USER}" # ERROR: Unknown variable

  check {
    run = "curl -fsS localhost:${PORT}/health" # ERROR: Unknown variable
  }
}

task "per_host" {
  run = "echo ${target.name} ${HOSTNAME}" # ERROR: Unknown variable
}

task "not_a_shell_variable" {
  run = "echo ${vars.release}" # ERROR: Unknown variable
}

task "escaped" {
  run = "cd $${HOME}/app && echo $HOME"
}
