task "a" {
  run = [] # ERROR: Empty run in task "a"
}

task "b" {
  run = ["make", "  "] # ERROR: Empty command in task "b"
}

task "c" { # ERROR: Missing required argument
  description = "no run"
}

task "d" {
  run      = "true"
  rollback = "" # ERROR: Empty command in task "d"
}
