fanout {
  sudo_password = "hunter22" # ERROR: Invalid sudo_password
}
