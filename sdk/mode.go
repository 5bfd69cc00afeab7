package sdk

import (
	"fmt"
	"io/fs"
)

// ChmodBits returns mode as chmod(2) and the protocol take it: the
// permission bits, with setuid, setgid and sticky as 04000, 02000 and
// 01000 rather than fs's own bits. Type bits are dropped. A transport that
// sets a mode on a host with a chmod command writes these bits in octal
// (ChmodOctal).
func ChmodBits(mode fs.FileMode) uint32 {
	m := uint32(mode.Perm())
	if mode&fs.ModeSetuid != 0 {
		m |= 0o4000
	}
	if mode&fs.ModeSetgid != 0 {
		m |= 0o2000
	}
	if mode&fs.ModeSticky != 0 {
		m |= 0o1000
	}
	return m
}

// ChmodOctal returns mode as chmod(1) takes it and people read it: its
// ChmodBits in four octal digits ("0644", "4755").
func ChmodOctal(mode fs.FileMode) string {
	return fmt.Sprintf("%04o", ChmodBits(mode))
}

// ModeFromChmod is the inverse of ChmodBits: it turns chmod's bits into an
// fs.FileMode. Bits beyond 07777 are dropped.
func ModeFromChmod(bits uint32) fs.FileMode {
	mode := fs.FileMode(bits & 0o777)
	if bits&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if bits&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if bits&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}
