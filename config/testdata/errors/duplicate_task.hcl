task "build" {
  run = "make"
}

task "build" { # ERROR: Duplicate task "build"
  run = "make all"
}
