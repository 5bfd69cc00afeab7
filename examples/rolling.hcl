# A rolling restart with a canary, waves, a health check and a failure
# budget, on eight "hosts" that all run on this machine through the local
# transport: each has its own state directory, and its service is a file
# that becomes healthy a second after the restart, as a real one warms up.
#
#   fanout plan examples/rolling.hcl
#   fanout apply examples/rolling.hcl                         # exits 0
#   fanout apply -var bad_host=web05 examples/rolling.hcl     # web05 never gets
#       healthy: it is rolled back and dropped, the others finish; exit 1,
#       "partial: 1 of 8 hosts dropped, rolled back"
#   fanout apply -var bad_host=web01 examples/rolling.hcl     # the canary fails:
#       nothing else runs, and the canary is rolled back

variable "release" {
  type    = string
  default = "2026-11-25"
}

variable "bad_host" {
  type        = string
  default     = ""
  description = "A host whose service never comes back healthy."
}

variable "state" {
  type        = string
  default     = "/tmp/fanout-rolling"
  description = "Where the hosts keep their state (tests give each run its own)."
}

host "web01" {
  transport = "local"
  roles     = ["app"]
}
host "web02" {
  transport = "local"
  roles     = ["app"]
}
host "web03" {
  transport = "local"
  roles     = ["app"]
}
host "web04" {
  transport = "local"
  roles     = ["app"]
}
host "web05" {
  transport = "local"
  roles     = ["app"]
}
host "web06" {
  transport = "local"
  roles     = ["app"]
}
host "web07" {
  transport = "local"
  roles     = ["app"]
}
host "web08" {
  transport = "local"
  roles     = ["app"]
}

task "stage" {
  description = "Stage the release beside the running one"
  on          = ["app"]
  run         = "mkdir -p ${var.state}/$FANOUT_HOST && echo ${var.release} > ${var.state}/$FANOUT_HOST/staged"
  rollback    = "rm -f ${var.state}/$FANOUT_HOST/staged"
}

task "restart" {
  description = "Switch to the release and restart, a wave at a time"
  on          = ["app"]

  batch        = [1, "25%"] # a canary, then two hosts at a time (the last size repeats)
  pause        = "500ms"    # between waves, once the wave's checks passed
  max_failures = 1          # per wave: one host may fail, be rolled back and dropped
  only_if      = "test -f ${var.state}/$FANOUT_HOST/staged"
  retries      = 1 # the restart itself is tried twice before it counts as failed
  retry_delay  = "200ms"

  run = [
    "cp ${var.state}/$FANOUT_HOST/staged ${var.state}/$FANOUT_HOST/live",
    "date +%s > ${var.state}/$FANOUT_HOST/started",
    "echo \"restarted into $(cat ${var.state}/$FANOUT_HOST/live)\"",
  ]
  check {
    # Healthy a second after the restart, except on var.bad_host.
    run      = "test $FANOUT_HOST != '${var.bad_host}' && test $(( $(date +%s) - $(cat ${var.state}/$FANOUT_HOST/started) )) -ge 1 || { echo 'not ready yet'; exit 1; }"
    interval = "500ms"
    timeout  = "5s"
  }
  rollback = "rm -f ${var.state}/$FANOUT_HOST/live ${var.state}/$FANOUT_HOST/started; echo 'back on the previous release'"
}

task "announce" {
  on  = ["app"]
  run = "echo \"$FANOUT_HOST serves $(cat ${var.state}/$FANOUT_HOST/live)\""
}
