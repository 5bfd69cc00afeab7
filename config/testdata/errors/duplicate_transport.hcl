transport "ssh" {
  user = "deploy"
}

transport "ssh" { # ERROR: Duplicate transport "ssh"
  user = "root"
}

task "a" {
  run = "true"
}
