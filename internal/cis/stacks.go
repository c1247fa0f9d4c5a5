// Package cis evaluates the CIS AWS Foundations Benchmark v3.0.0 over the
// synthesized stacks of a config (every account, every stack): each control
// that infrastructure as code can express is a function over the Terraform
// JSON that holds or fails with evidence (a resource address, or the thing
// that is missing); the others are reported as manual. The metric filter
// controls (4.x) run sample CloudTrail events through the filter pattern,
// so a filter holds for what it matches, not for its name. Entry points:
// Evaluate, Controls, Write. Operator docs: help/cis.md.
package cis

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/tfjson"
)

// resource is one resource (or data source) of a synthesized stack.
type resource struct {
	Stack   string // stack name
	Account string // account name (from the provider's allowed account, else the stack's)
	Region  string // region of the provider the resource uses
	Type    string
	Name    string
	Attrs   map[string]any
}

// Addr is the resource's address as evidence: "stack/type.name".
func (r *resource) Addr() string { return r.Stack + "/" + r.Type + "." + r.Name }

// local is the address Terraform references use inside the stack.
func (r *resource) local() string { return r.Type + "." + r.Name }

func (r *resource) str(k string) string { s, _ := r.Attrs[k].(string); return s }

// boolean reads a bool the provider may hold as "true"; def when absent.
func (r *resource) boolean(k string, def bool) bool { return asBool(r.Attrs[k], def) }

func asBool(v any, def bool) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return x == "true"
	}
	return def
}

// set is the synthesized stacks of one config, flattened.
type set struct {
	cfg  *config.Config
	all  []*resource
	data []*resource
}

// load flattens the stacks (by stack name, as tfjson.ReadStacks returns
// them).
func load(cfg *config.Config, docs map[string][]byte) (*set, error) {
	s := &set{cfg: cfg}
	ids := map[string]string{}
	for n, a := range cfg.Accounts {
		if a != nil {
			ids[a.ID] = n
		}
	}
	for _, stack := range slices.Sorted(maps.Keys(docs)) {
		var doc map[string]any
		if err := json.Unmarshal(docs[stack], &doc); err != nil {
			return nil, fmt.Errorf("stack %s: %w", stack, err)
		}
		account := cfg.AccountOfStack(stack)
		type prov struct{ account, region string }
		provs := map[string]prov{}
		ps, _ := doc["provider"].(map[string]any)
		for _, p := range tfjson.Blocks(ps["aws"]) {
			key := "aws"
			if a, _ := p["alias"].(string); a != "" {
				key = "aws." + a
			}
			pv := prov{account: account, region: cfg.Region}
			if r, _ := p["region"].(string); r != "" {
				pv.region = r
			}
			if ids2, _ := p["allowed_account_ids"].([]any); len(ids2) == 1 {
				if n, ok := ids[fmt.Sprint(ids2[0])]; ok {
					pv.account = n
				}
			}
			provs[key] = pv
		}
		add := func(block string, dst *[]*resource) {
			types, _ := doc[block].(map[string]any)
			for _, typ := range slices.Sorted(maps.Keys(types)) {
				byName, _ := types[typ].(map[string]any)
				for _, name := range slices.Sorted(maps.Keys(byName)) {
					attrs, _ := byName[name].(map[string]any)
					pv, ok := provs["aws"]
					if p, _ := attrs["provider"].(string); p != "" {
						pv, ok = provs[p]
					}
					if !ok {
						pv = prov{account: account, region: cfg.Region}
					}
					*dst = append(*dst, &resource{Stack: stack, Account: pv.account, Region: pv.region, Type: typ, Name: name, Attrs: attrs})
				}
			}
		}
		add("resource", &s.all)
		add("data", &s.data)
	}
	return s, nil
}

// of returns every resource of the given types.
func (s *set) of(types ...string) []*resource {
	var out []*resource
	for _, r := range s.all {
		if slices.Contains(types, r.Type) {
			out = append(out, r)
		}
	}
	return out
}

// in returns the resources of a type in one account (and region, if not "").
func (s *set) in(account, region, typ string) []*resource {
	var out []*resource
	for _, r := range s.all {
		if r.Type == typ && r.Account == account && (region == "" || r.Region == region) {
			out = append(out, r)
		}
	}
	return out
}

// refersTo reports whether v (a string, or a list of them) references r in
// r's own stack ("${type.name.attr}"), or names it by a literal name
// attribute.
func refersTo(v any, r *resource, literal ...string) bool {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if refersTo(e, r, literal...) {
				return true
			}
		}
		return false
	case string:
		if tfjson.Ref(x) == r.local() {
			return true
		}
		for _, k := range literal {
			if n := r.str(k); n != "" && n == x {
				return true
			}
		}
	}
	return false
}

// referrers returns the resources of typ in r's stack whose attribute k
// references r (or holds its literal name attribute).
func (s *set) referrers(r *resource, typ, k string, literal ...string) []*resource {
	var out []*resource
	for _, o := range s.all {
		if o.Type == typ && o.Stack == r.Stack && refersTo(o.Attrs[k], r, literal...) {
			out = append(out, o)
		}
	}
	return out
}

// accounts lists the config's accounts in deploy order.
func (s *set) accounts() []string { return s.cfg.AccountNames() }

// WatchedRegions lists the regions the security baseline must cover in
// every account: the config's regions.watched (home region first).
func WatchedRegions(cfg *config.Config) []string {
	return cfg.WatchedRegions()
}

// policyDoc is an IAM policy document.
type policyDoc struct {
	Statement []statement
}

type statement struct {
	Sid       string
	Effect    string
	Principal any
	Action    any
	NotAction any
	Resource  any
	Condition map[string]map[string]any
}

// parsePolicy reads a policy attribute (a JSON string); ok is false when it
// is not a literal document.
func parsePolicy(v any) (policyDoc, bool) {
	s, _ := v.(string)
	var raw struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return policyDoc{}, false
	}
	var d policyDoc
	if err := json.Unmarshal(raw.Statement, &d.Statement); err != nil {
		var one statement
		if err := json.Unmarshal(raw.Statement, &one); err != nil {
			return policyDoc{}, false
		}
		d.Statement = []statement{one}
	}
	return d, true
}

// strs reads a string or a list of strings.
func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
