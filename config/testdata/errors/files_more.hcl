host "web1" {}
host "web2" {}

task "template" {
  upload {
    content     = templatefile("no-such.tftpl", {}) # ERROR: Invalid function argument
    destination = "/etc/app.conf"
  }
}

locals {
  where = target.name # ERROR: Unknown variable
}

task "nothing" { # ERROR: Missing required argument
}
