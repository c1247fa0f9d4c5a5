package retire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/acme/landing-zone/internal/config"
)

// Synths are the three offline syntheses the proof compares: the config
// as deployed, the same with the account in retiring mode, and the config
// without the account (Without).
type Synths struct {
	Before, Retiring, After string // synth output folders (cdktf.out)
}

// Result is what the proof planned.
type Result struct {
	// Destroyed are the retiring account's stacks' destroy plans: the
	// deleted addresses by stack.
	Destroyed map[string][]string
	// Kept are the addresses kept out of the destroy (Kept), by stack.
	Kept map[string][]string
	// Others are the other stacks' plans without the account, by stack
	// (only stacks whose JSON changed are planned).
	Others map[string]Planned
	// Unchanged are the other stacks whose JSON is the same without the
	// account, byte for byte.
	Unchanged []string
	// Rounds is how many plans each crafted state took to settle.
	Rounds map[string]int
}

// Prove runs the offline proof for cfg's account over s in work (a scratch
// folder), with Terraform tf. It fails when the retiring synth changes a
// stack of another account or anything but the protections of its own,
// when a destroy plan is not exactly its stack, or when a plan of another
// stack without the account is not exactly its JSON difference or touches
// a resource that does not name the account (CheckOthers).
func Prove(cfg *config.Config, account string, s Synths, work string, tf Terraform) (*Result, error) {
	before, err := ReadStacks(s.Before)
	if err != nil {
		return nil, err
	}
	retiring, err := ReadStacks(s.Retiring)
	if err != nil {
		return nil, err
	}
	after, err := ReadStacks(s.After)
	if err != nil {
		return nil, err
	}
	own := []string{account, "bootstrap-" + account}
	if err := CheckRetiringSynth(before, retiring, own); err != nil {
		return nil, err
	}
	res := &Result{Destroyed: map[string][]string{}, Kept: map[string][]string{}, Others: map[string]Planned{}, Rounds: map[string]int{}}
	tokens := Tokens(cfg, account)

	// The account's stacks: deployed in retiring mode, then destroyed.
	for _, stack := range own {
		if _, ok := after[stack]; ok {
			return nil, fmt.Errorf("stack %s is still synthesized without the account", stack)
		}
		dir, err := stage(work, s.Retiring, stack)
		if err != nil {
			return nil, err
		}
		tf.logf("retire proof: %s: deploy (crafted state)\n", stack)
		if err := tf.Init(dir); err != nil {
			return nil, err
		}
		if res.Rounds[stack], err = tf.Deploy(dir, string(retiring[stack]), cfg.Region); err != nil {
			return nil, fmt.Errorf("stack %s: %w", stack, err)
		}
		kept, err := Kept(retiring[stack])
		if err != nil {
			return nil, err
		}
		if err := tf.StateRm(dir, kept); err != nil {
			return nil, err
		}
		rs, err := Resources(retiring[stack])
		if err != nil {
			return nil, err
		}
		var want []string
		for _, k := range slices.Sorted(maps.Keys(rs)) {
			if !slices.Contains(kept, k) {
				want = append(want, k)
			}
		}
		tf.logf("retire proof: %s: plan -destroy\n", stack)
		p, _, err := tf.Plan(dir, true)
		if err != nil {
			return nil, err
		}
		if err := CheckDestroy(p, want); err != nil {
			return nil, fmt.Errorf("stack %s: %w", stack, err)
		}
		res.Destroyed[stack] = slices.Sorted(maps.Keys(p))
		res.Kept[stack] = kept
	}

	// Every other stack: deployed as before, then planned without the
	// account.
	for _, stack := range slices.Sorted(maps.Keys(before)) {
		if slices.Contains(own, stack) {
			continue
		}
		a, ok := after[stack]
		if !ok {
			return nil, fmt.Errorf("stack %s is gone without the account", stack)
		}
		if bytes.Equal(before[stack], a) {
			res.Unchanged = append(res.Unchanged, stack)
			continue
		}
		p, err := ProveOther(cfg, stack, s, work, tf, tokens, res)
		if err != nil {
			return nil, err
		}
		res.Others[stack] = p
	}
	for stack := range after {
		if _, ok := before[stack]; !ok {
			return nil, fmt.Errorf("stack %s appears without the account", stack)
		}
	}
	return res, nil
}

// ProveOther deploys stack as synthesized in s.Before (crafted state), plans
// it as synthesized in s.After, and checks the plan (CheckOthers).
func ProveOther(cfg *config.Config, stack string, s Synths, work string, tf Terraform, tokens []string, res *Result) (Planned, error) {
	before, err := os.ReadFile(filepath.Join(s.Before, "stacks", stack, "cdk.tf.json"))
	if err != nil {
		return nil, err
	}
	after, err := os.ReadFile(filepath.Join(s.After, "stacks", stack, "cdk.tf.json"))
	if err != nil {
		return nil, err
	}
	dir, err := stage(work, s.Before, stack)
	if err != nil {
		return nil, err
	}
	tf.logf("retire proof: %s: deploy (crafted state)\n", stack)
	if err := tf.Init(dir); err != nil {
		return nil, err
	}
	if res.Rounds[stack], err = tf.Deploy(dir, string(before), cfg.Region); err != nil {
		return nil, fmt.Errorf("stack %s: %w", stack, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cdk.tf.json"), after, 0o644); err != nil {
		return nil, err
	}
	tf.logf("retire proof: %s: plan without the account\n", stack)
	p, _, err := tf.Plan(dir, false)
	if err != nil {
		return nil, err
	}
	c, err := Diff(before, after)
	if err != nil {
		return nil, err
	}
	b, _ := Resources(before)
	a, _ := Resources(after)
	return p, CheckOthers(stack, p, c, b, a, tokens)
}

// CheckRetiringSynth requires the retiring synth to differ from the
// deployed one only in the account's own stacks, and there only in the
// attributes RetiringOverrides and EmptyOverrides set.
func CheckRetiringSynth(before, retiring map[string][]byte, own []string) error {
	var problems []string
	for _, stack := range slices.Sorted(maps.Keys(before)) {
		r, ok := retiring[stack]
		if !ok {
			problems = append(problems, stack+": missing from the retiring synth")
			continue
		}
		if !slices.Contains(own, stack) {
			if !bytes.Equal(before[stack], r) {
				problems = append(problems, stack+": another account's stack changes in retiring mode")
			}
			continue
		}
		b, err := Resources(before[stack])
		if err != nil {
			return err
		}
		rr, err := Resources(r)
		if err != nil {
			return err
		}
		if !slices.Equal(slices.Sorted(maps.Keys(b)), slices.Sorted(maps.Keys(rr))) {
			problems = append(problems, stack+": retiring mode adds or removes resources")
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(b)) {
			for attr := range union(b[k], rr[k]) {
				if fmt.Sprint(b[k][attr]) != fmt.Sprint(rr[k][attr]) && !retiringAttr[attr] {
					problems = append(problems, fmt.Sprintf("%s: %s.%s changes in retiring mode", stack, k, attr))
				}
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("the retiring synth changes more than the protections:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// retiringAttr are the attributes retiring mode may set (stacks.RetiringOverrides).
var retiringAttr = map[string]bool{
	"deletion_protection": true, "skip_final_snapshot": true, "final_snapshot_identifier": true,
	"recovery_window_in_days": true, "enable_deletion_protection": true, "deletion_protection_enabled": true,
	"force_destroy": true,
}

func union(a, b map[string]any) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// stage copies a synthesized stack folder's configuration and lock file
// into work/<stack> for planning.
func stage(work, out, stack string) (string, error) {
	dir := filepath.Join(work, stack)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	src := filepath.Join(out, "stacks", stack)
	entries, err := os.ReadDir(src)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if e.IsDir() || strings.HasSuffix(e.Name(), ".tfstate") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return "", err
		}
		if e.Name() == "cdk.tf.json" {
			if b, err = LocalizeReads(b); err != nil {
				return "", err
			}
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// LocalizeReads replaces the data sources that read AWS once the crafted
// state makes their arguments known (the peer account's VPC and route
// tables, read by reference) with locals holding a placeholder for each
// attribute the stack reads from them: with no AWS, Terraform could not
// read them. Resources are left as they are; the destroy plan reads no
// data source.
func LocalizeReads(b []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	data, _ := doc["data"].(map[string]any)
	text := string(b)
	locals, _ := doc["locals"].(map[string]any)
	if locals == nil {
		locals = map[string]any{}
	}
	var replace []string
	for _, typ := range slices.Sorted(maps.Keys(data)) {
		if typ == "aws_iam_policy_document" {
			continue // evaluated by the provider, offline
		}
		rs, _ := data[typ].(map[string]any)
		for _, name := range slices.Sorted(maps.Keys(rs)) {
			body, _ := json.Marshal(rs[name])
			if !bytes.Contains(body, []byte("${")) {
				continue // read in the first plan already, offline
			}
			addr := "data." + typ + "." + name
			local := "retire_" + typ + "_" + strings.ReplaceAll(name, "-", "_")
			obj := map[string]any{}
			for _, m := range regexp.MustCompile(regexp.QuoteMeta(addr)+`\.([a-z_]+)`).FindAllStringSubmatch(text, -1) {
				obj[m[1]] = placeholder(m[1], addr, "")
			}
			locals[local] = obj
			delete(rs, name)
			replace = append(replace, addr+".", "local."+local+".")
		}
		if len(rs) == 0 {
			delete(data, typ)
		}
	}
	if len(replace) == 0 {
		return b, nil
	}
	doc["locals"] = locals
	if len(data) == 0 {
		delete(doc, "data")
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return []byte(strings.NewReplacer(replace...).Replace(string(out))), nil
}
