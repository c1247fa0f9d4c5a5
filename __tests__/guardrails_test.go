package tests

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/kmskey"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/app/synth"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/guardrails"
	"github.com/acme/landing-zone/internal/tf"
	"github.com/acme/landing-zone/stacks"
)

// fixtureOptions treat the fixtures' "prod" stack as prod and allow nothing
// from the internet.
var fixtureOptions = guardrails.Options{ProdStacks: []string{"prod"}}

// fixtureStack is the stack name each fixture is checked as.
func fixtureStack(rule string) string {
	if rule == guardrails.RuleProdDeletion {
		return "prod"
	}
	return "dev"
}

// TestEachGuardrailFiresOnItsFixture checks one failing fixture per rule:
// the rule fires, only that rule fires, and the message names the construct
// path, the rule and the fix.
func TestEachGuardrailFiresOnItsFixture(t *testing.T) {
	for _, rule := range guardrails.Rules {
		t.Run(rule.Name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "guardrails", rule.Name+".tf.json"))
			if err != nil {
				t.Fatalf("every rule needs a failing fixture: %v", err)
			}
			vs, err := guardrails.CheckStack(fixtureStack(rule.Name), b, fixtureOptions)
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) == 0 {
				t.Fatal("the rule did not fire")
			}
			for _, v := range vs {
				msg := v.String()
				if v.Rule != rule.Name || !strings.Contains(msg, "rule "+rule.Name) || !strings.Contains(msg, "fix: "+rule.Fix) || !strings.Contains(msg, v.Path) {
					t.Errorf("unexpected violation %q", msg)
				}
				if !strings.HasPrefix(v.Path, fixtureStack(rule.Name)+"/") {
					t.Errorf("violation does not name the construct path: %q", msg)
				}
			}
			t.Logf("%s", vs.Error())
		})
	}
}

// TestAWaiverWithAReasonSilencesOneRuleOnOneResource adds two keys without
// rotation to the real dev stack and waives the rule on one of them, which
// also blanks a required tag: the waived rule is silent on that key only,
// the other rule still fires on it, the same rule still fires on the other
// key, and the waiver is read back from the synthesized JSON and listed.
func TestAWaiverWithAReasonSilencesOneRuleOnOneResource(t *testing.T) {
	const reason = "imported key, rotated by its owner"
	cfg := loadExample(t)
	// The IAM proof would ask for the extra keys' policies: leave it out.
	keys := func(unwaived bool) stacks.Options {
		return stacks.Options{SkipAccess: true, Extend: func(l *stacks.Landing) {
			waived := kmskey.NewKmsKey(l.Apps[0].Stack, tf.S("waived"), &kmskey.KmsKeyConfig{Description: tf.S("rotated by its owner")})
			guardrails.Waive(waived, guardrails.RuleKMSRotation, reason)
			if unwaived {
				waived.SetTags(&map[string]*string{"Environment": tf.S("")})
				kmskey.NewKmsKey(l.Apps[0].Stack, tf.S("unwaived"), &kmskey.KmsKeyConfig{Description: tf.S("no rotation")})
			}
		}}
	}

	out := t.TempDir()
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: tf.S(out)})
	stacks.Build(app, cfg, keys(true))
	app.Synth()
	vs, err := guardrails.Check(out, stacks.GuardrailOptions(cfg))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, v.Path+" "+v.Rule)
	}
	want := []string{"dev/unwaived " + guardrails.RuleKMSRotation, "dev/waived " + guardrails.RuleTags}
	if !slices.Equal(got, want) {
		t.Errorf("violations %q, want %q", got, want)
	}
	ws, err := guardrails.Waivers(out)
	if err != nil || !slices.Equal(ws, []guardrails.Waiver{{Stack: "dev", Path: "dev/waived", Rule: guardrails.RuleKMSRotation, Reason: reason}}) {
		t.Errorf("waivers read back = %v %v", ws, err)
	}

	// A synth that passes lists the waiver it read from the JSON.
	var log strings.Builder
	if err := synth.Run(cfg, t.TempDir(), keys(false), &log); err != nil {
		t.Fatal(err)
	}
	if line := "guardrails: waived " + guardrails.RuleKMSRotation + " for dev/waived: " + reason + "\n"; log.String() != line {
		t.Errorf("synth log %q, want %q", log.String(), line)
	}
}

// TestAWaiverNeedsAKnownRuleAndAReason: a waiver without a reason, or for a
// rule that does not exist, stops the synth naming the resource.
func TestAWaiverNeedsAKnownRuleAndAReason(t *testing.T) {
	stack := cdktf.NewTerraformStack(cdktf.NewApp(&cdktf.AppConfig{Outdir: tf.S(t.TempDir())}), tf.S("unit"))
	key := kmskey.NewKmsKey(stack, tf.S("key"), &kmskey.KmsKeyConfig{})
	for _, c := range []struct{ rule, reason, want string }{
		{guardrails.RuleKMSRotation, "", "a reason is required to waive " + guardrails.RuleKMSRotation + " on unit/key"},
		{"kms-rotation", "typo", `unknown rule "kms-rotation" on unit/key`},
	} {
		func() {
			defer func() {
				if msg, _ := recover().(string); !strings.Contains(msg, c.want) {
					t.Errorf("Waive(%q, %q) panicked with %q, want %q", c.rule, c.reason, msg, c.want)
				}
			}()
			guardrails.Waive(key, c.rule, c.reason)
		}()
	}
}

// TestEverySynthPassesEveryGuardrail: every synth goes through the
// guardrails (synthInto uses synth.Run); check again explicitly, and require
// that the allow-list really has the VPN port and each app account's public
// ALB, and that the prod stacks are the prod-profile accounts and their
// bootstrap stacks.
func TestEverySynthPassesEveryGuardrail(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		cfg := f.Cfg
		opts := stacks.GuardrailOptions(cfg)
		vs, err := guardrails.Check(synthOf(t, f), opts)
		if err != nil || len(vs) != 0 {
			t.Fatalf("violations in the synth of %s: %v %v", f.Path, vs, err)
		}
		apps := appAccounts(cfg)
		var prod []string
		for _, name := range apps {
			if cfg.Accounts[name].Profile == config.ProfileProd {
				prod = append(prod, name, "bootstrap-"+name)
			}
		}
		_, shared := cfg.AccountOfKind(config.KindShared)
		vpn := guardrails.Opening{Group: cfg.NamePrefix + "-openvpn", Protocol: "udp", Port: shared.VPN.Port}
		if len(opts.InternetIngress) != 2*len(apps)+1 || !slices.Contains(opts.InternetIngress, vpn) {
			t.Errorf("allow-list %v: want %d public ALBs x 2 ports + %v", opts.InternetIngress, len(apps), vpn)
		}
		if !slices.Equal(opts.ProdStacks, prod) {
			t.Errorf("prod stacks %v, want %v", opts.ProdStacks, prod)
		}
	})
}

// TestAGuardrailViolationWritesNothing adds a key without rotation to the
// real dev stack and checks that synth.Run fails naming it, and writes
// nothing.
func TestAGuardrailViolationWritesNothing(t *testing.T) {
	cfg := loadExample(t)
	out := t.TempDir()
	keep := filepath.Join(out, "manifest.json")
	if err := os.WriteFile(keep, []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	extend := func(l *stacks.Landing) {
		kmskey.NewKmsKey(l.Apps[0].Stack, tf.S("unrotated"), &kmskey.KmsKeyConfig{Description: tf.S("no rotation")})
	}
	err := synth.Run(cfg, out, stacks.Options{Extend: extend}, os.Stderr)
	var vs guardrails.Violations
	if !errors.As(err, &vs) || len(vs) != 1 || vs[0].Path != "dev/unrotated" || vs[0].Rule != guardrails.RuleKMSRotation {
		t.Fatalf("want one kms-key-rotation violation at dev/unrotated, got %v", err)
	}
	if got, _ := os.ReadFile(keep); string(got) != "previous" {
		t.Errorf("the previous output was overwritten")
	}
	if entries, _ := os.ReadDir(out); len(entries) != 1 {
		t.Errorf("the output directory gained files: %v", entries)
	}
}
