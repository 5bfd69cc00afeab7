package views

import "testing"

// TestSuggest: a suggested command names the configuration unless it is
// the current directory, as one shell word.
func TestSuggest(t *testing.T) {
	for _, tt := range []struct{ config, want string }{
		{"", "fanout rollback ID"},
		{".", "fanout rollback ID"},
		{"deploy/site.hcl", "fanout rollback ID deploy/site.hcl"},
		{"/srv/ops", "fanout rollback ID /srv/ops"},
		{"my dir/x.hcl", "fanout rollback ID 'my dir/x.hcl'"},
		{"it's", `fanout rollback ID 'it'\''s'`},
		{"$HOME/x", "fanout rollback ID '$HOME/x'"},
	} {
		if got := Suggest("rollback", "ID", tt.config); got != tt.want {
			t.Errorf("Suggest(%q) = %q, want %q", tt.config, got, tt.want)
		}
	}
}
