variable "port" {
  type    = number
  default = "eighty" # ERROR: Invalid default for variable "port"
}

variable "names" {
  type    = lsit(string) # ERROR: Invalid type specification
  default = []
}

variable "ref" {
  default = var.port # ERROR: Invalid default for variable "ref"
}

task "a" {
  run = "true"
}
