# Transfers of tasks with sudo: plan shows each goes through sudo, as whom.
host "web1" {
  transport = "local"
}

task "deploy" {
  sudo = true
  upload {
    source      = "release"
    destination = "/opt/app/release"
  }
  upload {
    source      = "app.conf"
    destination = "/etc/app/app.conf"
    mode        = "0640"
  }
  run = "systemctl restart app"
}

task "collect" {
  sudo_user = "app"
  download {
    source      = "/var/log/app/app.log"
    destination = "logs/${target.name}.log"
  }
}
