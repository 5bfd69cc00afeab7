task "a" {
  run = "true"
}

parallelize "one" {
  tasks = [task.a, parallelize.two] # ERROR: Cycle of parallelize blocks
}

parallelize "two" {
  tasks = [parallelize.three]
}

parallelize "three" {
  tasks = [parallelize.one]
}
