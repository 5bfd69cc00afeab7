host "web1" {}
host "web2" {}

task "template" {
  upload {
    content     = templatefile("no-such.tftpl", {}) # ERROR: Invalid function argument
    destination = "/etc/app.conf"
  }
}

locals {
  where = target.name # ERROR: target is not available here
}

task "nothing" { # ERROR: Missing required argument
}

task "target_in_timeout" {
  run     = "echo ${target.name}"
  timeout = "${length(target.roles)}s" # ERROR: target is not available here
}
