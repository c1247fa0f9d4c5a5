// Package tf converts plain Go values into the pointer types that the
// generated CDKTF bindings take. It is the one place where jsii pointers are
// made, so that construct props can stay plain Go types.
package tf

import "sort"

// S returns a pointer to s.
func S(s string) *string { return &s }

// N returns a number pointer, the only numeric type jsii knows.
func N[T ~int | ~int64 | ~float64](n T) *float64 {
	f := float64(n)
	return &f
}

// B returns a pointer to b.
func B(b bool) *bool { return &b }

// Strs returns a pointer to a slice of string pointers.
func Strs(ss ...string) *[]*string {
	out := make([]*string, len(ss))
	for i := range ss {
		out[i] = S(ss[i])
	}
	return &out
}

// Ptrs wraps already-pointer values (often tokens) as a jsii list.
func Ptrs(ps ...*string) *[]*string {
	out := append([]*string(nil), ps...)
	return &out
}

// Tags returns a tag map. Keys are copied in sorted order so that the
// conversion itself is deterministic.
func Tags(m map[string]string) *map[string]*string {
	out := make(map[string]*string, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out[k] = S(m[k])
	}
	return &out
}

// Name returns a tag map holding only a Name tag: the provider's
// default_tags supply every other required tag.
func Name(name string) *map[string]*string {
	return Tags(map[string]string{"Name": name})
}
