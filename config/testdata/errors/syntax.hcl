task "a" {
  run = "true"
}

task "b" {
  run = # ERROR: Invalid expression
}

task "c" {
  run = task.nope
}
