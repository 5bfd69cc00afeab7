package wire

import "io/fs"

// MaxMode is the largest mode the protocol carries: permission bits with
// setuid, setgid and sticky, as chmod(2) takes them; never type bits.
const MaxMode = 0o7777

// ModeFromProto turns a mode from the wire (chmod's bits) into an
// fs.FileMode, setuid, setgid and sticky in fs's own bits. Bits beyond
// MaxMode are dropped.
func ModeFromProto(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// ModeToProto is the inverse of ModeFromProto: the type bits of mode are
// dropped.
func ModeToProto(mode fs.FileMode) uint32 {
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
