task "zero" {
  run   = "true"
  batch = 0 # ERROR: Invalid batch in task "zero"
}

task "zero_pct" {
  run   = "true"
  batch = "0%" # ERROR: Invalid batch in task "zero_pct"
}

task "over" {
  run   = "true"
  batch = [1, "150%"] # ERROR: Invalid batch in task "over"
}

task "words" {
  run   = "true"
  batch = "half" # ERROR: Invalid batch in task "words"
}

task "empty" {
  run   = "true"
  batch = [] # ERROR: Invalid batch in task "empty"
}
