variable "plain" {
  default = "hunter22"
}

variable "secret" {
  sensitive = true
  default   = "hunter22"
}

fanout {
  sudo_password = var.plain # ERROR: Invalid sudo_password
}

task "a" {
  run       = "true"
  sudo_user = "-u root" # ERROR: Invalid sudo_user in task "a"
}

task "b" {
  run       = "true"
  sudo      = false
  sudo_user = "app" # ERROR: Conflicting sudo and sudo_user in task "b"
}

task "c" {
  run  = "true"
  sudo = "yes" # ERROR: Incorrect attribute value type
}
