package retire

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/config"
)

// The offline proof. There is no deployed state offline, so it builds one:
// it plans each stack's offline synth, turns the planned values into a
// Terraform state (version 4) that the real provider accepts, settles it
// until planning the same configuration changes nothing (that is the
// deployed landing zone), and then plans what the retirement would do with
// -refresh=false:
//
//   - the retiring account's stacks, destroyed: every change a delete, and
//     the deleted addresses exactly the stack's resources (less Kept);
//   - every other stack, planned with the config without the account: the
//     changes are exactly the stack's JSON difference, and every changed
//     resource is tied to the account (Tied).

// Stack is one stack's synthesized JSON (cdk.tf.json).
type Stack struct {
	Resource map[string]map[string]json.RawMessage `json:"resource"`
}

// ReadStacks reads every stack of a synth output folder (cdktf.out).
func ReadStacks(out string) (map[string][]byte, error) {
	dirs, err := os.ReadDir(filepath.Join(out, "stacks"))
	if err != nil {
		return nil, err
	}
	m := map[string][]byte{}
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(out, "stacks", d.Name(), "cdk.tf.json"))
		if err != nil {
			return nil, err
		}
		m[d.Name()] = b
	}
	return m, nil
}

// Resources are a stack's resources by address (type.name), with their
// bodies less cdktf's metadata.
func Resources(b []byte) (map[string]map[string]any, error) {
	var s struct {
		Resource map[string]map[string]map[string]any `json:"resource"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	out := map[string]map[string]any{}
	for typ, rs := range s.Resource {
		for name, body := range rs {
			delete(body, "//")
			out[typ+"."+name] = body
		}
	}
	return out, nil
}

// Change is how a stack's resources differ between two syntheses.
type Change struct {
	Deleted, Changed, Added []string
}

// Empty reports whether nothing differs.
func (c Change) Empty() bool { return len(c.Deleted)+len(c.Changed)+len(c.Added) == 0 }

// Diff compares two syntheses of one stack, by address.
func Diff(before, after []byte) (Change, error) {
	b, err := Resources(before)
	if err != nil {
		return Change{}, err
	}
	a, err := Resources(after)
	if err != nil {
		return Change{}, err
	}
	var c Change
	for _, k := range slices.Sorted(maps.Keys(b)) {
		switch av, ok := a[k]; {
		case !ok:
			c.Deleted = append(c.Deleted, k)
		case !reflect.DeepEqual(av, b[k]):
			c.Changed = append(c.Changed, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if _, ok := b[k]; !ok {
			c.Added = append(c.Added, k)
		}
	}
	return c, nil
}

// Tokens are what names an account in another stack's resource: its ID,
// its resource name prefix (<prefix>-<account>), its VPC range (also as
// network and mask) and its
// name as a whole JSON string.
func Tokens(cfg *config.Config, account string) []string {
	a := cfg.Accounts[account]
	t := []string{a.ID, cfg.NamePrefix + "-" + account, `"` + account + `"`, `"` + account + `-`}
	if a.VPC != nil {
		t = append(t, a.VPC.CIDR)
		// The VPN pushes routes in OpenVPN's network/mask form.
		if _, n, err := net.ParseCIDR(a.VPC.CIDR); err == nil {
			t = append(t, n.IP.String()+" "+net.IP(n.Mask).String())
		}
	}
	return t
}

// Tied reports whether a resource body names the account (Tokens), in
// its JSON or in the user data it carries base64-encoded (a launch
// template's routes and ranges).
func Tied(body map[string]any, tokens []string) bool {
	b, _ := json.Marshal(body)
	if ud, ok := body["user_data"].(string); ok {
		if dec, err := base64.StdEncoding.DecodeString(ud); err == nil {
			b = append(b, dec...)
		}
	}
	for _, t := range tokens {
		if bytes.Contains(b, []byte(t)) || bytes.Contains(b, []byte(strings.ReplaceAll(t, `"`, `\"`))) {
			return true
		}
	}
	return false
}

// tiedSet are the resources of a stack's JSON difference c tied to the
// account: those that name it (Tied), and then, until nothing is added,
// those that reference a tied resource being deleted (a membership in a
// group of the account) and the deleted resources that a tied deleted
// resource references (the group a tied policy is attached to).
func tiedSet(c Change, before, after map[string]map[string]any, tokens []string) map[string]bool {
	tied := map[string]bool{}
	body := func(k string) map[string]any {
		if b := before[k]; b != nil {
			return b
		}
		return after[k]
	}
	all := slices.Concat(c.Deleted, c.Changed, c.Added)
	for _, k := range all {
		if Tied(body(k), tokens) {
			tied[k] = true
		}
	}
	refs := func(k string) []string {
		b, _ := json.Marshal(body(k))
		var out []string
		for _, m := range refAnyRe.FindAllStringSubmatch(string(b), -1) {
			out = append(out, m[1])
		}
		return out
	}
	for changed := true; changed; {
		changed = false
		for _, k := range all {
			if tied[k] {
				continue
			}
			for _, r := range refs(k) {
				if tied[r] && slices.Contains(c.Deleted, r) {
					tied[k], changed = true, true
				}
			}
		}
		for _, k := range c.Deleted {
			if !tied[k] {
				continue
			}
			for _, r := range refs(k) {
				if !tied[r] && slices.Contains(c.Deleted, r) {
					tied[r], changed = true, true
				}
			}
		}
	}
	return tied
}

// followsTied reports whether body references a changed resource that is
// tied to the account.
func followsTied(body map[string]any, changed []string, tied map[string]bool) bool {
	b, _ := json.Marshal(body)
	for _, m := range refAnyRe.FindAllStringSubmatch(string(b), -1) {
		if tied[m[1]] && slices.Contains(changed, m[1]) {
			return true
		}
	}
	return false
}

var refAnyRe = regexp.MustCompile(`\$\{([a-z0-9_]+\.[A-Za-z0-9_-]+)\.`)

// Planned is a plan's resource changes by address: "delete", "create",
// "update" or "replace" (no-ops and data sources are left out).
type Planned map[string]string

// CheckDestroy requires every change of a destroy plan to be a delete and
// the deleted addresses to be exactly want.
func CheckDestroy(p Planned, want []string) error {
	var problems []string
	for _, k := range slices.Sorted(maps.Keys(p)) {
		if p[k] != "delete" {
			problems = append(problems, fmt.Sprintf("%s: %s, not delete", k, p[k]))
		}
	}
	for _, k := range want {
		if _, ok := p[k]; !ok {
			problems = append(problems, k+": in the stack but not destroyed")
		}
	}
	for _, k := range slices.Sorted(maps.Keys(p)) {
		if !slices.Contains(want, k) {
			problems = append(problems, k+": destroyed but not the stack's to destroy")
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("the destroy plan is not the stack's resources:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// CheckOthers requires another stack's plan (the config without the
// account, against the deployed state) to change exactly its JSON
// difference c, and every resource it changes to be tied to the account:
// named by tokens in its body before (deleted, changed) or after (added).
func CheckOthers(stack string, p Planned, c Change, before, after map[string]map[string]any, tokens []string) error {
	var problems []string
	tied := tiedSet(c, before, after, tokens)
	expect := map[string][]string{}
	for _, k := range c.Deleted {
		expect[k] = []string{"delete"}
	}
	for _, k := range c.Changed {
		expect[k] = []string{"update", "replace"}
	}
	for _, k := range c.Added {
		expect[k] = []string{"create"}
	}
	// An update the JSON does not explain follows from a tied resource it
	// references changing (an autoscaling group picks up its launch
	// template's new version).
	for _, k := range slices.Sorted(maps.Keys(p)) {
		if expect[k] == nil && p[k] == "update" && followsTied(before[k], c.Changed, tied) {
			expect[k], tied[k] = []string{"update"}, true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(p)) {
		ok := expect[k]
		if !slices.Contains(ok, p[k]) {
			problems = append(problems, fmt.Sprintf("%s: planned %s, but its JSON %s", k, p[k], map[bool]string{true: "did not change", false: "changed otherwise"}[ok == nil]))
		}
		if !tied[k] {
			problems = append(problems, fmt.Sprintf("%s: planned %s, but it does not name the retired account", k, p[k]))
		}
	}
	for _, k := range c.Deleted {
		if p[k] != "delete" {
			problems = append(problems, k+": removed from the JSON, but the plan does not delete it")
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("stack %s: the plan without the account touches more than the account's resources:\n  %s", stack, strings.Join(problems, "\n  "))
	}
	return nil
}

// Kept are the resources of an app stack that the retirement keeps out of
// the destroy (terraform state rm): the KMS keys that encrypt the data
// stores whose final snapshots it takes, so the snapshots stay readable.
func Kept(b []byte) ([]string, error) {
	rs, err := Resources(b)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(rs)) {
		if !strings.HasPrefix(k, "aws_rds_cluster.") && !strings.HasPrefix(k, "aws_elasticache_replication_group.") {
			continue
		}
		ref, _ := rs[k]["kms_key_id"].(string)
		// ${aws_kms_key.NAME.arn}
		if m := strings.TrimPrefix(ref, "${"); strings.HasPrefix(m, "aws_kms_key.") {
			parts := strings.Split(strings.TrimSuffix(m, "}"), ".")
			if key := parts[0] + "." + parts[1]; !slices.Contains(out, key) {
				out = append(out, key)
			}
		}
	}
	return out, nil
}

// Terraform runs the terraform CLI with a CLI config (the provider
// mirror), offline.
type Terraform struct {
	RC  string    // TF_CLI_CONFIG_FILE
	Log io.Writer // progress; may be nil
}

func (t Terraform) run(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("terraform", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+t.RC, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
	if os.Getenv("GOGC") == "" {
		cmd.Env = append(cmd.Env, "GOGC=400")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("terraform %s in %s: %v\n%s%s", args[0], dir, err, tailOf(string(out), 30), tailOf(stderr.String(), 30))
	}
	return out, nil
}

func tailOf(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n") + "\n"
}

func (t Terraform) logf(format string, args ...any) {
	if t.Log != nil {
		fmt.Fprintf(t.Log, format, args...)
	}
}

// Init runs terraform init in dir.
func (t Terraform) Init(dir string) error {
	_, err := t.run(dir, "init", "-input=false", "-no-color")
	return err
}

// planJSON is the part of `terraform show -json PLAN` the proof reads.
type planJSON struct {
	ResourceChanges []struct {
		Address string `json:"address"`
		Mode    string `json:"mode"`
		Type    string `json:"type"`
		Index   any    `json:"index"`
		Change  struct {
			Actions        []string `json:"actions"`
			After          any      `json:"after"`
			AfterUnknown   any      `json:"after_unknown"`
			AfterSensitive any      `json:"after_sensitive"`
		} `json:"change"`
	} `json:"resource_changes"`
}

// Plan plans dir with -refresh=false (and -destroy) and returns the
// changes and the whole JSON.
func (t Terraform) Plan(dir string, destroy bool) (Planned, *planJSON, error) {
	args := []string{"plan", "-refresh=false", "-input=false", "-no-color", "-lock=false", "-out=retire.tfplan"}
	if destroy {
		args = append(args, "-destroy")
	}
	if _, err := t.run(dir, args...); err != nil {
		return nil, nil, err
	}
	b, err := t.run(dir, "show", "-json", "retire.tfplan")
	if err != nil {
		return nil, nil, err
	}
	var p planJSON
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, nil, err
	}
	out := Planned{}
	for _, rc := range p.ResourceChanges {
		if rc.Mode != "managed" {
			continue
		}
		switch a := strings.Join(rc.Change.Actions, ","); a {
		case "no-op":
		case "delete,create", "create,delete":
			out[rc.Address] = "replace"
		default:
			out[rc.Address] = a
		}
	}
	return out, &p, nil
}

// schemas are the provider schemas of `terraform providers schema -json`.
type schemas struct {
	ProviderSchemas map[string]struct {
		ResourceSchemas map[string]struct {
			Version int    `json:"version"`
			Block   *block `json:"block"`
		} `json:"resource_schemas"`
	} `json:"provider_schemas"`
}

type block struct {
	Attributes map[string]struct {
		Type     json.RawMessage `json:"type"`
		Optional bool            `json:"optional"`
		Computed bool            `json:"computed"`
	} `json:"attributes"`
	BlockTypes map[string]struct {
		NestingMode string `json:"nesting_mode"`
		Block       *block `json:"block"`
	} `json:"block_types"`
}

func (t Terraform) schemas(dir string) (*schemas, error) {
	b, err := t.run(dir, "providers", "schema", "-json")
	if err != nil {
		return nil, err
	}
	var s schemas
	return &s, json.Unmarshal(b, &s)
}

const (
	awsProvider  = "registry.terraform.io/hashicorp/aws"
	tfdProvider  = "terraform.io/builtin/terraform"
	placeholdKey = "000000000000"
)

// state is a Terraform state, version 4.
type state struct {
	Version          int             `json:"version"`
	TerraformVersion string          `json:"terraform_version"`
	Serial           int             `json:"serial"`
	Lineage          string          `json:"lineage"`
	Outputs          map[string]any  `json:"outputs"`
	Resources        []stateResource `json:"resources"`
}

type stateResource struct {
	Mode      string          `json:"mode"`
	Type      string          `json:"type"`
	Name      string          `json:"name"`
	Provider  string          `json:"provider"`
	Instances []stateInstance `json:"instances"`
}

type stateInstance struct {
	IndexKey            any            `json:"index_key,omitempty"`
	SchemaVersion       int            `json:"schema_version"`
	Attributes          map[string]any `json:"attributes"`
	SensitiveAttributes []any          `json:"sensitive_attributes"`
}

// Deploy gives dir (an initialized offline stack) a state as if its
// configuration had been applied: the planned values, with every value
// known only after apply filled in by type (ARNs that parse as ARNs), then
// settled with the provider until a plan changes nothing. It returns the
// number of settling rounds.
func (t Terraform) Deploy(dir, stackJSON string, region string) (int, error) {
	conf, err := Resources([]byte(stackJSON))
	if err != nil {
		return 0, err
	}
	sch, err := t.schemas(dir)
	if err != nil {
		return 0, err
	}
	st := &state{Version: 4, TerraformVersion: "1.11.4", Serial: 1, Lineage: lineage(), Outputs: map[string]any{}}
	index := map[string]*stateInstance{}
	for round := 0; round < 5; round++ {
		planned, p, err := t.Plan(dir, false)
		if err != nil {
			return round, err
		}
		if round > 0 && len(planned) == 0 {
			return round, nil
		}
		if round > 0 && round == 4 {
			return round, fmt.Errorf("the crafted state does not settle; still changing: %v", planned)
		}
		f := &filler{region: region, changes: map[string]*resourceChange{}, conf: conf}
		for _, rc := range p.ResourceChanges {
			after, _ := rc.Change.After.(map[string]any)
			unknown, _ := rc.Change.AfterUnknown.(map[string]any)
			f.changes[rc.Address] = &resourceChange{after: after, unknown: unknown}
		}
		for _, rc := range p.ResourceChanges {
			if rc.Mode != "managed" || slices.Equal(rc.Change.Actions, []string{"no-op"}) {
				continue
			}
			prov := awsProvider
			if rc.Type == "terraform_data" {
				prov = tfdProvider
			}
			rs, ok := sch.ProviderSchemas[prov].ResourceSchemas[rc.Type]
			if !ok || rs.Block == nil {
				return round, fmt.Errorf("%s: no schema for %s", rc.Address, rc.Type)
			}
			after, _ := rc.Change.After.(map[string]any)
			unknown, _ := rc.Change.AfterUnknown.(map[string]any)
			inst := index[rc.Address]
			if inst == nil {
				name := strings.TrimPrefix(rc.Address, rc.Type+".")
				pstr := `provider["` + prov + `"]`
				if a, _ := conf[rc.Address]["provider"].(string); strings.HasPrefix(a, "aws.") {
					pstr += "." + strings.TrimPrefix(a, "aws.")
				}
				st.Resources = append(st.Resources, stateResource{Mode: "managed", Type: rc.Type, Name: name, Provider: pstr,
					Instances: []stateInstance{{SchemaVersion: rs.Version, SensitiveAttributes: []any{}}}})
				inst = &st.Resources[len(st.Resources)-1].Instances[0]
				inst.Attributes = f.block(after, unknown, conf[rc.Address], rs.Block, rc.Address).(map[string]any)
				inst.SensitiveAttributes = sensitivePaths(rc.Change.AfterSensitive, nil)
				continue
			}
			// Settle: take every value the plan knows now (references to
			// other resources resolve to their state), keep the rest.
			merged := merge(inst.Attributes, after, unknown).(map[string]any)
			for name, attr := range rs.Block.Attributes {
				if string(attr.Type) == `"dynamic"` {
					merged[name] = inst.Attributes[name]
					if v, ok := after[name]; ok && v != nil && unknown[name] == nil {
						merged[name] = map[string]any{"value": v, "type": ctyType(v)}
					}
				}
			}
			inst.Attributes = merged
		}
		// Pointers into st.Resources stay valid only until the next append.
		for i := range st.Resources {
			r := &st.Resources[i]
			index[r.Type+"."+r.Name] = &r.Instances[0]
		}
		st.Serial++
		if err := t.push(dir, st); err != nil {
			return round, err
		}
	}
	return 5, nil
}

func (t Terraform) push(dir string, st *state) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	f := filepath.Join(dir, "retire-crafted.tfstate")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		return err
	}
	_, err = t.run(dir, "state", "push", "-force", "-lock=false", "retire-crafted.tfstate")
	return err
}

// StateRm removes addresses from dir's state, as the retirement does with
// Kept.
func (t Terraform) StateRm(dir string, addrs []string) error {
	if len(addrs) == 0 {
		return nil
	}
	_, err := t.run(dir, append([]string{"state", "rm", "-lock=false"}, addrs...)...)
	return err
}

func lineage() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// merge overlays the known values of after on prior.
func merge(prior, after, unknown any) any {
	if u, ok := unknown.(bool); ok && u {
		return prior
	}
	switch a := after.(type) {
	case map[string]any:
		p, _ := prior.(map[string]any)
		u, _ := unknown.(map[string]any)
		out := map[string]any{}
		maps.Copy(out, p)
		for k, v := range a {
			out[k] = merge(p[k], v, u[k])
		}
		return out
	case []any:
		p, _ := prior.([]any)
		u, _ := unknown.([]any)
		out := make([]any, len(a))
		for i, v := range a {
			var pv, uv any
			if i < len(p) {
				pv = p[i]
			}
			if i < len(u) {
				uv = u[i]
			}
			out[i] = merge(pv, v, uv)
		}
		return out
	}
	return after
}

// filler fills in the values a plan knows only after apply, so that a
// reference resolves to the value its target got: an unknown attribute
// configured as a plain reference ("${TYPE.NAME.ATTR}") takes the target's
// value, every other one a placeholder unique to its resource and
// attribute.
type filler struct {
	region  string
	changes map[string]*resourceChange
	conf    map[string]map[string]any // configuration bodies by address
	depth   int
}

type resourceChange struct {
	after, unknown map[string]any
}

var refRe = regexp.MustCompile(`^\$\{([a-z0-9_]+\.[A-Za-z0-9_-]+)\.([a-z0-9_]+)\}$`)

// resolve is the value of a plain reference's target.
func (f *filler) resolve(conf any, name, addr string) (any, bool) {
	s, _ := conf.(string)
	m := refRe.FindStringSubmatch(s)
	if m == nil || f.depth > 20 {
		return nil, false
	}
	target, attr := m[1], m[2]
	c := f.changes[target]
	if c == nil {
		return nil, false
	}
	if c.unknown[attr] != true {
		return c.after[attr], true
	}
	f.depth++
	defer func() { f.depth-- }()
	if v, ok := f.resolve(f.conf[target][attr], attr, target); ok {
		return v, true
	}
	return placeholder(attr, target, f.region), true
}

// block returns after with every unknown value of block b filled in; conf
// is the block's configuration.
func (f *filler) block(after, unknown any, conf any, b *block, addr string) any {
	a, _ := after.(map[string]any)
	u, _ := unknown.(map[string]any)
	c, _ := conf.(map[string]any)
	out := map[string]any{}
	maps.Copy(out, a)
	for name, attr := range b.Attributes {
		if v, ok := f.resolve(c[name], name, addr); ok && u[name] == true {
			out[name] = v
			continue
		}
		switch {
		case u[name] == true && leaveNull[strings.SplitN(addr, ".", 2)[0]+"."+name]:
			out[name] = nil
		case u[name] == true && awsDefault[strings.SplitN(addr, ".", 2)[0]+"."+name] != nil:
			out[name] = awsDefault[strings.SplitN(addr, ".", 2)[0]+"."+name]
		case string(attr.Type) == `"dynamic"` && a[name] != nil:
			// State records a dynamic value with its type.
			out[name] = map[string]any{"value": a[name], "type": ctyType(a[name])}
		default:
			out[name] = f.value(a[name], u[name], c[name], attr.Type, name, addr)
		}
	}
	for name, bt := range b.BlockTypes {
		v, uv := a[name], u[name]
		if uv == true {
			out[name] = nil
			continue
		}
		switch bt.NestingMode {
		case "single", "group":
			if v != nil {
				out[name] = f.block(v, uv, c[name], bt.Block, addr)
			}
		default: // list, set
			vs, _ := v.([]any)
			us, _ := uv.([]any)
			cs := asList(c[name])
			var items []any
			for i, item := range vs {
				items = append(items, f.block(item, at(us, i), at(cs, i), bt.Block, addr))
			}
			if v != nil {
				if items == nil {
					items = []any{}
				}
				out[name] = items
			}
		}
	}
	if strings.HasPrefix(addr, "aws_acm_certificate.") && u["domain_validation_options"] != nil {
		// One validation record per name, as ACM returns them.
		names := []any{a["domain_name"]}
		if sans, ok := a["subject_alternative_names"].([]any); ok {
			names = append(names, sans...)
		}
		var dvo []any
		for _, n := range names {
			if n == nil || slices.ContainsFunc(dvo, func(x any) bool { return x.(map[string]any)["domain_name"] == n }) {
				continue
			}
			host := strings.TrimPrefix(n.(string), "*.")
			dvo = append(dvo, map[string]any{"domain_name": n, "resource_record_name": "_x." + host + ".",
				"resource_record_type": "CNAME", "resource_record_value": "_x.acm-validations.aws."})
		}
		out["domain_validation_options"] = dvo
	}
	return out
}

// leaveNull are optional, computed attributes that stay null in a crafted
// state: any value there contradicts the rest of the resource. Every other
// unknown value gets a placeholder, because a null one would read as unset
// and, where it forces replacement, plan one.
var leaveNull = map[string]bool{
	"aws_sns_topic.fifo_throughput_scope": true, // only for FIFO topics
}

// awsDefault are values AWS gives optional, computed attributes, where the
// provider compares them with the rest of the configuration (a made-up
// protocol version replaces the target group).
var awsDefault = map[string]any{
	"aws_lb_target_group.protocol_version": "HTTP1",
	"aws_lb_target_group.ip_address_type":  "ipv4",
}

// sensitivePaths turns a plan's after_sensitive marks into a state's
// sensitive_attributes paths (a sensitivity change is planned as an update).
func sensitivePaths(marks any, path []any) []any {
	out := []any{}
	switch m := marks.(type) {
	case bool:
		if m && path != nil {
			out = append(out, slices.Clone(path))
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(m)) {
			out = append(out, sensitivePaths(m[k], append(slices.Clone(path), map[string]any{"type": "get_attr", "value": k}))...)
		}
	case []any:
		for i, e := range m {
			out = append(out, sensitivePaths(e, append(slices.Clone(path), map[string]any{"type": "index", "value": map[string]any{"value": i, "type": "number"}}))...)
		}
	}
	return out
}

func asList(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case map[string]any:
		return []any{x}
	}
	return nil
}

func at(l []any, i int) any {
	if i < len(l) {
		return l[i]
	}
	return nil
}

// value fills an unknown value of cty type typ.
func (f *filler) value(v, unknown, conf any, typ json.RawMessage, name, addr string) any {
	var kind any
	_ = json.Unmarshal(typ, &kind)
	if unknown == true {
		if r, ok := f.resolve(conf, name, addr); ok {
			return r
		}
		switch k := kind.(type) {
		case string:
			switch k {
			case "string":
				return placeholder(name, addr, f.region)
			case "number":
				return 0
			case "bool":
				return false
			}
		case []any:
			switch k[0] {
			case "list", "set":
				// One element for a list of objects (outputs index it:
				// master_user_secret[0]), none otherwise.
				if o, ok := k[1].([]any); ok && len(o) == 2 && o[0] == "object" {
					elem, _ := json.Marshal(o)
					return []any{f.value(nil, true, nil, elem, name, addr)}
				}
				return []any{}
			case "tuple":
				return []any{}
			case "object":
				attrs, _ := k[1].(map[string]any)
				out := map[string]any{}
				for an, at := range attrs {
					ab, _ := json.Marshal(at)
					out[an] = f.value(nil, true, nil, ab, an, addr)
				}
				return out
			case "map":
				return map[string]any{}
			}
		}
		return nil
	}
	if unknown == nil || v == nil {
		return v
	}
	// Partly unknown collections: fill element by element.
	k, _ := kind.([]any)
	if len(k) < 2 {
		return v
	}
	elem, _ := json.Marshal(k[1])
	switch vv := v.(type) {
	case []any:
		us, _ := unknown.([]any)
		cs, _ := conf.([]any)
		if len(cs) != len(vv) {
			cs = nil // a set's order is not the configuration's
		}
		out := make([]any, len(vv))
		for i := range vv {
			out[i] = f.value(vv[i], at(us, i), at(cs, i), elem, name, addr)
		}
		return out
	case map[string]any:
		us, _ := unknown.(map[string]any)
		cm, _ := conf.(map[string]any)
		out := map[string]any{}
		if k[0] == "object" {
			attrs, _ := k[1].(map[string]any)
			for an, at := range attrs {
				ab, _ := json.Marshal(at)
				out[an] = f.value(vv[an], us[an], cm[an], ab, an, addr)
			}
			return out
		}
		for mk, mv := range vv {
			out[mk] = f.value(mv, us[mk], cm[mk], elem, name, addr)
		}
		return out
	}
	return v
}

// placeholder is a deployed-looking value for an attribute known only
// after apply: an ARN for ARNs, else a short ID unique to the resource and
// attribute (IDs such as zone IDs have length limits).
func placeholder(name, addr, region string) string {
	sum := sha256.Sum256([]byte(addr + "/" + name))
	id := "x" + hex.EncodeToString(sum[:])[:12]
	if name == "arn" || strings.HasSuffix(name, "_arn") {
		typ := strings.SplitN(addr, ".", 2)[0]
		svc := strings.SplitN(strings.TrimPrefix(typ, "aws_"), "_", 2)[0]
		return awsenv.New(placeholdKey, region).ARN(svc, typ+"/"+id)
	}
	if name == "id" {
		if p, ok := idPrefix[strings.SplitN(addr, ".", 2)[0]]; ok {
			return p + id[1:]
		}
	}
	return id
}

// idPrefix are the ID formats AWS uses (and the provider checks where the
// ID is referenced).
var idPrefix = map[string]string{
	"aws_launch_template": "lt-", "aws_vpc": "vpc-", "aws_subnet": "subnet-", "aws_security_group": "sg-",
	"aws_route_table": "rtb-", "aws_internet_gateway": "igw-", "aws_nat_gateway": "nat-", "aws_eip": "eipalloc-",
	"aws_vpc_endpoint": "vpce-", "aws_vpc_peering_connection": "pcx-", "aws_network_acl": "acl-",
	"aws_route53_zone": "Z", "aws_instance": "i-", "aws_default_security_group": "sg-",
	"aws_vpc_security_group_ingress_rule": "sgr-", "aws_vpc_security_group_egress_rule": "sgr-",
	"aws_flow_log": "fl-", "aws_ec2_transit_gateway": "tgw-", "aws_network_interface": "eni-",
}

// ctyType is the type Terraform infers for a JSON value in a dynamic
// attribute (an HCL object is an object, a list a tuple).
func ctyType(v any) any {
	switch x := v.(type) {
	case string:
		return "string"
	case float64, json.Number, int:
		return "number"
	case bool:
		return "bool"
	case []any:
		var ts []any
		for _, e := range x {
			ts = append(ts, ctyType(e))
		}
		if ts == nil {
			ts = []any{}
		}
		return []any{"tuple", ts}
	case map[string]any:
		ts := map[string]any{}
		for k, e := range x {
			ts[k] = ctyType(e)
		}
		return []any{"object", ts}
	}
	return "dynamic"
}
