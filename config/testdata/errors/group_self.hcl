task "a" {
  run = "true"
}

parallelize "loop" {
  tasks = [task.a, parallelize.loop] # ERROR: Parallelize "loop" contains itself
}
