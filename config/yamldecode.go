package config

import (
	"errors"
	"fmt"
	"strings"

	ctyyaml "github.com/zclconf/go-cty-yaml"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	yaml "gopkg.in/yaml.v3"
)

// maxYAMLValues is the most values (mappings, sequences and scalars) a
// yamldecode document may stand for once its aliases are expanded: about
// what a 4 MiB file (file()'s limit) holds written out, "- a" a line.
const maxYAMLValues = 1_000_000

// YAMLDecodeFunc is yamldecode(src), go-cty-yaml's, refusing first what
// it would spend unbounded time or memory on: a document nesting deeper
// than MaxNesting, and one whose aliases (*name) expand to more than
// maxYAMLValues values, such as 600 bytes of nine anchors each aliasing
// the one before nine times ("billion laughs"), which ran fanout out of
// memory. go-cty-yaml also takes seconds, growing with the square of the
// depth, over a few thousand levels of [[[...]]].
var YAMLDecodeFunc = checkedDecode(ctyyaml.YAMLDecodeFunc, checkYAML)

// checkedDecode is decode (yamldecode's, jsondecode's) refusing first,
// with check, a known source it would decode at an unbounded cost or
// wrongly. Its result's type is known once decoded (as decode's is for
// an unknown source): asking decode for it would decode the source once
// more than Call does.
func checkedDecode(decode function.Function, check func(src string) error) function.Function {
	return function.New(&function.Spec{
		Description: decode.Description(),
		Params:      decode.Params(),
		Type: func(args []cty.Value) (cty.Type, error) {
			if src := args[0]; src.IsKnown() && !src.IsNull() {
				if err := check(src.AsString()); err != nil {
					return cty.NilType, function.NewArgError(0, err)
				}
			}
			return cty.DynamicPseudoType, nil
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return decode.Call(args)
		},
	})
}

// checkYAML reads src as gopkg.in/yaml.v3 nodes, which keep an alias as a
// pointer to its anchor instead of expanding it, and refuses it when it
// nests or expands too far. Syntax errors are left to go-cty-yaml, whose
// messages the configuration's users get.
func checkYAML(src string) error {
	dec := yaml.NewDecoder(strings.NewReader(src))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			// The end, or a mistake go-cty-yaml reports in its words
			// (yaml.v3 refuses over 10,000 levels itself).
			if strings.Contains(err.Error(), "exceeded max depth") {
				return errYAMLDepth
			}
			return nil
		}
		w := yamlWalk{sizes: map[*yaml.Node]int{}}
		if _, err := w.size(&doc, 0); err != nil {
			return err
		}
	}
}

var errYAMLDepth = fmt.Errorf("the YAML nests deeper than %d levels, more than fanout reads; write it with fewer levels", MaxNesting)

// yamlWalk counts a document's values, each anchored node's once.
type yamlWalk struct {
	sizes map[*yaml.Node]int // anchored nodes' expanded sizes; -1 while counted
	total int
}

// size returns how many values n stands for, aliases expanded, n being
// depth levels down, and refuses the document once it is too deep or its
// values, counted as expanded, are too many.
func (w *yamlWalk) size(n *yaml.Node, depth int) (int, error) {
	if depth > MaxNesting {
		return 0, errYAMLDepth
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
		if n == nil {
			return 0, nil // an unknown anchor: go-cty-yaml says so
		}
	}
	if s, ok := w.sizes[n]; ok {
		if s < 0 {
			return 0, errors.New("the YAML holds an anchor that contains an alias of itself")
		}
		if w.total += s; w.total > maxYAMLValues {
			return 0, errYAMLTooMany
		}
		return s, nil
	}
	if n.Anchor != "" {
		w.sizes[n] = -1
	}
	if n.Kind == yaml.MappingNode {
		// A key given twice keeps one of its values, silently: in an
		// inventory, one of two hosts of that name, and which is
		// anybody's guess.
		keys := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				continue
			}
			if line, dup := keys[k.Value]; dup {
				return 0, fmt.Errorf("the YAML gives the key %q twice, on lines %d and %d: remove one", k.Value, line, k.Line)
			}
			keys[k.Value] = k.Line
		}
	}
	s := 1
	w.total++
	for _, c := range n.Content {
		cs, err := w.size(c, depth+1)
		if err != nil {
			return 0, err
		}
		s += cs
	}
	if w.total > maxYAMLValues {
		return 0, errYAMLTooMany
	}
	if n.Anchor != "" {
		w.sizes[n] = s
	}
	return s, nil
}

var errYAMLTooMany = fmt.Errorf("the YAML's aliases (*name) expand it to more than %d values, more than fanout reads", maxYAMLValues)
