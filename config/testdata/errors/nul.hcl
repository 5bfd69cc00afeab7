task "a" {
  run = "echo a\u0000b" # ERROR: NUL character in a command of task "a"
}

task "b" {
  run = [
    "true",
    "printf '${"\u0000"}'", # ERROR: NUL character in a command of task "b"
  ]
  rollback = "echo \u0000" # ERROR: NUL character in a command of task "b"
}

task "c" {
  run = "true"
  env = {
    OK  = "fine"
    BAD = "x\u0000y" # ERROR: NUL character in env "BAD"
  }
}
