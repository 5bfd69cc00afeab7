fanout {
  threads    = 10
  on_failure = "rollback"
  preflight  = true
}

variable "service" {
  type    = string
  default = "app"
}

locals { release = "2026-11-25" }

transport "ssh" {
  user              = "deploy"
  host_key_checking = "strict"
  max_sessions      = 10
}

transport "docker" {
  sha256 = "9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c"
  image  = "alpine"
}

host "web1" {
  address = "10.0.0.11"
  roles   = ["web", "app"]
  port    = 2222
}

host "q1" {
  roles     = ["queue"]
  transport = "docker"
}

task "app_restart" {
  on        = ["app"]
  run       = "sudo systemctl restart ${var.service}"
  rollback  = "sudo systemctl start ${var.service}-previous"
  timeout   = "2m"
  max_hosts = 2
  env       = { RELEASE = local.release }
}

task "queue_restart" {
  on  = ["queue"]
  run = ["echo ${shellquote("it's ${host.q1.address}")}", "true"]
}

task "daemons_restart" {
  run = "true"
}

parallelize "daemons" {
  tasks = [task.daemons_restart]
}

parallelize "restart" {
  threads = 5
  tasks   = [task.app_restart, task.queue_restart, parallelize.daemons]
}
