variable "service" { # ERROR: No value for required variable
  type = string
}

task "restart" {
  run = "systemctl restart ${var.service}"
}
