package ssh

import "testing"

// TestPercentExpand: %% is %, a known token its value, an unknown one or
// a % at the end stays, as OpenSSH's percent_expand leaves them.
func TestPercentExpand(t *testing.T) {
	value := func(c byte) (string, bool) {
		switch c {
		case 'h':
			return "web1", true
		case 'p':
			return "22", true
		}
		return "", false
	}
	for in, want := range map[string]string{
		"":              "",
		"plain":         "plain",
		"%h:%p":         "web1:22",
		"%%h":           "%h",
		"%%%h":          "%web1",
		"%q%h":          "%qweb1",
		"ends with %":   "ends with %",
		"%h.example.%h": "web1.example.web1",
	} {
		if got := percentExpand(in, value); got != want {
			t.Errorf("percentExpand(%q) = %q, want %q", in, got, want)
		}
	}
}
