package tests

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acme/landing-zone/internal/tfjson"
)

// The tests read synthesized stacks the way the product does: the bytes
// through tfjson.ReadStacks, nested blocks through tfjson.Blocks and
// references through tfjson.Ref. A test looks at a stack decoded
// (stackJSON), or breaks one thing in the plain maps (stackDocs) and hands
// them back to a proof.

// readStacks reads every synthesized stack of a synth output, by name.
func readStacks(t testing.TB, out string) map[string][]byte {
	t.Helper()
	raw, err := tfjson.ReadStacks(out)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// stackNames lists the synthesized stacks of a synth output, sorted.
func stackNames(t testing.TB, out string) []string {
	t.Helper()
	return slices.Sorted(maps.Keys(readStacks(t, out)))
}

func stackFile(out, stack string) string {
	return filepath.Join(out, "stacks", stack, "cdk.tf.json")
}

// stackJSON is a synthesized stack, decoded.
type stackJSON struct {
	Provider  map[string][]map[string]any          `json:"provider"`
	Terraform map[string]any                       `json:"terraform"`
	Resource  map[string]map[string]map[string]any `json:"resource"`
	Output    map[string]map[string]any            `json:"output"`
}

func readStack(t testing.TB, out, stack string) stackJSON {
	t.Helper()
	return readStackFile(t, stackFile(out, stack))
}

// readStackFile decodes a stack's JSON from any file (a synth output or a
// snapshot).
func readStackFile(t testing.TB, file string) stackJSON {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return decodeStack(t, file, b)
}

func decodeStack(t testing.TB, where string, b []byte) stackJSON {
	t.Helper()
	var s stackJSON
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	return s
}

// resources returns the resources of one type in a stack.
func (s stackJSON) resources(typ string) map[string]map[string]any {
	return s.Resource[typ]
}

func (s stackJSON) count() int {
	n := 0
	for _, rs := range s.Resource {
		n += len(rs)
	}
	return n
}

// deref returns the resource a reference such as "${aws_iam_role.x.name}"
// points at.
func (s stackJSON) deref(t testing.TB, ref any) map[string]any {
	t.Helper()
	typ, name, _ := strings.Cut(tfjson.Ref(ref), ".")
	r := s.Resource[typ][name]
	if r == nil {
		t.Fatalf("%v is not a reference to a resource in the stack", ref)
	}
	return r
}

// first is a nested block's first (usually only) element, or an empty
// block.
func first(v any) map[string]any {
	if bs := tfjson.Blocks(v); len(bs) > 0 {
		return bs[0]
	}
	return map[string]any{}
}

// stackDocs are synthesized stacks decoded as plain maps, by stack name,
// for editing: each broken case changes one thing and proves again.
type stackDocs map[string]map[string]any

func readDocs(t testing.TB, out string) stackDocs {
	t.Helper()
	d := stackDocs{}
	for name, b := range readStacks(t, out) {
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		d[name] = doc
	}
	return d
}

// raw encodes the stacks again, for a proof's parser.
func (d stackDocs) raw(t testing.TB) map[string][]byte {
	t.Helper()
	raw := map[string][]byte{}
	for name, doc := range d {
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		raw[name] = b
	}
	return raw
}

// of returns one stack's resources of a type, by name.
func (d stackDocs) of(stack, typ string) map[string]any {
	rs, _ := d[stack]["resource"].(map[string]any)
	m, _ := rs[typ].(map[string]any)
	return m
}

// where returns the names of a type's resources whose JSON contains every
// fragment.
func (d stackDocs) where(stack, typ string, fragments ...string) []string {
	var out []string
	for name, r := range d.of(stack, typ) {
		b, _ := json.Marshal(r)
		ok := true
		for _, f := range fragments {
			ok = ok && strings.Contains(string(b), f)
		}
		if ok {
			out = append(out, name)
		}
	}
	return out
}

func (d stackDocs) remove(t *testing.T, stack, typ string, fragments ...string) {
	t.Helper()
	names := d.where(stack, typ, fragments...)
	if len(names) == 0 {
		t.Fatalf("%s: no %s contains %q", stack, typ, fragments)
	}
	for _, n := range names {
		delete(d.of(stack, typ), n)
	}
}

// providerRegions maps a stack's provider keys ("aws", "aws.<alias>") to
// their regions.
func providerRegions(doc map[string]any) map[string]string {
	out := map[string]string{}
	ps, _ := doc["provider"].(map[string]any)
	for _, p := range tfjson.Blocks(ps["aws"]) {
		key := "aws"
		if a, _ := p["alias"].(string); a != "" {
			key = "aws." + a
		}
		out[key], _ = p["region"].(string)
	}
	return out
}
