task "a" {
  run = "true"
}

task "b" {
  run = "true"
}

parallelize "g" {
  tasks = [task.a]
}

parallelize "g" { # ERROR: Duplicate parallelize "g"
  tasks = [task.b]
}
