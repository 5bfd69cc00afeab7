package ssh

import "strings"

// percentExpand replaces ssh_config's %-tokens in s, as OpenSSH's
// percent_expand: %% is %, %c is value(c) when value knows c, and any
// other %c, or a % that ends s, stays as it is. value is asked only for
// the tokens s holds, so a costly one (this machine's name) costs nothing
// where it is not used.
func percentExpand(s string, value func(c byte) (string, bool)) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		if s[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		v, ok := value(s[i+1])
		if !ok {
			b.WriteByte('%')
			continue
		}
		b.WriteString(v)
		i++
	}
	return b.String()
}
