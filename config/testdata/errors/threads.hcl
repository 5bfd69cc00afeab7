fanout {
  threads = 0 # ERROR: Invalid threads
}

task "a" {
  run = "true"
}

task "b" {
  run = "true"
}

parallelize "half" {
  threads = 2.5 # ERROR: Invalid threads
  tasks   = [task.a]
}

parallelize "negative" {
  threads = -1 # ERROR: Invalid threads
  tasks   = [task.b]
}

parallelize "text" {
  threads = "many" # ERROR: Incorrect attribute value type
  tasks   = [parallelize.half]
}

parallelize "quoted" {
  threads = "3" # ERROR: Incorrect attribute value type
  tasks   = [parallelize.negative]
}
