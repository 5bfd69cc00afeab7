task "migrate" {
  run = "make migrate"
}

task "web" {
  run = "make web"
}

parallelize "first" {
  tasks = [task.migrate, task.web]
}

parallelize "second" {
  tasks = [
    task.migrate, # ERROR: Task "migrate" in two groups
  ]
}

parallelize {
  tasks = [parallelize.first, parallelize.first] # ERROR: Parallelize "first" listed twice
}
