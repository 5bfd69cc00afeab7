host "web" {
  for_each  = ["w1", "w2", "w3", "w4"]
  transport = "local"
}
locals {
  first = host.web.address # ERROR: Reference to host "web", a for_each block
}
task "t" {
  run = "echo ${local.first}"
}
