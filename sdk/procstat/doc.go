// Package procstat reads the Linux process table: each process's
// /proc/PID/stat line, of which it keeps the pid, the command name, the
// state, and the parent, process group and session.
//
// A plugin that runs commands on this machine must make them die with it
// (docs/plugins.md, "When a plugin fails"): the built-in local transport
// asks it whether a killed command's process group still has a live
// member; fanout's host side asks it which processes a crashed plugin
// left; sdk/sdktest, whether a plugin's command outlived the plugin. The
// line is easy to misread: the command name is whatever the program set,
// spaces and parentheses included, so the fields after it are counted
// from its last ')'. This package is that reading, once.
//
// It reads /proc and nothing else. On a system without it, Read and All
// return errors; Parse works anywhere.
package procstat
