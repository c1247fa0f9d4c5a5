package config

import (
	"fmt"
	"reflect"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// A block indented one level off lands under the wrong parent, where its
// key is unknown. These hints say where such a key belongs, from the config
// types: places where a key is valid, and the kinds of named entry (an
// account, a service, ...) a mapping can look like.

// entryKind is a mapping of named entries, e.g. accounts.ACCOUNT.services.
type entryKind struct {
	elem reflect.Type // the entry's struct type
	noun string       // "service"
	at   string       // where the mapping is: "accounts.ACCOUNT.services"
}

// place is a path a key is valid at, and the type of its value.
type place struct {
	path string
	t    reflect.Type
}

type schemaPlaces struct {
	keys    map[string][]place // key -> every place it is valid at
	entries []entryKind
}

var places = sync.OnceValue(func() *schemaPlaces {
	s := &schemaPlaces{keys: map[string][]place{}}
	s.walk(reflect.TypeOf(Config{}), "")
	return s
})

func (s *schemaPlaces) walk(t reflect.Type, at string) {
	for i := range t.NumField() {
		name := yamlName(t.Field(i))
		path := join(at, name)
		ft := deref(t.Field(i).Type)
		s.keys[name] = append(s.keys[name], place{path, ft})
		switch {
		case ft.Kind() == reflect.Struct:
			s.walk(ft, path)
		case ft.Kind() == reflect.Map && deref(ft.Elem()).Kind() == reflect.Struct:
			noun := singular(name)
			s.entries = append(s.entries, entryKind{deref(ft.Elem()), noun, path})
			s.walk(deref(ft.Elem()), path+"."+strings.ToUpper(noun))
		}
	}
}

// misplacedKey explains an unknown key at path that is valid elsewhere, or
// whose value looks like a named entry; "" when it is neither.
func misplacedKey(path, key string, value *yaml.Node) string {
	if where := elsewhere(path, key, value); where != "" {
		return where
	}
	for _, e := range places().entries {
		if fitsType(value, e.elem) {
			return fmt.Sprintf("%q looks like %s: %ss go under %s; check its indentation",
				key, a(e.noun), e.noun, instantiate(e.at, path))
		}
	}
	return ""
}

// misplacedEntry explains a named entry (key, in the mapping at path of
// entries of e) that is really a key of an entry or of another level, as
// when a services block is indented under accounts instead of under an
// account; prev is the entry above it, the likely owner. "" when the entry
// fits its place.
func misplacedEntry(path, key, prev string, value *yaml.Node, e reflect.Type) string {
	if fitsType(value, e) {
		return ""
	}
	if f, ok := fieldOf(e, key); ok && fitsType(value, f) {
		noun := singular(lastSegment(path))
		owner := strings.ToUpper(noun)
		if prev != "" {
			owner = prev
		}
		return fmt.Sprintf("%q is a key of %s: it goes under %s.%s.%s; check its indentation",
			key, a(noun), path, owner, key)
	}
	return elsewhere(path, key, value)
}

// elsewhere names where key is valid with this value, when that is
// anywhere but at path.
func elsewhere(path, key string, value *yaml.Node) string {
	var at []string
	for _, p := range places().keys[key] {
		if !fitsType(value, p.t) {
			continue
		}
		parent := "the top level"
		if i := strings.LastIndex(p.path, "."); i >= 0 {
			parent = instantiate(p.path[:i], path)
		}
		at = append(at, parent)
	}
	if len(at) == 0 {
		return ""
	}
	if len(at) > 3 {
		at = at[:3]
	}
	return fmt.Sprintf("%q is a key of %s; check its indentation", key, strings.Join(at, " or "))
}

// fitsType says whether value has the shape of type t: for a struct, a
// mapping of its keys only; for a map, a mapping of entries that fit; for a
// slice, a list; otherwise a scalar. An empty value fits nothing: it says
// nothing about where it belongs.
func fitsType(value *yaml.Node, t reflect.Type) bool {
	t = deref(t)
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		if value.Kind != yaml.MappingNode || len(value.Content) == 0 {
			return false
		}
		for i := 0; i+1 < len(value.Content); i += 2 {
			k, v := value.Content[i].Value, value.Content[i+1]
			if t.Kind() == reflect.Struct {
				if _, ok := fieldOf(t, k); !ok {
					return false
				}
			} else if deref(t.Elem()).Kind() == reflect.Struct && !fitsType(v, t.Elem()) {
				return false
			}
		}
		return true
	case reflect.Slice:
		return value.Kind == yaml.SequenceNode
	default:
		return value.Kind == yaml.ScalarNode && !isNull(value)
	}
}

// fieldOf returns the type of struct t's key, if it has one.
func fieldOf(t reflect.Type, key string) (reflect.Type, bool) {
	for i := range t.NumField() {
		if yamlName(t.Field(i)) == key {
			return t.Field(i).Type, true
		}
	}
	return nil, false
}

// instantiate fills the placeholders of pattern (accounts.ACCOUNT.vpc) with
// the names path has at the same places (accounts.dev.services -> accounts.dev.vpc).
func instantiate(pattern, path string) string {
	ps, have := strings.Split(pattern, "."), strings.Split(path, ".")
	for i := range min(len(ps), len(have)) {
		seg, _, _ := strings.Cut(have[i], "[")
		switch {
		case ps[i] == strings.ToUpper(ps[i]):
			ps[i] = seg
		case ps[i] != seg:
			return strings.Join(ps, ".")
		}
	}
	return strings.Join(ps, ".")
}

func yamlName(f reflect.StructField) string { return strings.Split(f.Tag.Get("yaml"), ",")[0] }

func deref(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Pointer {
		return t.Elem()
	}
	return t
}

func lastSegment(path string) string { return path[strings.LastIndex(path, ".")+1:] }

// singular turns a mapping's name into its entries' noun: services ->
// service, repositories -> repository.
func singular(s string) string {
	if base, ok := strings.CutSuffix(s, "ies"); ok {
		return base + "y"
	}
	return strings.TrimSuffix(s, "s")
}

// a puts the article before a noun of the config: "an account", "a user".
func a(noun string) string {
	if noun != "" && strings.ContainsRune("aeio", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}
