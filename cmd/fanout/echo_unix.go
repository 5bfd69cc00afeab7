//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package main

import "golang.org/x/sys/unix"

// echoOff turns the terminal's echo off before a secret's question is
// shown. term.ReadPassword turns it off too, but only as it starts to
// read, after the question: an answer typed in between (by a quick typist
// who knows the question, or a test that waits for it) was echoed, the
// passphrase on the screen. The caller puts back the state it saved.
func echoOff(fd int) error {
	t, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return err
	}
	t.Lflag &^= unix.ECHO
	return unix.IoctlSetTermios(fd, ioctlSetTermios, t)
}
