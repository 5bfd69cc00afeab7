host "web1" {}
host "web2" {}

task "both" {
  upload { # ERROR: Upload needs source or content in task "both"
    source      = "env.hcl"
    content     = "x"
    destination = "/etc/x"
  }
}

task "neither" {
  upload { # ERROR: Upload needs source or content in task "neither"
    destination = "/etc/x"
  }
}

task "paths" {
  upload {
    source      = "no-such-file.tgz" # ERROR: Invalid upload source "no-such-file.tgz"
    destination = "etc/relative" # ERROR: Invalid destination "etc/relative"
  }
  upload {
    source      = "../../../../../../../../../../x" # ERROR: Invalid upload source "../../../../../../../../../../x"
    destination = "/opt/app/" # ERROR: Invalid destination "/opt/app/"
    mode        = "0968" # ERROR: Invalid mode "0968"
  }
}

task "shared_download" {
  download {
    source      = "/var/log/app.log"
    destination = "logs/app.log" # ERROR: Download destination shared by hosts in task "shared_download"
  }
}

task "shared_per_host" {
  download {
    source      = "/var/log/${target.name}.log"
    destination = "logs/${length(target.roles)}.log" # ERROR: Download destination shared by hosts in task "shared_per_host"
  }
}
