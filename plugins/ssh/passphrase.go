package ssh

import (
	"fmt"
	"os"

	"golang.org/x/term"
)

// ttyPassphrase asks for a passphrase on the controlling terminal, as
// OpenSSH does, without echo. The plugin process shares fanout's terminal;
// its standard streams belong to go-plugin, so it opens /dev/tty itself.
// With no controlling terminal (CI, cron, a pipe) it fails at once and the
// caller reports the key instead of hanging on a question nobody sees.
func ttyPassphrase(prompt string) ([]byte, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("no terminal to ask on")
	}
	defer tty.Close()
	if !term.IsTerminal(int(tty.Fd())) {
		return nil, fmt.Errorf("no terminal to ask on")
	}
	fmt.Fprint(tty, prompt)
	pass, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	return pass, err
}
