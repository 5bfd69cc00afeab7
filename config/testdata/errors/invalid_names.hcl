task "9lives" { # ERROR: Invalid task name "9lives"
  run = "true"
}

variable "my var" { # ERROR: Invalid variable name "my var"
  default = "x"
}

parallelize "g" "extra" { # ERROR: Extraneous label for parallelize
  tasks = [task.ok]
}

task "ok" {
  run = "true"
}

task "-restart" { # ERROR: Invalid task name "-restart"
  run = "true"
}

host "" { # ERROR: Invalid host name ""
}

task { # ERROR: Missing name for task
  run = "true"
}
