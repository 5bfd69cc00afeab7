host "web1" {
  roles = ["web", "app"]
}

host "db1" {
  roles = ["db"]
}

task "restart" {
  on  = ["wbe", "db1"] # ERROR: Unknown role or host "wbe"
  run = "systemctl restart app"
}

task "backup" {
  on  = [
    "db",
    "db2", # ERROR: Unknown role or host "db2"
  ]
  run = "backup"
}

task "nothing" {
  on  = [] # ERROR: Task "nothing" runs on no hosts
  run = "true"
}
