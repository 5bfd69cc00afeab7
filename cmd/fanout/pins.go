package main

import (
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/internal/pluginhost"
)

// pinUpdate is a transport block whose sha256 `fanout plugins lock
// -update-pins` rewrites to sum.
type pinUpdate struct {
	transport *config.Transport
	sum       string
}

// binarySum returns the SHA-256 of the binary that would serve the named
// transport, or false when there is none or it cannot be read (starting
// it then says why).
func binarySum(l *pluginhost.Launcher, name string) (string, bool) {
	path, err := l.Find(name)
	if err != nil {
		return "", false
	}
	sum, err := pluginhost.SHA256File(path)
	return sum, err == nil
}

// updatePins rewrites the sha256 attribute of each block in place, in the
// file that declares it, leaving the rest of the file as it was (comments
// included). Files are written whole, with their mode kept.
func updatePins(pins []pinUpdate) error {
	byFile := map[string][]pinUpdate{}
	var files []string
	for _, p := range pins {
		f := p.transport.DeclRange.Filename
		if _, ok := byFile[f]; !ok {
			files = append(files, f)
		}
		byFile[f] = append(byFile[f], p)
	}
	for _, name := range files {
		if err := updatePinsIn(name, byFile[name]); err != nil {
			return err
		}
	}
	return nil
}

func updatePinsIn(name string, pins []pinUpdate) error {
	src, err := os.ReadFile(name)
	if err != nil {
		return fmt.Errorf("update the pins in %s: %w", name, err)
	}
	fi, err := os.Stat(name)
	if err != nil {
		return fmt.Errorf("update the pins in %s: %w", name, err)
	}
	f, diags := hclwrite.ParseConfig(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		return fmt.Errorf("update the pins in %s: %s", name, diags.Error())
	}
	for _, p := range pins {
		block := f.Body().FirstMatchingBlock("transport", []string{p.transport.Name})
		if block == nil || block.Body().GetAttribute("sha256") == nil {
			return fmt.Errorf("update the pins in %s: no sha256 in transport %q to update", name, p.transport.Name)
		}
		block.Body().SetAttributeValue("sha256", cty.StringVal(p.sum))
	}
	if err := os.WriteFile(name, f.Bytes(), fi.Mode().Perm()); err != nil {
		return fmt.Errorf("update the pins in %s: %w", name, err)
	}
	return nil
}
