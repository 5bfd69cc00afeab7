host "web1" {
  address = "10.0.0.1"
}

host "web1" { # ERROR: Duplicate host "web1"
  address = "10.0.0.2"
}

task "a" {
  run = "true"
}
