package config

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestDerivedSecrets: what a function computes from a sensitive value is
// sensitive too, as Terraform's marks follow a value: through chains of
// calls, locals of locals, host vars, templatefile and its own functions,
// and per-host values; what is computed from other values, or is shorter
// than 4 bytes, is not.
func TestDerivedSecrets(t *testing.T) {
	const token = `variable "token" {
  sensitive = true
  default   = "s3cr3t-token"
}
`
	for _, tt := range []struct {
		name  string
		src   string
		files map[string]string
		want  []string
	}{
		{"base64encode", `locals {
  x = base64encode(var.token)
}`, nil, []string{"czNjcjN0LXRva2Vu"}},
		{"substr in a command", `task "t" {
  run = "echo sub=${substr(var.token, 0, 6)}"
}`, nil, []string{"s3cr3t"}},
		{"a chain", `locals {
  x = upper(base64encode(var.token))
}`, nil, []string{"czNjcjN0LXRva2Vu", "CZNJCJN0LXRVA2VU"}},
		{"a local of a local", `locals {
  a = upper(var.token)
  b = lower(replace(local.a, "-", "_"))
}`, nil, []string{"S3CR3T-TOKEN", "S3CR3T_TOKEN", "s3cr3t_token"}},
		{"a string holding the secret", `locals {
  x = sha256("Bearer ${var.token}")
}`, nil, []string{sha256Hex("Bearer s3cr3t-token")}},
		{"every string of a collection", `locals {
  x = split("-", var.token)
}`, nil, []string{"s3cr3t", "token"}},
		{"host vars", `host "web1" {
  transport = "local"
  vars      = { enc = base64encode(var.token) }
}`, nil, []string{"czNjcjN0LXRva2Vu"}},
		{"per host", `host "web1" {
  transport = "local"
}
task "t" {
  run = "true"
  env = { K = upper("${target.name}:${var.token}") }
}`, nil, []string{"WEB1:S3CR3T-TOKEN"}},
		{"templatefile and its functions", `locals {
  x = templatefile("t.tpl", { t = var.token })
}`, map[string]string{"t.tpl": "b64=${base64encode(t)}"}, []string{"czNjcjN0LXRva2Vu", "b64=czNjcjN0LXRva2Vu"}},
		{"passed through from other arguments", `locals {
  x = merge({ APP_ENV = "production" }, { TOKEN = var.token })
  y = coalesce("", var.token, "fallback-value")
  z = keys({ password = var.token, username = "admin" })
}`, nil, nil},
		{"too short", `locals {
  x = substr(var.token, 0, 3)
}`, nil, nil},
		{"not from a secret", `locals {
  x = base64encode("public-value")
}`, nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"main.hcl": token + tt.src}
			for k, v := range tt.files {
				files[k] = v
			}
			cfg := mustLoad(t, files, "main.hcl", LoadOptions{})
			var got []string
			for _, d := range cfg.DerivedSecrets() {
				if d.From != "var.token" {
					t.Errorf("%q comes from %q, want var.token", d.Value, d.From)
				}
				got = append(got, d.Value)
			}
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("derived %q, want %q among them", got, w)
				}
			}
			if tt.want == nil && len(got) > 0 {
				t.Errorf("derived %q, want none", got)
			}
		})
	}
}

// TestDerivedSecretsStayOutOfDiagnostics: hcl's "with local.x as ..." is
// not printed for a local computed from a sensitive variable, and a
// function's error quoting a derived value hides it.
func TestDerivedSecretsStayOutOfDiagnostics(t *testing.T) {
	for _, tt := range []struct{ name, src string }{
		{"operand", `locals {
  up = upper(var.token)
}
task "t" {
  run = "echo ${local.up + 1}"
}`},
		{"function error", `locals {
  up = upper(var.token)
  n  = tonumber(local.up)
}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, diags := testLoad(t, map[string]string{"main.hcl": `variable "token" {
  sensitive = true
  default   = "s3cr3t-token"
}
` + tt.src}, "main.hcl", LoadOptions{})
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			for _, d := range diags {
				text := d.Summary + ": " + d.Detail
				if d.Expression != nil && d.EvalContext != nil {
					text += " (with an evaluation context hcl would print)"
				}
				if strings.Contains(strings.ToLower(text), "s3cr3t") || strings.Contains(text, "evaluation context") {
					t.Errorf("%s", text)
				}
			}
		})
	}
}

func sha256Hex(s string) string {
	return fmt.Sprintf("%x", sha256.Sum256([]byte(s)))
}

// TestShortSensitiveValuesInDiagnostics: diagnostics follow the 4-byte
// rule the views and the journal follow: a shorter sensitive value is
// shown as it is, not cut out of every word and range holding it (a
// -var pin=1 made "web1" "web(sensitive)"); a longer one is hidden.
func TestShortSensitiveValuesInDiagnostics(t *testing.T) {
	const src = `variable "pin" {
  type      = number
  sensitive = true
  validation {
    condition     = var.pin > 99999999
    error_message = "The pin ${var.pin} is too short for host web1."
  }
}
`
	for _, tt := range []struct {
		pin        string
		want, hide []string
	}{
		{"1", []string{"The pin 1 is too short for host web1.", "validation rule at main.hcl:5,5-"}, nil},
		{"21", []string{"The pin 21 is too short for host web1."}, nil},
		{"4321", []string{"The pin (sensitive) is too short for host web1."}, []string{"4321"}},
	} {
		t.Run(tt.pin, func(t *testing.T) {
			_, _, diags := testLoad(t, map[string]string{"main.hcl": src}, "main.hcl", LoadOptions{Vars: map[string]string{"pin": tt.pin}})
			if len(diags) != 1 {
				t.Fatalf("%v, want the rule's error", diags)
			}
			for _, w := range tt.want {
				if !strings.Contains(diags[0].Detail, w) {
					t.Errorf("%q, want %q in it", diags[0].Detail, w)
				}
			}
			for _, h := range tt.hide {
				if strings.Contains(diags[0].Detail, h) {
					t.Errorf("%q shows %q", diags[0].Detail, h)
				}
			}
		})
	}
}
