task "a" {
  run = "true"
  env = {
    "1X"        = "a" # ERROR: Invalid environment variable name "1X"
    FANOUT_HOST = "b" # ERROR: Reserved environment variable "FANOUT_HOST"
    LIST        = ["c"] # ERROR: Incorrect attribute value type
  }
}

task "b" {
  run = "true"
  env = ["A=1"] # ERROR: Incorrect attribute value type
}
