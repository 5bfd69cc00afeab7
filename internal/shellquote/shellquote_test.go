package shellquote

import (
	"os/exec"
	"testing"
)

// TestWordsReadBack: what Quote and Word write, /bin/sh reads back as the
// one word given.
func TestWordsReadBack(t *testing.T) {
	for _, s := range []string{"plain", "deploy/site.hcl", "", "my dir", "it's", `a"b`, "$HOME", "*", "x\ny", "-n"} {
		for name, quote := range map[string]func(string) string{"Quote": Quote, "Word": Word} {
			out, err := exec.Command("/bin/sh", "-c", `printf %s `+quote(s)).Output()
			if err != nil || string(out) != s {
				t.Errorf("%s(%q) read back as %q, %v", name, s, out, err)
			}
		}
	}
	if Word("deploy/site.hcl") != "deploy/site.hcl" || Word("my dir") != "'my dir'" {
		t.Errorf("Word quotes what needs it only: %q, %q", Word("deploy/site.hcl"), Word("my dir"))
	}
}
