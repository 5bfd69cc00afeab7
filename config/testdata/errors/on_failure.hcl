fanout {
  on_failure = "rollbak" # ERROR: Invalid on_failure
}

task "a" {
  run = "true"
}
