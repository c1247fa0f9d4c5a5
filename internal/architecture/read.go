// Package architecture describes what a synth really produced: an
// architecture diagram (Mermaid and Graphviz DOT) and an inventory of
// resource counts and sizes per stack. Both are read from the synthesized
// Terraform JSON, never drawn by hand, so they change when the stacks do;
// the config only supplies account names, IDs and order.
//
// It does not synthesize: callers run app/synth (or cdktf synth) and
// pass the output directory. Entry points: Read, Diagram, Inventory.
package architecture

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"

	"github.com/acme/landing-zone/internal/tfjson"
)

// Stack is one synthesized stack's resources.
type Stack struct {
	Name string
	// Resources by type, then by Terraform name.
	Resources map[string]map[string]map[string]any
}

// Read loads every stack under outdir/stacks. Stacks named in order come
// first, in that order; any others follow by name.
func Read(outdir string, order []string) ([]*Stack, error) {
	entries, err := os.ReadDir(filepath.Join(outdir, "stacks"))
	if err != nil {
		return nil, fmt.Errorf("reading the synth output: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	rank := func(n string) int {
		if i := slices.Index(order, n); i >= 0 {
			return i
		}
		return len(order)
	}
	sort.SliceStable(names, func(i, j int) bool {
		if ri, rj := rank(names[i]), rank(names[j]); ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	var out []*Stack
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(outdir, "stacks", n, "cdk.tf.json"))
		if err != nil {
			return nil, err
		}
		var doc struct {
			Resource map[string]map[string]map[string]any `json:"resource"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("stack %s: %w", n, err)
		}
		out = append(out, &Stack{Name: n, Resources: doc.Resource})
	}
	return out, nil
}

// names returns the Terraform names of one resource type, sorted, so that
// everything derived from a stack comes out in a stable order.
func (s *Stack) names(typ string) []string {
	return slices.Sorted(maps.Keys(s.Resources[typ]))
}

// ref is a reference to another resource of the same stack, as written in
// the JSON: "${aws_subnet.network_public-a_A182901C.id}".
type ref struct{ typ, name string }

var refRe = regexp.MustCompile(`\$\{(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.[a-z_]+\}`)

// refs lists the references anywhere inside v, in order of appearance.
func refs(v any) []ref {
	var out []ref
	switch x := v.(type) {
	case string:
		for _, m := range refRe.FindAllStringSubmatch(x, -1) {
			out = append(out, ref{m[1], m[2]})
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			if k != "//" && k != "depends_on" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, refs(x[k])...)
		}
	case []any:
		for _, e := range x {
			out = append(out, refs(e)...)
		}
	}
	return out
}

// refsOf lists the references of a type that a resource makes, directly or
// through the subnet groups and launch template it uses.
func (s *Stack) refsOf(body map[string]any, typ string) []ref {
	var out []ref
	for _, r := range refs(body) {
		switch r.typ {
		case typ:
			out = append(out, r)
		case "aws_db_subnet_group", "aws_elasticache_subnet_group", "aws_launch_template":
			out = append(out, s.refsOf(s.Resources[r.typ][r.name], typ)...)
		}
	}
	return out
}

// path is a resource's construct path ("dev/alb-public/lb").
func path(body map[string]any) string {
	meta, _ := body["//"].(map[string]any)
	md, _ := meta["metadata"].(map[string]any)
	p, _ := md["path"].(string)
	return p
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return fmt.Sprint(x)
	case bool:
		return fmt.Sprint(x)
	}
	return ""
}

var num = tfjson.Num

func tag(body map[string]any, key string) string {
	tags, _ := body["tags"].(map[string]any)
	return str(tags[key])
}
