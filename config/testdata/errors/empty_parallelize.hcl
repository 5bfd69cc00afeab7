task "a" {
  run = "true"
}

parallelize "g" {
  tasks = [] # ERROR: No tasks in parallelize "g"
}

parallelize {
  tasks = [] # ERROR: No tasks in parallelize block
}

parallelize "computed" {
  tasks = concat([task.a]) # ERROR: Invalid tasks list
}
