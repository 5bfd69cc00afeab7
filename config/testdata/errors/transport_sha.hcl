transport "docker" {
  sha256 = "9f2c" # ERROR: Invalid sha256 for transport "docker"
}

transport "ssh" {
  sha256 = "9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c" # ERROR: Unexpected sha256 for transport "ssh"
}

task "a" {
  run = "true"
}
