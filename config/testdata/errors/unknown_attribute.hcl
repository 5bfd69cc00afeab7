task "a" {
  run     = "true"
  command = "true" # ERROR: Unsupported argument
}

tsak "b" { # ERROR: Unsupported block type
  run = "true"
}

variable "v" {
  default = "x"
  validaton { # ERROR: Unsupported block type
    condition = true
  }
}

threads = 4 # ERROR: Unsupported argument

fanout {
  thread = 4 # ERROR: Unsupported argument
}
