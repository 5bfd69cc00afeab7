locals {
  a = "${local.b}-a"
  b = "${local.c}-b"
  c = "${local.a}-c" # ERROR: Circular reference to local.a
  d = local.d # ERROR: Circular reference to local.d
  e = "${local.a}-e"
}

task "t" {
  run = "echo ${local.e}"
}
