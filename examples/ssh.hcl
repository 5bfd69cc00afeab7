# A rolling restart over SSH, for real servers. The app runs as systemd
# template units, one per release (app@2026-12-01); moving a server to a new
# release starts the new unit, waits until it is active, then stops the old
# one. The app servers move one at a time (max_hosts = 1), the queue workers
# with them, and the web servers reload nginx afterwards, one at a time. If
# anything fails, every server that started moving goes back to the
# previous release.
#
# validate and plan contact no host, so they work as they are:
#
#   fanout validate examples/ssh.hcl
#   fanout plan examples/ssh.hcl
#   fanout plan -var release=2026-12-08 -var previous=2026-12-01 examples/ssh.hcl
#
# apply needs the servers below (edit the host blocks), your key in the
# ssh-agent (eval $(ssh-agent); ssh-add) and the servers' keys in
# ~/.ssh/known_hosts. To run these same tasks on a local fleet of test sshd
# servers instead, see "Run over SSH" in README.md:
#
#   go run ./internal/sshtest/cmd/sshfleet -hosts 3   # then, in another terminal:
#   fanout apply fleet/

fanout {
  threads    = 4
  on_failure = "rollback"
}

# Settings of the ssh transport, shared by every host. Not set here, and
# taken from ~/.ssh/config when it has them: Port, IdentityFile,
# IdentityAgent, ProxyJump.
transport "ssh" {
  user              = "deploy"
  host_key_checking = "strict" # refuse a host whose key is not in ~/.ssh/known_hosts
  max_sessions      = 4        # commands at once on one host's connection
  connect_timeout   = "10s"
}

# Roles are what tasks select with `on`; a host can have several.
host "web1" {
  address = "web1.example.com"
  roles   = ["web", "app"]
}

host "web2" {
  address = "web2.example.com"
  roles   = ["web", "app"]
}

host "app1" {
  address = "203.0.113.10"
  port    = 2222 # a host block can also set user, identity_file, proxy_jump
  roles   = ["app"]
}

variable "release" {
  type        = string
  default     = "2026-12-01"
  description = "The release the app restarts into."
}

variable "previous" {
  type        = string
  default     = "2026-11-25"
  description = "The release running now, restored by a rollback."
}

variable "systemctl" {
  type        = string
  default     = "sudo systemctl"
  description = "How services are controlled on the hosts. sshfleet's copy of this file points it at a stand-in: its hosts have no systemd."
}

# One app server at a time: the others keep serving.
task "app_restart" {
  description = "Move the app to the new release, one server at a time"
  on          = ["app"]
  max_hosts   = 1
  timeout     = "2m"
  run = [
    "${var.systemctl} start app@${var.release}",
    "for i in $(seq 30); do ${var.systemctl} is-active --quiet app@${var.release} && exit 0; sleep 1; done; echo 'app@${var.release} did not become active' >&2; exit 1",
    "${var.systemctl} stop app@${var.previous}",
    "echo \"app@${var.release} is live on $FANOUT_HOST\"",
  ]
  rollback = "${var.systemctl} start app@${var.previous} && ${var.systemctl} stop app@${var.release}"
}

# The queue workers of every app server, two servers at a time.
task "worker_restart" {
  description = "Restart the queue workers into the new release"
  on          = ["app"]
  max_hosts   = 2
  timeout     = "1m"
  run = [
    "${var.systemctl} start worker@${var.release}",
    "${var.systemctl} stop worker@${var.previous}",
  ]
  rollback = "${var.systemctl} start worker@${var.previous} && ${var.systemctl} stop worker@${var.release}"
}

# The app and the workers move at the same time, and roll back together.
parallelize "restart" {
  threads = 2
  tasks   = [task.app_restart, task.worker_restart]
}

# Runs after the group, only if every server moved.
task "web_reload" {
  description = "Reload nginx so that it routes to the new release"
  on          = ["web"]
  max_hosts   = 1
  timeout     = "30s"
  run         = "${var.systemctl} reload nginx"
  rollback    = "${var.systemctl} reload nginx"
}
