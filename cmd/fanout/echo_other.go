//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package main

// echoOff does nothing here: term.ReadPassword turns echo off itself as
// it starts to read, so only an answer typed before that is echoed.
func echoOff(int) error { return nil }
