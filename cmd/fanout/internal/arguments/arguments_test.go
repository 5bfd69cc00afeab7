package arguments

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseApply(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    Apply
		wantErr string
	}{
		{
			name: "path and targets",
			args: []string{"deploy.hcl", "restart", "verify"},
			want: Apply{Common: Common{Path: "deploy.hcl", Targets: []string{"restart", "verify"}}},
		},
		{
			name: "vars and var files keep their order",
			args: []string{"-var", "a=1", "-var-file", "prod.hcl", "-var", "b=x=y", "deploy.hcl"},
			want: Apply{Common: Common{Path: "deploy.hcl", Vars: Vars{Args: []VarArg{{Name: "a", Value: "1"}, {File: "prod.hcl"}, {Name: "b", Value: "x=y"}}}}},
		},
		{
			name: "selection, repeated and comma-separated, flags after the path",
			args: []string{"-limit", "web*,db1", "deploy.hcl", "-limit", "cache", "-exclude", "web3", "restart"},
			want: Apply{Common: Common{Path: "deploy.hcl", Targets: []string{"restart"}},
				Selection: Selection{Limit: []string{"web*", "db1", "cache"}, Exclude: []string{"web3"}}},
		},
		{
			name: "a comma inside brackets belongs to a nodeset",
			args: []string{"-limit", "web[01-03,07],db1", "-exclude", "web[02,07]", "deploy.hcl"},
			want: Apply{Common: Common{Path: "deploy.hcl"},
				Selection: Selection{Limit: []string{"web[01-03,07]", "db1"}, Exclude: []string{"web[02,07]"}}},
		},
		{
			name: "view flags",
			args: []string{"-json", "-no-color", "deploy.hcl"},
			want: Apply{Common: Common{Path: "deploy.hcl", NoColor: true, ViewType: ViewJSON}},
		},
		{
			name: "quiet and group",
			args: []string{"-quiet", "-group", "deploy.hcl"},
			want: Apply{Common: Common{Path: "deploy.hcl"}, Quiet: true, Group: true},
		},
		{
			name: "html timeline file",
			args: []string{"-html", "run.html", "deploy.hcl"},
			want: Apply{Common: Common{Path: "deploy.hcl"}, HTML: "run.html"},
		},
		{name: "json and quiet", args: []string{"-json", "-quiet", "x.hcl"}, wantErr: "-json cannot be combined with -quiet or -group: the JSON stream holds every event"},
		{name: "bad var", args: []string{"-var", "novalue", "x.hcl"}, wantErr: `invalid value "novalue" for flag -var: -var needs NAME=VALUE, got "novalue"`},
		{name: "no path", args: []string{"-quiet"}, wantErr: "apply needs a configuration: fanout apply FILE.hcl|DIR [NAME...]"},
		{
			name: "a trailing comma adds no pattern",
			args: []string{"-limit", "web1,", "deploy.hcl"},
			want: Apply{Common: Common{Path: "deploy.hcl"}, Selection: Selection{Limit: []string{"web1"}}},
		},
		// -limit "$HOSTS" with HOSTS empty must not select every host.
		{name: "empty limit", args: []string{"-limit", "", "x.hcl"}, wantErr: `invalid value "" for flag -limit: no host pattern in it: give one or more names, roles, nodesets or globs`},
		{name: "blank limit", args: []string{"-limit", " , ", "x.hcl"}, wantErr: `invalid value " , " for flag -limit: no host pattern in it: give one or more names, roles, nodesets or globs`},
		{name: "empty exclude", args: []string{"-exclude", "", "x.hcl"}, wantErr: `invalid value "" for flag -exclude: no host pattern in it: give one or more names, roles, nodesets or globs`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkParse(t, ParseApply, tt.args, tt.want, tt.wantErr) })
	}
}

// checkParse parses args and compares the result with want, or the error
// with wantErr when that is set.
func checkParse[T any](t *testing.T, parse func([]string) (*T, error), args []string, want T, wantErr string) {
	t.Helper()
	got, err := parse(args)
	if wantErr != "" {
		if err == nil || err.Error() != wantErr {
			t.Fatalf("error = %v, want %q", err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseHelp(t *testing.T) {
	for _, parse := range []func([]string) error{
		func(a []string) error { _, err := ParsePlan(a); return err },
		func(a []string) error { _, err := ParseApply(a); return err },
		func(a []string) error { _, err := ParseValidate(a); return err },
		func(a []string) error { _, err := ParseFmt(a); return err },
		func(a []string) error { _, err := ParseCompletion(a); return err },
	} {
		if err := parse([]string{"-help"}); !errors.Is(err, ErrHelp) {
			t.Errorf("-help gave %v", err)
		}
	}
}

func TestParseFmt(t *testing.T) {
	got, err := ParseFmt(nil)
	if err != nil || !cmp.Equal(got, &Fmt{Paths: []string{"."}}) {
		t.Errorf("no arguments: %+v, %v", got, err)
	}
	got, err = ParseFmt([]string{"a.hcl", "-check", "dir", "-recursive"})
	if err != nil || !cmp.Equal(got, &Fmt{Paths: []string{"a.hcl", "dir"}, Check: true, Recursive: true}) {
		t.Errorf("paths and flags: %+v, %v", got, err)
	}
}

func TestParseCompletion(t *testing.T) {
	if c, err := ParseCompletion([]string{"zsh"}); err != nil || c.Shell != "zsh" {
		t.Errorf("zsh: %+v, %v", c, err)
	}
	if _, err := ParseCompletion([]string{"tcsh"}); err == nil {
		t.Error("tcsh accepted")
	}
	if _, err := ParseCompletion(nil); err == nil {
		t.Error("no shell accepted")
	}
}

// A lone "-" after the path once made the parser loop forever.
func TestParsePlanLoneDash(t *testing.T) {
	checkParse(t, ParsePlan, []string{"deploy.hcl", "-", "-json"},
		Plan{Common: Common{Path: "deploy.hcl", Targets: []string{"-"}, ViewType: ViewJSON}}, "")
}

func TestParseRunsHTML(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    Runs
		wantErr string
	}{
		{name: "show", args: []string{"show", "ID"}, want: Runs{Path: ".", Show: "ID"}},
		{name: "html to ID.html", args: []string{"show", "ID", "-html"}, want: Runs{Path: ".", Show: "ID", HTML: true}},
		{name: "-o implies -html", args: []string{"show", "ID", "-o", "run.html", "deploy.hcl"}, want: Runs{Path: "deploy.hcl", Show: "ID", HTML: true, Out: "run.html"}},
		{name: "flags first", args: []string{"-html", "-o", "-", "show", "ID"}, want: Runs{Path: ".", Show: "ID", HTML: true, Out: "-"}},
		{name: "html without a run", args: []string{"-html"}, wantErr: "-html shows one run: fanout runs show ID -html [-o FILE] [FILE.hcl|DIR]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkParse(t, ParseRuns, tt.args, tt.want, tt.wantErr) })
	}
}
