// Command tfhcl rewrites synthesized Terraform JSON (cdk.tf.json) as HCL
// for the security scan. Trivy reads nested blocks only from HCL: in
// .tf.json it cannot tell a block from a map without the provider schema,
// so it reports settings inside blocks (IMDSv2, scan on push, bucket keys)
// as missing. This tool has the schema (`terraform providers schema
// -json`) and writes each nested block as a block.
//
// Usage: go run ./cmd/tfhcl SCHEMA.json IN_STACKS_DIR OUT_DIR
// It is a scan aid only: Terraform runs the JSON, never this HCL.
package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/acme/landing-zone/internal/tfjson"
)

type block struct {
	Attributes map[string]json.RawMessage `json:"attributes"`
	BlockTypes map[string]struct {
		Block block `json:"block"`
	} `json:"block_types"`
}

type schemas struct {
	ProviderSchemas map[string]struct {
		ResourceSchemas map[string]struct {
			Block block `json:"block"`
		} `json:"resource_schemas"`
		DataSourceSchemas map[string]struct {
			Block block `json:"block"`
		} `json:"data_source_schemas"`
	} `json:"provider_schemas"`
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: tfhcl SCHEMA.json IN_STACKS_DIR OUT_DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "tfhcl:", err)
		os.Exit(1)
	}
}

func run(schemaPath, in, out string) error {
	b, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var s schemas
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	aws := s.ProviderSchemas["registry.terraform.io/hashicorp/aws"]
	resources, data := map[string]block{}, map[string]block{}
	for k, v := range aws.ResourceSchemas {
		resources[k] = v.Block
	}
	for k, v := range aws.DataSourceSchemas {
		data[k] = v.Block
	}
	files, err := filepath.Glob(filepath.Join(in, "*", "cdk.tf.json"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no stacks under %s", in)
	}
	for _, f := range files {
		stack := filepath.Base(filepath.Dir(f))
		hcl, err := convert(f, resources, data)
		if err != nil {
			return fmt.Errorf("%s: %w", stack, err)
		}
		dir := filepath.Join(out, stack)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(hcl), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func convert(path string, resources, data map[string]block) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var doc struct {
		Resource map[string]map[string]map[string]any `json:"resource"`
		Data     map[string]map[string]map[string]any `json:"data"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return "", err
	}
	var w strings.Builder
	for _, kind := range []struct {
		word    string
		items   map[string]map[string]map[string]any
		schemas map[string]block
	}{{"resource", doc.Resource, resources}, {"data", doc.Data, data}} {
		for _, typ := range slices.Sorted(maps.Keys(kind.items)) {
			for _, name := range slices.Sorted(maps.Keys(kind.items[typ])) {
				writeWaivers(&w, path, typ, name, kind.items[typ][name])
				fmt.Fprintf(&w, "%s %q %q {\n", kind.word, typ, name)
				body(&w, kind.items[typ][name], kind.schemas[typ], 1)
				w.WriteString("}\n\n")
			}
		}
	}
	return w.String(), nil
}

// writeWaivers turns the accepted findings recorded on a resource
// (guardrails.WaiveScan) into Trivy's inline ignores for that resource, and
// lists them on stdout.
func writeWaivers(w *strings.Builder, path, typ, name string, r map[string]any) {
	meta, _ := r["//"].(map[string]any)
	waivers, _ := meta["scan_waivers"].(map[string]any)
	for _, id := range slices.Sorted(maps.Keys(waivers)) {
		reason, _ := waivers[id].(string)
		fmt.Fprintf(w, "# %s\n#trivy:ignore:%s\n", reason, id)
		fmt.Printf("waived %s on %s.%s (%s): %s\n", id, typ, name, filepath.Base(filepath.Dir(path)), reason)
	}
}

// body writes an object's keys: nested blocks as blocks (one per element
// when the JSON holds a list), everything else as an attribute.
func body(w *strings.Builder, obj map[string]any, schema block, depth int) {
	indent := strings.Repeat("  ", depth)
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		v := obj[k]
		if k == "//" || v == nil {
			continue
		}
		if bt, ok := schema.BlockTypes[k]; ok {
			for _, item := range tfjson.Blocks(v) {
				fmt.Fprintf(w, "%s%s {\n", indent, k)
				body(w, item, bt.Block, depth+1)
				fmt.Fprintf(w, "%s}\n", indent)
			}
			continue
		}
		if k == "depends_on" || k == "lifecycle" || k == "provider" || k == "for_each" || k == "count" {
			continue // meta-arguments: no security meaning here
		}
		fmt.Fprintf(w, "%s%s = %s\n", indent, k, value(v))
	}
}

// value renders a JSON value as an HCL expression. Strings keep their
// "${...}" templates, which mean the same in HCL, so references survive.
func value(v any) string {
	switch x := v.(type) {
	case string:
		return quote(x)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = value(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(x)) {
			parts = append(parts, quote(k)+" = "+value(x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return "null"
}

// quote escapes a string for an HCL quoted template. Outside "${...}" the
// quote, backslash and control characters are escaped; inside, the
// expression is copied as is (its own string literals are HCL syntax), so
// references survive as references.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("$${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := interpolationEnd(s, i+2)
			b.WriteString(s[i:end])
			i = end
		default:
			b.WriteString(escape(s[i]))
			i++
		}
	}
	b.WriteByte('"')
	return b.String()
}

// interpolationEnd returns the index just past the "}" closing an
// interpolation whose expression starts at i, skipping nested braces and
// string literals.
func interpolationEnd(s string, i int) int {
	depth, inString := 0, false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{':
			depth++
		case c == '}' && depth == 0:
			return i + 1
		case c == '}':
			depth--
		}
	}
	return len(s)
}

func escape(c byte) string {
	switch c {
	case '"':
		return `\"`
	case '\\':
		return `\\`
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	}
	return string([]byte{c})
}
