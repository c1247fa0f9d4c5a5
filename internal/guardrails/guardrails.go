// Package guardrails checks synthesized stacks against the landing zone's
// safety rules and fails the synth on any violation, naming the construct
// path, the rule and the fix. It reads the synthesized JSON (one pass, no
// jsii round-trips), so it sees exactly what Terraform will apply.
//
// A rule can be waived for one resource only in code, next to it, with a
// reason (Waive); waivers are listed on every synth. Entry point: Check.
package guardrails

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/internal/tf"
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
	Path, Rule, Reason string
}

var waivers = map[string]Waiver{}

// Waive exempts the resource at construct path from rule. Call it next to
// the resource, with the reason a reviewer needs.
func Waive(path, rule, reason string) {
	if reason == "" || fixOf(rule) == "" {
		panic("guardrails.Waive: a known rule and a reason are required (" + path + ")")
	}
	waivers[path+"\x00"+rule] = Waiver{path, rule, reason}
}

// Waivers lists the registered waivers, sorted.
func Waivers() []Waiver {
	out := make([]Waiver, 0, len(waivers))
	for _, w := range waivers {
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path+out[i].Rule < out[j].Path+out[j].Rule })
	return out
}

// Reset forgets every waiver (each synth registers its own).
func Reset() { waivers = map[string]Waiver{} }

// Check reads every stack under outdir/stacks and returns the violations
// not waived, in stack and path order.
func Check(outdir string, o Options) (Violations, error) {
	files, err := filepath.Glob(filepath.Join(outdir, "stacks", "*", "cdk.tf.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no synthesized stacks (cdk.tf.json) under %s to check", outdir)
	}
	sort.Strings(files)
	var out Violations
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		vs, err := CheckStack(filepath.Base(filepath.Dir(f)), b, o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, vs...)
	}
	return out, nil
}

// CheckStack checks one synthesized stack.
func CheckStack(name string, data []byte, o Options) (Violations, error) {
	var doc stack
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	doc.name = name
	c := &checker{doc: doc, opts: o}
	c.buckets()
	c.simple()
	c.ingress()
	c.tags()
	sort.SliceStable(c.out, func(i, j int) bool { return c.out[i].Path < c.out[j].Path })
	return c.out, nil
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

func (c *checker) flag(typ, id, rule, detail string) {
	path := typ + "." + id
	if meta, ok := c.doc.Resource[typ][id]["//"].(map[string]any); ok {
		if m, ok := meta["metadata"].(map[string]any); ok {
			path, _ = m["path"].(string)
		}
	}
	if _, waived := waivers[path+"\x00"+rule]; waived {
		return
	}
	c.out = append(c.out, Violation{Stack: c.doc.name, Path: path, Rule: rule, Detail: detail})
}

// WaiveScan records, on the resource itself, that the security scan's
// finding id is accepted for it, and why. The reason travels in the
// resource's "//" comment block (Terraform ignores it); the scan turns it
// into an inline ignore on that resource only (cmd/tfhcl), and lists it.
func WaiveScan(r cdktf.TerraformResource, id, reason string) {
	if id == "" || reason == "" {
		panic("guardrails.WaiveScan: a finding ID and a reason are required")
	}
	r.AddOverride(tf.S("//.scan_waivers."+id), tf.S(reason))
}
