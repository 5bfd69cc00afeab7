variable "release" {
  type    = string
  default = "v1"
  validation {
    condition     = length(var.release) > 0
    error_message = "" # ERROR: Empty validation error_message for variable "release"
  }
}

task "t" {
  run = "echo ${var.release}"
}
