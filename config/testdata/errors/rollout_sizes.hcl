task "fraction" {
  run   = "true"
  batch = 1.5 # ERROR: Invalid batch in task "fraction"
}

task "huge" {
  run          = "true"
  max_failures = 1e30 # ERROR: Invalid max_failures in task "huge"
}
