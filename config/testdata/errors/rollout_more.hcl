task "negative" {
  run          = "true"
  max_failures = -1 # ERROR: Invalid max_failures in task "negative"
}

task "negative_pct" {
  run          = "true"
  max_failures = "-10%" # ERROR: Invalid max_failures in task "negative_pct"
}

task "pause" {
  run   = "true"
  batch = 2
  pause = "soon" # ERROR: Invalid pause in task "pause"
}

task "retries" {
  run         = "true"
  retries     = -2 # ERROR: Invalid retries in task "retries"
  retry_delay = "-1s" # ERROR: Invalid retry_delay in task "retries"
}

task "conditions" {
  run     = "true"
  only_if = [] # ERROR: Empty only_if in task "conditions"
  unless  = "" # ERROR: Empty command in task "conditions"
}

task "useless" {
  run         = "true"
  pause       = "1s" # ERROR: Useless pause in task "useless"
  retry_delay = "1s" # ERROR: Useless retry_delay in task "useless"
}
