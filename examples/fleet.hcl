# A fleet of 60 hosts in a few lines: 40 web servers named by a nodeset
# pattern, 20 databases read from a YAML inventory. `fanout plan` shows it.
host "web" {
  for_each = hostrange("web[01-40].example.com")
  roles    = ["frontend"]
  vars     = { weight = 3 }
}

host "db" {
  for_each = yamldecode(file("inventory/db.yaml"))
  address  = each.value.address
  port     = lookup(each.value, "port", 22)
  vars     = { zone = each.value.zone, weight = each.value.weight }
}

task "uptime" {
  description = "How long every host has been up"
  run         = "uptime"
}

task "nginx_reload" {
  on        = ["web"]
  max_hosts = 10
  run       = "sudo systemctl reload nginx"
}
