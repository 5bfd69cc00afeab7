package sdk_test

import (
	"fmt"
	"io/fs"
	"testing"

	"github.com/fanout/fanout/sdk"
)

func TestChmodBits(t *testing.T) {
	for _, tc := range []struct {
		mode fs.FileMode
		want string
	}{
		{0o644, "0644"},
		{0o755 | fs.ModeSetuid, "4755"},
		{0o775 | fs.ModeSetgid | fs.ModeDir, "2775"},
		{0o777 | fs.ModeSticky, "1777"},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			bits := sdk.ChmodBits(tc.mode)
			if got := fmt.Sprintf("%04o", bits); got != tc.want {
				t.Errorf("ChmodBits = %s, want %s", got, tc.want)
			}
			if got := sdk.ChmodOctal(tc.mode); got != tc.want {
				t.Errorf("ChmodOctal = %s, want %s", got, tc.want)
			}
			if back, want := sdk.ModeFromChmod(bits), tc.mode&^fs.ModeType; back != want {
				t.Errorf("ModeFromChmod(%04o) = %v, want %v", bits, back, want)
			}
		})
	}
}
