variable "service" {
  default = "app"
}

variable "service" { # ERROR: Duplicate variable "service"
  default = "web"
}

task "a" {
  run = "systemctl restart ${var.service}"
}
