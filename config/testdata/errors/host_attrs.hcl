host "a" {
  address = "  " # ERROR: Empty address for host "a"
}

host "b" {
  roles = ["web", ""] # ERROR: Invalid role ""
}

host "c" {
  roles = "web" # ERROR: Incorrect attribute value type
}

task "t" {
  on  = ["web"]
  run = "true"
}
