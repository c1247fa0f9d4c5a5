package config

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// checkShape walks the YAML tree against the Go types before anything is
// decoded, so that unknown keys, duplicate keys and wrong types are reported
// with their key path and line rather than as the decoder's first error.
// It records the line of every key path it sees in r.lines.
func checkShape(r *reporter, n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.AliasNode {
		// Aliases can expand exponentially ("billion laughs"); a config this
		// size never needs them.
		r.lines[path] = n.Line
		r.add(path, "write the value out instead of using a YAML alias (*name)", "uses a YAML alias")
		return
	}
	if path != "" {
		if _, seen := r.lines[path]; !seen {
			r.lines[path] = n.Line
		}
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if isNull(n) {
		return // a missing value: validation reports it if it is required
	}
	switch t.Kind() {
	case reflect.Struct:
		checkStruct(r, n, t, path)
	case reflect.Map:
		checkMap(r, n, t, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			r.add(path, "write it as a list, e.g. [a, b]", "must be a list, not %s", describe(n))
			return
		}
		for i, item := range n.Content {
			checkShape(r, item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			r.add(path, "write a single quoted value", "must be a string, not %s", describe(n))
			return
		}
		// Account IDs written without quotes are ints to YAML; keep their
		// exact text (leading zeros included) by decoding them as strings.
		n.Tag = "!!str"
	case reflect.Int:
		checkInt(r, n, path)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			r.add(path, "write true or false", "must be true or false, not %s", describe(n))
		}
	default:
		panic(fmt.Sprintf("config: no shape check for %s at %s", t, path))
	}
}

func checkStruct(r *reporter, n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		r.add(path, "write it as a mapping of keys to values", "must be a mapping, not %s", describe(n))
		return
	}
	fields := map[string]reflect.StructField{}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("yaml"), ",")[0]
		fields[name] = f
		names = append(names, name)
	}
	sort.Strings(names)
	forEachKey(r, n, path, func(key string, value *yaml.Node) {
		f, ok := fields[key]
		if !ok {
			r.lines[join(path, key)] = value.Line
			fix := misplacedKey(path, key, value)
			if fix == "" {
				fix = "remove it or use one of: " + strings.Join(names, ", ")
			}
			r.add(join(path, key), fix, "unknown key %q", key)
			return
		}
		checkShape(r, value, f.Type, join(path, key))
	})
}

func checkMap(r *reporter, n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		r.add(path, "write it as a mapping of names to entries", "must be a mapping, not %s", describe(n))
		return
	}
	elem, prev := deref(t.Elem()), ""
	forEachKey(r, n, path, func(key string, value *yaml.Node) {
		if elem.Kind() == reflect.Struct {
			if hint := misplacedEntry(path, key, prev, value, elem); hint != "" {
				r.add(join(path, key), hint, "is not %s name", a(singular(lastSegment(path))))
				return
			}
		}
		prev = key
		checkShape(r, value, t.Elem(), join(path, key))
	})
}

// forEachKey calls fn for every key of a mapping, reporting non-scalar and
// duplicate keys (which YAML parsers otherwise resolve silently or with an
// error that names no path).
func forEachKey(r *reporter, n *yaml.Node, path string, fn func(string, *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			r.lines[path] = k.Line
			r.add(path, "use plain names as keys", "has a key that is %s", describe(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			r.lines[join(path, k.Value)] = k.Line
			r.add(join(path, k.Value), "keep one of them", "duplicate key, first defined at line %d", first)
			continue
		}
		seen[k.Value] = k.Line
		r.lines[join(path, k.Value)] = k.Line
		fn(k.Value, v)
	}
}

func checkInt(r *reporter, n *yaml.Node, path string) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		r.add(path, "write a whole number without quotes", "must be a whole number, not %s", describe(n))
		return
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	if err != nil || v > math.MaxInt32 || v < math.MinInt32 {
		r.add(path, "use a value in the documented range", "number %s is out of range", clip(n.Value))
	}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("%s %q", strings.TrimPrefix(n.ShortTag(), "!!"), clip(n.Value))
	}
}

// clip keeps error messages readable when the input is huge.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
