task "a" {
  run     = "true"
  timeout = "90" # ERROR: Invalid timeout in task "a"
}

task "b" {
  run     = "true"
  timeout = "0s" # ERROR: Invalid timeout in task "b"
}

task "c" {
  run     = "true"
  timeout = "-1m" # ERROR: Invalid timeout in task "c"
}

task "d" {
  run     = "true"
  timeout = 90 # ERROR: Invalid timeout in task "d"
}
