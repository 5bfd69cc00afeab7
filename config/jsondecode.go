package config

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// JSONDecodeFunc is jsondecode(src), go-cty's, refusing first an object
// that gives a key twice, which it decodes keeping one value: in an
// inventory, one of two hosts of that name, silently. yamldecode refuses
// the same (see checkYAML).
var JSONDecodeFunc = checkedDecode(stdlib.JSONDecodeFunc, checkJSONKeys)

// checkJSONKeys reads src's tokens and refuses an object with a key given
// twice. What is no JSON it leaves to go-cty, whose words the user gets.
func checkJSONKeys(src string) error {
	dec := json.NewDecoder(strings.NewReader(src))
	// One entry per open object or array: an object's keys seen so far,
	// nil for an array. expectKey is whether the next token of the
	// innermost object is a key.
	var stack []map[string]bool
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // the end (io.EOF), or go-cty's to report
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{':
				stack = append(stack, map[string]bool{})
				expectKey = true
				continue
			case '[':
				stack = append(stack, nil)
				expectKey = false
				continue
			default:
				stack = stack[:len(stack)-1]
			}
		} else if expectKey {
			key, _ := tok.(string)
			if stack[len(stack)-1][key] {
				return fmt.Errorf("the JSON gives the key %q twice in one object: remove one", key)
			}
			stack[len(stack)-1][key] = true
			expectKey = false
			continue
		}
		// A value ended: in an object, a key comes next.
		expectKey = len(stack) > 0 && stack[len(stack)-1] != nil
	}
}
