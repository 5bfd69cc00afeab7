host "a" {
  for_each = ["a1", "a3", "a1"] # ERROR: Duplicate for_each key "a1"
}

host "b" {
  for_each = 3 # ERROR: Invalid for_each argument
}

host "c" {
  for_each = [{ name = "c1" }] # ERROR: Invalid for_each argument
}

host "d" {
  for_each = { "d 1" = 1 } # ERROR: Invalid for_each argument
}

host "d2" {
  for_each = ["web\u001b]0;pwned\u0007", "ok2"] # ERROR: Invalid for_each argument
}

host "d3" {
  for_each = ["web\u202e1"] # ERROR: Invalid for_each argument
}

host "a2" {
}

host "e" {
  for_each = ["e1", "a2"] # ERROR: Duplicate host "a2"
  vars     = "fast"         # ERROR: Incorrect attribute value type
}

host "f" {
  for_each = hostrange("f[1-2]")
  address  = each.nope # ERROR: Unsupported attribute
}

host "g" {
  address = each.key # ERROR: Reference to each outside for_each
}

task "t" {
  on  = ["a", "b", "c", "d", "e", "f"]
  run = "true"
}
