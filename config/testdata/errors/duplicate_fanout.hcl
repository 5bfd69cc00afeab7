fanout {
  threads = 4
}

fanout { # ERROR: Duplicate fanout block
  threads = 8
}

task "a" {
  run = "true"
}
