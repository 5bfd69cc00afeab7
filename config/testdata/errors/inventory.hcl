host "a" {
  for_each = hostrange("a[10-1]") # ERROR: Invalid function argument
}

host "b" {
  for_each = hostrange("b[1-3") # ERROR: Invalid function argument
}

host "c" {
  for_each = hostrange("c[1-100001]") # ERROR: Invalid function argument
}

host "d" {
  for_each = yamldecode(file("no-such-inventory.yaml")) # ERROR: Invalid function argument
}

host "e" {
  for_each = yamldecode("- [") # ERROR: Error in function call
}

host "f" {
  for_each = { for r in csvdecode("name,zone\nf1,a\nf2") : r.name => r } # ERROR: Invalid function argument
}

host "g" {
  for_each = yamldecode(file("../../../go.mod")) # ERROR: Invalid function argument
}

task "t" {
  run = "true"
}

task "u" {
  run = "echo ${host.f1.address}" # quiet: f1 may be a host of f, whose for_each failed
}
