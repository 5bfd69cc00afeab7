task "norun" {
  run = "true"
  check { # ERROR: Missing run in the check of task "norun"
    interval = "1s"
  }
}

task "slow" {
  run = "true"
  check {
    run      = "true"
    interval = "2m" # ERROR: Check interval longer than its timeout in task "slow"
    timeout  = "1m"
  }
}

task "zero" {
  run = "true"
  check {
    run     = "true"
    timeout = "0s" # ERROR: Invalid timeout in task "zero"
  }
}

task "two" {
  run = "true"
  check {
    run = "true"
  }
  check { # ERROR: Duplicate check block in task "two"
    run = "false"
  }
}

task "default_timeout" {
  run = "true"
  check {
    run      = "true"
    interval = "90s" # ERROR: Check interval longer than its timeout in task "default_timeout"
  }
}

task "hammer" {
  run = "true"
  check {
    run      = "true"
    interval = "1ns" # ERROR: Check interval too short in task "hammer"
  }
}
