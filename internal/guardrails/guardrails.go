// Package guardrails checks synthesized stacks against the landing zone's
// safety rules and fails the synth on any violation, naming the construct
// path, the rule and the fix. It reads the synthesized JSON (one pass, no
// jsii round-trips), so it sees exactly what Terraform will apply.
//
// A rule can be waived for one resource only in code, next to it, with a
// reason (Waive). The waiver is written on the resource itself, so Check
// and Waivers read it back from the synthesized JSON like everything else.
// Entry point: Check.
package guardrails

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/internal/tf"
	"github.com/acme/landing-zone/internal/tfjson"
)

// Rule names.
const (
	RuleBucket       = "s3-bucket-safeguards"
	RuleLogGroup     = "log-group-retention-and-kms"
	RuleKMSRotation  = "kms-key-rotation"
	RuleOpenIngress  = "internet-ingress-allow-list"
	RuleLaunchTmpl   = "launch-template-imdsv2-and-encryption"
	RuleDataAtRest   = "datastore-encryption"
	RuleProdDeletion = "prod-deletion-protection"
	RuleTags         = "required-tags"
)

// Rules lists every rule with its fix, in check order.
var Rules = []struct{ Name, Fix string }{
	{RuleBucket, "make the bucket with constructs/bucket, which adds versioning, encryption, a public access block and a TLS-only policy"},
	{RuleLogGroup, "make the log group with constructs/loggroup, which requires retention and a KMS key"},
	{RuleKMSRotation, "set enable_key_rotation, or make the key with constructs/kms"},
	{RuleOpenIngress, "open the port to a narrower range, or add the opening to the allow-list in stacks (public ALB 80/443, VPN port)"},
	{RuleLaunchTmpl, "set metadata_options.http_tokens = required and encrypted = true on every EBS block device"},
	{RuleDataAtRest, "set storage_encrypted on the Aurora cluster, or at_rest_encryption_enabled and transit_encryption_enabled on Redis"},
	{RuleProdDeletion, "turn on deletion protection (prod stateful resources must not be destroyed by a plan)"},
	{RuleTags, "set the tag through the provider's default_tags (stacks.Account.Tags) and do not blank it on the resource"},
}

func fixOf(rule string) string {
	for _, r := range Rules {
		if r.Name == rule {
			return r.Fix
		}
	}
	return ""
}

// RequiredTags must be on every resource.
var RequiredTags = []string{"Environment", "ManagedBy", "SourceRepo", "Stack"}

// Opening is an allowed internet-facing ingress: a security group by name,
// a protocol and a port.
type Opening struct {
	Group, Protocol string
	Port            int
}

// Options configure a check.
type Options struct {
	// ProdStacks are the stacks whose stateful resources need deletion
	// protection.
	ProdStacks []string
	// InternetIngress is the allow-list of ingress from 0.0.0.0/0 or ::/0.
	InternetIngress []Opening
}

// Violation is one broken rule.
type Violation struct {
	Stack, Path, Rule, Detail string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s: rule %s: %s; fix: %s", v.Path, v.Rule, v.Detail, fixOf(v.Rule))
}

// Violations is every violation of a synth, as an error.
type Violations []Violation

func (vs Violations) Error() string {
	lines := []string{fmt.Sprintf("guardrails: %d violation(s); nothing was written", len(vs))}
	for _, v := range vs {
		lines = append(lines, "  "+v.String())
	}
	return strings.Join(lines, "\n")
}

// Waiver exempts one resource from one rule.
type Waiver struct {
	Stack, Path, Rule, Reason string
}

// waiversKey holds a resource's guardrail waivers, rule to reason, in its
// "//" comment block beside WaiveScan's scan_waivers (Terraform ignores it).
const waiversKey = "guardrail_waivers"

// Waive exempts resource r from rule. Call it next to the resource, with
// the reason a reviewer needs; the waiver applies to r alone and is listed
// on every synth.
func Waive(r cdktf.TerraformResource, rule, reason string) {
	if fixOf(rule) == "" {
		panic(fmt.Sprintf("guardrails.Waive: unknown rule %q on %s", rule, *r.Node().Path()))
	}
	if reason == "" {
		panic(fmt.Sprintf("guardrails.Waive: a reason is required to waive %s on %s", rule, *r.Node().Path()))
	}
	r.AddOverride(tf.S("//."+waiversKey+"."+rule), tf.S(reason))
}

// Check reads every stack under outdir/stacks and returns the violations
// not waived, in stack and path order.
func Check(outdir string, o Options) (Violations, error) {
	var out Violations
	err := eachStack(outdir, func(name string, doc stack) {
		c := &checker{doc: doc, opts: o}
		out = append(out, c.check()...)
	})
	return out, err
}

// Waivers lists the waivers written on the resources of every stack under
// outdir/stacks, in stack, path and rule order.
func Waivers(outdir string) ([]Waiver, error) {
	var out []Waiver
	err := eachStack(outdir, func(name string, doc stack) {
		for typ, rs := range doc.Resource {
			for id, r := range rs {
				path, waived := meta(typ, id, r)
				for rule, reason := range waived {
					reason, _ := reason.(string)
					out = append(out, Waiver{Stack: name, Path: path, Rule: rule, Reason: reason})
				}
			}
		}
	})
	slices.SortFunc(out, func(a, b Waiver) int {
		return cmp.Or(cmp.Compare(a.Stack, b.Stack), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Rule, b.Rule))
	})
	return out, err
}

// eachStack decodes every stack under outdir/stacks, in name order.
func eachStack(outdir string, fn func(name string, doc stack)) error {
	docs, err := tfjson.ReadStacks(outdir)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(docs) == 0) {
		return fmt.Errorf("no synthesized stacks (cdk.tf.json) under %s to check", outdir)
	}
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(docs)) {
		doc, err := decode(name, docs[name])
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(outdir, "stacks", name, "cdk.tf.json"), err)
		}
		fn(name, doc)
	}
	return nil
}

// CheckStack checks one synthesized stack.
func CheckStack(name string, data []byte, o Options) (Violations, error) {
	doc, err := decode(name, data)
	if err != nil {
		return nil, err
	}
	c := &checker{doc: doc, opts: o}
	return c.check(), nil
}

func decode(name string, data []byte) (stack, error) {
	var doc stack
	err := json.Unmarshal(data, &doc)
	doc.name = name
	return doc, err
}

type stack struct {
	name     string
	Provider map[string][]map[string]any          `json:"provider"`
	Resource map[string]map[string]map[string]any `json:"resource"`
}

type checker struct {
	doc  stack
	opts Options
	out  Violations
}

func (c *checker) check() Violations {
	c.buckets()
	c.simple()
	c.ingress()
	c.tags()
	sort.SliceStable(c.out, func(i, j int) bool { return c.out[i].Path < c.out[j].Path })
	return c.out
}

// flag records a violation on a resource, unless the resource waives rule.
func (c *checker) flag(typ, id, rule, detail string) {
	path, waived := meta(typ, id, c.doc.Resource[typ][id])
	if _, ok := waived[rule]; ok {
		return
	}
	c.out = append(c.out, Violation{Stack: c.doc.name, Path: path, Rule: rule, Detail: detail})
}

// meta reads a resource's construct path (its address when the JSON has
// none) and the guardrail waivers written on it (Waive).
func meta(typ, id string, r map[string]any) (path string, waived map[string]any) {
	path = typ + "." + id
	comment, _ := r["//"].(map[string]any)
	if m, ok := comment["metadata"].(map[string]any); ok {
		path, _ = m["path"].(string)
	}
	waived, _ = comment[waiversKey].(map[string]any)
	return path, waived
}

// WaiveScan records, on the resource itself, that the security scan's
// finding id is accepted for it, and why. The reason travels in the
// resource's "//" comment block (Terraform ignores it); the scan turns it
// into an inline ignore on that resource only (cmd/tfhcl), and lists it.
func WaiveScan(r cdktf.TerraformResource, id, reason string) {
	requireScanWaiver("WaiveScan", id, reason)
	r.AddOverride(tf.S("//."+scanWaiversKey+"."+id), tf.S(reason))
}

// RawScanWaiver is WaiveScan for a raw resource (tf.RawScope): the "//"
// entry of its body.
func RawScanWaiver(id, reason string) map[string]any {
	requireScanWaiver("RawScanWaiver", id, reason)
	return map[string]any{scanWaiversKey: map[string]any{id: reason}}
}

// scanWaiversKey holds the scan's waivers in a resource's "//" block
// (cmd/tfhcl reads them).
const scanWaiversKey = "scan_waivers"

func requireScanWaiver(fn, id, reason string) {
	if id == "" || reason == "" {
		panic("guardrails." + fn + ": a finding ID and a reason are required")
	}
}
