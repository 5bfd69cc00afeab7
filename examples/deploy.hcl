# A deploy made of files and commands: upload a release tree, render its
# config with templatefile, switch the "current" link, check health, and
# roll back to the previous release if anything fails. Two "hosts" run on
# this machine through the local transport, each under its own directory,
# so the example runs as it is; on real hosts only the host blocks change.
#
#   fanout plan examples/deploy.hcl          # every transfer, per host
#   fanout apply examples/deploy.hcl         # exits 0
#   fanout apply -var broken=app2 examples/deploy.hcl
#       app2's health check fails: both hosts switch back, exit 1

variable "release" {
  type    = string
  default = "2026-11-30"
}

variable "broken" {
  type        = string
  default     = ""
  description = "A host whose new release never gets healthy."
}

locals {
  root = "/tmp/fanout-deploy-example"
}

host "app1" {
  transport = "local"
  roles     = ["app", "canary"]
}
host "app2" {
  transport = "local"
  roles     = ["app"]
}

task "prepare" {
  description = "Make the host's directories (the releases directory must exist for the upload)"
  run         = "mkdir -p ${local.root}/${target.name}/releases"
}

task "deploy" {
  description = "Upload the release and its config, then switch to it"
  on          = ["app"]

  upload {
    source      = "deploy/release" # a directory: copied whole, its link as a link
    destination = "${local.root}/${target.name}/releases/${var.release}"
  }
  upload {
    content = templatefile("deploy/app.conf.tftpl", {
      host    = target.name
      address = target.address
      roles   = target.roles
      release = var.release
      workers = length(target.roles) * 2
    })
    # Inside the release, so that switching back restores the old config.
    destination = "${local.root}/${target.name}/releases/${var.release}/app.conf"
    mode        = "0640"
  }

  run = [
    # Remember what ran before, for the rollback.
    "cd ${local.root}/${target.name} && { readlink current > previous || : > previous; }",
    "cd ${local.root}/${target.name} && ln -sfn releases/${var.release} current.new && mv -T current.new current",
    "${local.root}/${target.name}/current/bin/app",
  ]
  check {
    # Checks see the host as $FANOUT_HOST (target is for run, rollback,
    # env and files).
    run      = "test $FANOUT_HOST != '${var.broken}' && ${local.root}/$FANOUT_HOST/current/bin/app --health"
    interval = "200ms"
    timeout  = "2s"
  }
  rollback = "cd ${local.root}/${target.name} && if [ -s previous ]; then ln -sfn \"$(cat previous)\" current; else rm -f current; fi; echo \"back on $(readlink current || echo nothing)\""
}

task "fetch_config" {
  description = "Bring each host's rendered config back, one file per host"
  on          = ["app"]
  download {
    source      = "${local.root}/${target.name}/current/app.conf"
    destination = "${local.root}/fetched/${target.name}.conf"
  }
}
