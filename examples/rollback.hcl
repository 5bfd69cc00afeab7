# A run that fails, to show the rollback cascade. The migration finishes,
# then three restarts run in parallel; the queue restart fails after a
# moment. What follows, as README.md ("The language in brief", on_failure) describes:
#   1. nothing new starts: the "announce" task never runs;
#   2. the restarts already running finish;
#   3. rollbacks run: the failed task first, then every task that started,
#      newest first, the inner group before the group that holds it, up to
#      the migration that finished before the group began;
#   4. fanout exits 1 and the summary names the cause.
#
#   fanout apply examples/rollback.hcl; echo "exit code $?"

locals {
  state = "/tmp/fanout-rollback-example"
}

task "migrate" {
  run      = ["mkdir -p ${local.state}", "echo 'schema v2 applied' | tee ${local.state}/schema"]
  rollback = "echo 'restoring schema v1'; rm -f ${local.state}/schema"
}

task "app_restart" {
  run      = ["echo 'restarting app'", "sleep 2", "echo 'app up'"]
  rollback = "echo 'app: starting previous release'"
}

task "queue_restart" {
  run      = ["echo 'restarting queue workers'", "sleep 0.5", "echo 'queue: workers did not come back' >&2", "exit 3"]
  rollback = "echo 'queue: starting previous workers'"
}

task "mailer_restart" {
  run      = ["echo 'restarting mailer'", "sleep 1", "echo 'mailer up'"]
  rollback = "echo 'mailer: starting previous release'"
}

task "metrics_restart" {
  run = "echo 'metrics restarted (no rollback needed)'"
}

parallelize "daemons" {
  threads = 2
  tasks   = [task.mailer_restart, task.metrics_restart]
}

parallelize "restart" {
  threads = 5
  tasks   = [task.app_restart, task.queue_restart, parallelize.daemons]
}

task "announce" {
  run = "echo 'release is live'"
}
