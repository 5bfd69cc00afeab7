transport "ssh" {
}

transport "docker" {
}

host "a" {
  transport = "" # ERROR: Empty transport for host "a"
}

host "b" {
  transport = "shh" # ERROR: Unknown transport "shh"
}

host "c" {
  transport = "docker"
}

task "t" {
  run = "true"
}
