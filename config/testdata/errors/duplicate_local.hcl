locals {
  release = "1"
}

locals {
  release = "2" # ERROR: Duplicate local value "release"
}

task "a" {
  run = "deploy ${local.release}"
}
