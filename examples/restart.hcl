# The seed's example: restart three services at once, each able to undo
# itself. With no host blocks, every task runs on one implicit host,
# "localhost", through the embedded local transport: nothing to set up.
#
#   fanout plan examples/restart.hcl
#   fanout apply examples/restart.hcl
#   fanout apply -var release=2026-12-01 examples/restart.hcl

fanout {
  threads    = 10         # default threads of every parallelize block
  on_failure = "rollback" # rollback | stop | continue
}

variable "release" {
  type        = string
  default     = "2026-11-25"
  description = "The release the services restart into."
}

locals {
  state = "/tmp/fanout-example"
}

task "app_restart" {
  description = "Restart the application server"
  run = [
    "mkdir -p ${local.state}",
    "echo \"restarting app into release $RELEASE\"",
    "sleep 1",
    "echo ${var.release} > ${local.state}/app.release",
  ]
  rollback = "echo 'app: back to the previous release'; rm -f ${local.state}/app.release"
  timeout  = "30s"
  env      = { RELEASE = var.release }
}

task "queue_restart" {
  description = "Restart the queue workers"
  run = [
    "mkdir -p ${local.state}",
    "echo 'draining queue workers'",
    "sleep 1",
    "echo 'queue workers up'",
    "touch ${local.state}/queue.restarted",
  ]
  rollback = "echo 'queue: restoring previous workers'; rm -f ${local.state}/queue.restarted"
  timeout  = "30s"
}

task "cache_restart" {
  description = "Restart the cache, warming it first"
  run = [
    "mkdir -p ${local.state}",
    "echo 'warming cache'",
    "sleep 1",
    "touch ${local.state}/cache.restarted",
  ]
  rollback = "echo 'cache: restoring previous cache'; rm -f ${local.state}/cache.restarted"
  timeout  = "30s"
}

# cap-ext-parallelize's `parallelize(5) do ... end`: the three restarts run
# at once, at most five at a time, and roll back together.
parallelize "restart" {
  threads = 5
  tasks   = [task.app_restart, task.queue_restart, task.cache_restart]
}

# Runs after the group, only if every restart succeeded.
task "verify" {
  run = "test -f ${local.state}/app.release && echo \"release $(cat ${local.state}/app.release) is live on $FANOUT_HOST\""
}
