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

task "d" {
  run = 5 # ERROR: Incorrect attribute value type
}

task "e" {
  run = [
    "true",
    false, # ERROR: Incorrect attribute value type
  ]
}

task "f" {
  run      = "true"
  rollback = 1 # ERROR: Incorrect attribute value type
}
