host "web1" {
  transport = "local"
}

task "t" {
  on  = [host.web1] # ERROR: Incorrect attribute value type
  run = "true"
}
