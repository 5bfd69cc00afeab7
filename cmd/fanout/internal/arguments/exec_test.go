package arguments

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseExec(t *testing.T) {
	tests := []struct {
		args []string
		want Exec
	}{
		{[]string{"--", "uptime"}, Exec{Common: Common{Path: "."}, Threads: DefaultExecThreads, Command: "uptime"}},
		{[]string{"fleet.hcl", "-on", "web,db[1-2]", "-on", "cache", "-threads", "5", "-timeout", "3s", "-group", "--", "echo", "a  b"},
			Exec{Common: Common{Path: "fleet.hcl"}, On: []string{"web", "db[1-2]", "cache"}, Threads: 5, Timeout: 3 * time.Second, Group: true, Command: "echo a  b"}},
		{[]string{"-hosts", "n[1-3]", "-limit", "n1", "--", "true"},
			Exec{Hosts: "n[1-3]", Selection: Selection{Limit: []string{"n1"}}, Threads: DefaultExecThreads, Command: "true"}},
		{[]string{"-preflight", "-json", "dir", "--", "ls", "-l"},
			Exec{Common: Common{Path: "dir", ViewType: ViewJSON}, Preflight: true, Threads: DefaultExecThreads, Command: "ls -l"}},
		{[]string{"-sudo", "--", "id"},
			Exec{Common: Common{Path: "."}, Sudo: true, SudoUser: "root", Threads: DefaultExecThreads, Command: "id"}},
		{[]string{"-sudo-user", "app", "--", "id"},
			Exec{Common: Common{Path: "."}, Sudo: true, SudoUser: "app", Threads: DefaultExecThreads, Command: "id"}},
		{[]string{"-hosts", "n[1-3]", "-l", "deploy", "-A", "--", "id"},
			Exec{Hosts: "n[1-3]", User: "deploy", ForwardAgent: true, Threads: DefaultExecThreads, Command: "id"}},
		{[]string{"-hosts", "sw[1-2]", "-raw", "--", "show", "version"},
			Exec{Hosts: "sw[1-2]", Raw: true, Threads: DefaultExecThreads, Command: "show version"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) { checkParse(t, ParseExec, tt.args, tt.want, "") })
	}
}

func TestParseExecErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"uptime"}, `exec needs a command after "--"`},
		{[]string{"x.hcl", "--"}, `exec needs a command after "--"`},
		{[]string{"a.hcl", "b.hcl", "--", "true"}, "exec takes one configuration"},
		{[]string{"a.hcl", "-hosts", "n1", "--", "true"}, "not both"},
		{[]string{"-threads", "0", "--", "true"}, "-threads must be at least 1"},
		{[]string{"-json", "-group", "--", "true"}, "-json cannot be combined"},
		{[]string{"-sudo-user", "app;id", "--", "true"}, `-sudo-user "app;id" is not a user name`},
		{[]string{"-sudo-user", "-u", "--", "true"}, `-sudo-user "-u" is not a user name`},
		{[]string{"-sudo-user", "a b", "--", "true"}, `-sudo-user "a b" is not a user name`},
		{[]string{"-l", "deploy", "--", "true"}, "-l goes with -hosts"},
		{[]string{"x.hcl", "-A", "--", "true"}, "-A goes with -hosts"},
		{[]string{"x.hcl", "-raw", "--", "show version"}, "-raw goes with -hosts"},
		{[]string{"-hosts", "n1", "-l", "${x}", "--", "true"}, `-l "${x}" is not a user name`},
		{[]string{"x.hcl", "-on", "", "--", "true"}, `invalid value "" for flag -on: no host pattern in it`},
		// An empty "$HOSTS" must not fall back to the configuration in
		// the current directory.
		{[]string{"-hosts", "", "--", "true"}, `invalid value "" for flag -hosts: no host in it`},
		{[]string{"-hosts= , ", "--", "true"}, `invalid value " , " for flag -hosts: no host in it`},
		{[]string{"-hosts", "\n", "--", "true"}, `for flag -hosts: no host in it`},
		{[]string{"-pipe", "-json", "--", "true"}, "-pipe cannot be combined"},
		{[]string{"-pipe", "-group", "--", "true"}, "-pipe cannot be combined"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := ParseExec(tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := ParseExec([]string{"-help"}); !errors.Is(err, ErrHelp) {
		t.Errorf("-help: %v", err)
	}
}
