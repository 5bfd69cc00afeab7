# A shell's parameter expansion is no expression: the error says how to
# pass it on.
task "rename" {
  run = "for f in *.txt; do mv \"$f\" \"${f%.txt}.bak\"; done" # ERROR: Invalid expression
}
