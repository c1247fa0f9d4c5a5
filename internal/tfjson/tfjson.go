// Package tfjson reads synthesized Terraform JSON (cdk.tf.json) as plain
// maps: the two shapes every reader of it needs, nested blocks and
// references. Used by the guardrails, the scan's HCL rewrite and the tests.
package tfjson

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// Blocks reads a nested block, which the JSON may hold as one object or as
// a list of objects.
func Blocks(v any) []map[string]any {
	switch x := v.(type) {
	case map[string]any:
		return []map[string]any{x}
	case []any:
		var out []map[string]any
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

var refRe = regexp.MustCompile(`^\$\{([a-z0-9_]+\.[A-Za-z0-9_-]+)\.[a-z_]+\}$`)

// Ref returns the resource address ("aws_s3_bucket.logs") that a value
// consisting of one attribute reference ("${aws_s3_bucket.logs.id}")
// points at, or "".
func Ref(v any) string {
	s, _ := v.(string)
	if m := refRe.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

// ReadStacks reads every stacks/<name>/cdk.tf.json of a synth output
// directory, by stack name.
func ReadStacks(dir string) (map[string][]byte, error) {
	entries, err := os.ReadDir(filepath.Join(dir, "stacks"))
	if err != nil {
		return nil, err
	}
	docs := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, "stacks", e.Name(), "cdk.tf.json"))
		if err != nil {
			return nil, err
		}
		docs[e.Name()] = b
	}
	return docs, nil
}

// Num reads a JSON number, or a numeric string as the provider sometimes
// writes them ("8080"); anything else is 0.
func Num(v any) int {
	switch x := v.(type) {
	case float64:
		return int(x)
	case string:
		var n int
		fmt.Sscan(x, &n)
		return n
	}
	return 0
}
