host "web1" {}
host "web2" {}

task "template" {
  upload {
    content     = templatefile("no-such.tftpl", {}) # ERROR: Invalid function argument
    destination = "/etc/app.conf"
  }
}

task "target_in_run" {
  run = "echo ${target.name}" # ERROR: Unknown variable
}

task "nothing" { # ERROR: Missing required argument
}
