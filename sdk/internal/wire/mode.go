package wire

// MaxMode is the largest mode the protocol carries: permission bits with
// setuid, setgid and sticky, as chmod(2) takes them; never type bits.
// sdk.ChmodBits and sdk.ModeFromChmod convert them.
const MaxMode = 0o7777
