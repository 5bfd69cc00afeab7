task "build" {
  run = "make"
}

task "deploy" {
  run = "make deploy"
}

parallelize "all" {
  tasks = [
    task.biuld,          # ERROR: Reference to undeclared task "biuld"
    parallelize.nope,    # ERROR: Reference to undeclared parallelize block "nope"
    var.x,               # ERROR: Invalid reference in tasks
    "deploy",            # ERROR: Invalid reference in tasks
    task.build.name,     # ERROR: Invalid reference in tasks
    task["build"],       # ERROR: Invalid reference in tasks
  ]
}
