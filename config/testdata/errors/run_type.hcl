task "a" {
  run = { cmd = "true" } # ERROR: Invalid run in task "a"
}

task "b" {
  run = [
    "true",
    ["nested"], # ERROR: Incorrect attribute value type
  ]
}

task "c" {
  run      = "true"
  rollback = { undo = "true" } # ERROR: Invalid rollback in task "c"
}
