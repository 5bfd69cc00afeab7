# Switches and other devices with no /bin/sh: their own command line reads
# every command. raw = true sends the commands to them as they are, as
# `ssh sw01 'show version'` does, and gives up what fanout's shell wrapper
# gives servers (a command stopped on Ctrl-C, a timeout or a dropped
# connection; env): README.md, "Run over SSH", and docs/security.md.
#
#   fanout validate examples/devices.hcl
#   fanout plan examples/devices.hcl
#   fanout exec -hosts 'sw[01-04].example.net' -raw -l netops -- show version

transport "ssh" {
  user = "netops"
}

host "sw" {
  for_each = hostrange("sw[01-04].example.net")
  roles    = ["switch"]
  raw      = true
}

# A server beside them keeps fanout's wrapper.
host "tftp" {
  address = "tftp.example.net"
}

task "save" {
  description = "Save each switch's running configuration to its startup configuration"
  on          = ["switch"]
  max_hosts   = 2
  timeout     = "1m"
  run         = "write memory"
}

task "archive" {
  description = "Keep a dated copy of the configurations the switches sent to the TFTP server"
  on          = ["tftp"]
  run         = "d=/srv/tftp/archive/$(date +%F) && mkdir -p \"$d\" && cp /srv/tftp/sw*.cfg \"$d\"/"
}
