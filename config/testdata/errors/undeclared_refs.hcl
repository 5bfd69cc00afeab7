variable "service" {
  default = "app"
}

locals {
  release = "1"
}

host "web1" {}

task "a" {
  run = "restart ${var.servce}" # ERROR: Reference to undeclared variable "servce"
}

task "b" {
  run = "deploy ${local.relase}" # ERROR: Reference to undeclared local value "relase"
}

task "c" {
  run = "ping ${host.web2.address}" # ERROR: Reference to undeclared host "web2"
}

task "d" {
  run = "echo ${task.a}" # ERROR: Invalid reference
}

task "e" {
  run = "echo ${servce}" # ERROR: Unknown variable
}
