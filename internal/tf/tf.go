// Package tf converts plain Go values into the pointer types that the
// generated CDKTF bindings take. It is the one place where jsii pointers are
// made, so that construct props can stay plain Go types.
package tf

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

// Tags returns m as a jsii tag map. A Go map has no order, so there is none
// to keep here. The synthesized JSON is stable all the same: the jsii
// runtime sends a map to CDKTF through encoding/json, which writes its keys
// sorted, and CDKTF writes them in the order it received them.
func Tags(m map[string]string) *map[string]*string {
	out := make(map[string]*string, len(m))
	for k, v := range m {
		out[k] = S(v)
	}
	return &out
}

// Name returns a tag map holding only a Name tag: the provider's
// default_tags supply every other required tag.
func Name(name string) *map[string]*string {
	return Tags(map[string]string{"Name": name})
}
