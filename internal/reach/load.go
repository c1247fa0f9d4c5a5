package reach

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/acme/landing-zone/internal/tfjson"
)

// Resource is one resource or data source of one synthesized stack.
type Resource struct {
	Stack string
	// Addr is the Terraform address: "aws_subnet.x" or "data.aws_vpc.x".
	Addr  string
	Type  string
	Attrs map[string]any
}

// Where names the resource for a person: "dev: aws_subnet.network_public-a_XXXX".
func (r *Resource) Where() string {
	if r == nil {
		return "(none)"
	}
	return r.Stack + ": " + r.Addr
}

// Stacks holds every synthesized stack's resources, by stack and address.
type Stacks struct {
	byStack map[string]map[string]*Resource
	names   []string
}

// Read loads every stacks/*/cdk.tf.json under a synth output directory.
func Read(dir string) (*Stacks, error) {
	docs, err := tfjson.ReadStacks(dir)
	if err != nil {
		return nil, err
	}
	return Parse(docs)
}

// Parse reads stacks given as stack name → cdk.tf.json bytes.
func Parse(docs map[string][]byte) (*Stacks, error) {
	s := &Stacks{byStack: map[string]map[string]*Resource{}}
	for name, b := range docs {
		var doc struct {
			Resource map[string]map[string]map[string]any `json:"resource"`
			Data     map[string]map[string]map[string]any `json:"data"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("stack %s: %w", name, err)
		}
		rs := map[string]*Resource{}
		add := func(prefix string, blocks map[string]map[string]map[string]any) {
			for typ, byName := range blocks {
				for n, attrs := range byName {
					addr := prefix + typ + "." + n
					rs[addr] = &Resource{Stack: name, Addr: addr, Type: typ, Attrs: attrs}
				}
			}
		}
		add("", doc.Resource)
		add("data.", doc.Data)
		s.byStack[name] = rs
		s.names = append(s.names, name)
	}
	sort.Strings(s.names)
	return s, nil
}

// Names lists the stacks in name order.
func (s *Stacks) Names() []string { return s.names }

// OfType lists one stack's resources of a type (data sources with "data."),
// in address order; stack "" means every stack.
func (s *Stacks) OfType(stack, typ string) []*Resource {
	var out []*Resource
	for _, name := range s.names {
		if stack != "" && name != stack {
			continue
		}
		for _, r := range s.byStack[name] {
			if r.Addr[:strings.LastIndex(r.Addr, ".")] == typ {
				out = append(out, r)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Where() < out[j].Where() })
	return out
}

var refRe = regexp.MustCompile(`^\$\{((?:data\.)?[a-z0-9_]+\.[A-Za-z0-9_-]+)\.([a-z_]+)\}$`)

// Ref resolves a value holding one attribute reference ("${aws_vpc.x.id}")
// to the resource it names in the same stack. Data sources that look up
// another stack's resources by tag resolve to that resource.
func (s *Stacks) Ref(stack string, v any) *Resource {
	str, _ := v.(string)
	m := refRe.FindStringSubmatch(str)
	if m == nil {
		return nil
	}
	r := s.byStack[stack][m[1]]
	if r != nil && strings.HasPrefix(r.Addr, "data.") {
		return s.lookup(r)
	}
	return r
}

// Refs resolves a list of references.
func (s *Stacks) Refs(stack string, v any) []*Resource {
	var out []*Resource
	list, _ := v.([]any)
	for _, e := range list {
		if r := s.Ref(stack, e); r != nil {
			out = append(out, r)
		}
	}
	return out
}

// lookup finds the managed resource a data source selects: same type, every
// tag it names, its CIDR, its VPC, and a tag:Name filter (any value). It
// returns nil unless exactly one resource matches, as the provider would
// fail on none or several.
func (s *Stacks) lookup(d *Resource) *Resource {
	var found []*Resource
	for _, r := range s.OfType("", d.Type) {
		if s.selects(d, r) {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		return nil
	}
	return found[0]
}

func (s *Stacks) selects(d, r *Resource) bool {
	tags, _ := r.Attrs["tags"].(map[string]any)
	want, _ := d.Attrs["tags"].(map[string]any)
	for k, v := range want {
		if tags[k] != v {
			return false
		}
	}
	if c, ok := d.Attrs["cidr_block"]; ok && c != r.Attrs["cidr_block"] {
		return false
	}
	if v, ok := d.Attrs["vpc_id"]; ok && s.Ref(d.Stack, v) != s.Ref(r.Stack, r.Attrs["vpc_id"]) {
		return false
	}
	for _, f := range blocks(d.Attrs["filter"]) {
		name, _ := f["name"].(string)
		if !strings.HasPrefix(name, "tag:") || !containsValue(f["values"], tags[strings.TrimPrefix(name, "tag:")]) {
			return false
		}
	}
	return true
}

func containsValue(list any, v any) bool {
	l, _ := list.([]any)
	for _, e := range l {
		if e == v {
			return true
		}
	}
	return false
}

// blocks reads a nested block held as one object or a list of objects.
var blocks = tfjson.Blocks

func str(v any) string {
	s, _ := v.(string)
	return s
}

var num = tfjson.Num

func strs(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
