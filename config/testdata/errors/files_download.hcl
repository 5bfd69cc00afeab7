host "web1" {}
host "web2" {}

task "shared_cleaned" {
  download {
    source      = "/var/log/app.log"
    destination = target.name == "web1" ? "logs/x.log" : "./logs/../logs/x.log" # ERROR: Download destination shared by hosts in task "shared_cleaned"
  }
}

task "shared_by_two" {
  download {
    source      = "/var/log/a.log"
    destination = "logs/${target.name}.log"
  }
  download {
    source      = "/var/log/b.log"
    destination = "logs/${target.name}.log" # ERROR: Download destination shared by downloads of task "shared_by_two"
  }
}
