task "a" {
  run       = "true"
  max_hosts = 0 # ERROR: Invalid max_hosts in task "a"
}

task "b" {
  run       = "true"
  max_hosts = 1.5 # ERROR: Invalid max_hosts in task "b"
}

task "c" {
  run       = "true"
  max_hosts = "2" # ERROR: Incorrect attribute value type
}
