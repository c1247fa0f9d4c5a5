package tests

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/acme/landing-zone/app/cli"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/config/configtest"
	"github.com/acme/landing-zone/internal/retire"
	"github.com/acme/landing-zone/stacks"
)

// TestRetireRefuses runs the command as an operator would: every account
// that is not an app account is refused with the reason, a prod-profile
// account without the second flag is refused, and an unconfirmed
// --empty-buckets does nothing; on every config.
func TestRetireRefuses(t *testing.T) {
	for _, f := range propertyConfigs(t) {
		t.Run(f.Name, func(t *testing.T) {
			t.Setenv("LZ_CONFIG", f.Path)
			run := func(in string, args ...string) (int, string) {
				cli.Stdin = strings.NewReader(in)
				var out, errb bytes.Buffer
				code := cli.Run(append([]string{"retire"}, args...), &out, &errb)
				return code, errb.String()
			}
			for _, acct := range f.Cfg.AccountNames() {
				a := f.Cfg.Accounts[acct]
				switch {
				case a.Kind != config.KindApp:
					if code, msg := run("", acct); code != 1 || !strings.Contains(msg, "only app accounts can be retired") {
						t.Errorf("retire %s (%s): exit %d, %q", acct, a.Kind, code, msg)
					}
				case a.Profile == config.ProfileProd && len(appAccounts(f.Cfg)) > 1:
					if code, msg := run("", acct); code != 1 || !strings.Contains(msg, "--"+retire.ProdFlag) {
						t.Errorf("retire %s (prod) without the second flag: exit %d, %q", acct, code, msg)
					}
				case len(appAccounts(f.Cfg)) > 1:
					if code, msg := run("not-"+acct+"\n", acct, "--empty-buckets"); code != 1 || !strings.Contains(msg, "not confirmed") {
						t.Errorf("retire %s --empty-buckets, answered wrongly: exit %d, %q", acct, code, msg)
					}
				}
			}
		})
	}
}

// TestRetireProofOffline is the offline proof of `retire -plan` on the
// example fixture with regions.watched cut to two regions (retireProofConfig),
// for its first app account that is not prod: with the real Terraform and
// provider, the account's stacks destroy exactly their resources (less the
// keys of the final snapshots), including those in the second watched
// region under its aliased provider, and every other stack, planned
// without the account against a crafted deployed state, changes exactly
// its JSON difference, all of it tied to the account. Its broken case: the
// real plan of another stack with one more delete, of a resource that does
// not name the account, fails the check.
func TestRetireProofOffline(t *testing.T) {
	// Minutes of Terraform on two cores: its own step in .ci/run
	// (make retire-proof), out of make test's budget.
	if os.Getenv("LZ_RETIRE_PROOF") != "1" {
		t.Skip("the offline retire proof runs with LZ_RETIRE_PROOF=1 (make retire-proof; .ci/run runs it)")
	}
	rc := requireTerraform(t)
	f := retireProofConfig(t)
	cfg := f.Cfg
	var acct string
	for _, a := range appAccounts(cfg) {
		if cfg.Accounts[a].Profile != config.ProfileProd {
			acct = a
			break
		}
	}
	if acct == "" {
		t.Fatal("the example has no non-prod app account")
	}
	text, err := os.ReadFile(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	without, err := retire.Without(f.Path, text, acct)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	s, err := cli.RetireSynths(cfg, stacks.Retiring{Account: acct}, without, work, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	res, err := retire.Prove(cfg, acct, s, filepath.Join(work, "plans"), retire.Terraform{RC: rc, Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	var table bytes.Buffer
	cli.WriteRetireResult(&table, res)
	t.Logf("retire %s (example fixture, watched regions %v):\n%s", acct, cfg.WatchedRegions(), table.String())

	// What Prove checked, once more from the JSON: the destroy is the
	// stack, less the kept keys, and at least the data stores' keys are kept.
	for _, stack := range []string{acct, "bootstrap-" + acct} {
		want := readStack(t, s.Retiring, stack).count() - len(res.Kept[stack])
		if got := len(res.Destroyed[stack]); got != want || got == 0 {
			t.Errorf("%s: destroys %d resources, the stack has %d (less kept)", stack, got, want)
		}
	}
	if len(res.Kept[acct]) == 0 {
		t.Errorf("%s: no key kept for the final snapshots", acct)
	}
	// The regional path: the account's resources in the second watched
	// region, under its aliased provider, are destroyed like the rest.
	other := cfg.OtherWatchedRegions()[0]
	b, err := os.ReadFile(filepath.Join(s.Retiring, "stacks", acct, "cdk.tf.json"))
	if err != nil {
		t.Fatal(err)
	}
	own, err := retire.Resources(b)
	if err != nil {
		t.Fatal(err)
	}
	regional := 0
	for addr, body := range own {
		if p, _ := body["provider"].(string); strings.Contains(p, other) {
			regional++
			if !slices.Contains(res.Destroyed[acct], addr) && !slices.Contains(res.Kept[acct], addr) {
				t.Errorf("%s: %s (in %s) is neither destroyed nor kept", acct, addr, other)
			}
		}
	}
	if regional == 0 {
		t.Errorf("%s: no resource under the %s provider: the proof did not exercise the regional path", acct, other)
	}
	// The accounts that the app account is wired into lose something.
	sharedName, _ := cfg.AccountOfKind(config.KindShared)
	secName, _ := cfg.AccountOfKind(config.KindSecurity)
	for _, stack := range []string{sharedName, secName} {
		if len(res.Others[stack]) == 0 {
			t.Errorf("%s: no change without %s; the proof planned nothing there", stack, acct)
		}
	}

	// Broken case: one more delete in a real plan of another stack, of a
	// resource that stays in its JSON and does not name the account.
	tokens := retire.Tokens(cfg, acct)
	for _, stack := range slices.Sorted(maps.Keys(res.Others)) {
		b, _ := os.ReadFile(filepath.Join(s.Before, "stacks", stack, "cdk.tf.json"))
		a, _ := os.ReadFile(filepath.Join(s.After, "stacks", stack, "cdk.tf.json"))
		before, _ := retire.Resources(b)
		after, _ := retire.Resources(a)
		c, err := retire.Diff(b, a)
		if err != nil {
			t.Fatal(err)
		}
		if err := retire.CheckOthers(stack, res.Others[stack], c, before, after, tokens); err != nil {
			t.Fatalf("the real plan of %s fails the check it passed: %v", stack, err)
		}
		var victim string
		for _, k := range slices.Sorted(maps.Keys(after)) {
			if _, planned := res.Others[stack][k]; !planned && !retire.Tied(before[k], tokens) {
				victim = k
				break
			}
		}
		if victim == "" {
			continue
		}
		p := maps.Clone(res.Others[stack])
		p[victim] = "delete"
		delete(after, victim)
		c.Deleted = append(c.Deleted, victim)
		err = retire.CheckOthers(stack, p, c, before, after, tokens)
		if err == nil || !strings.Contains(err.Error(), victim+": planned delete, but it does not name the retired account") {
			t.Errorf("%s: a plan that also deletes %s passed: %v", stack, victim, err)
		} else {
			t.Logf("broken case: %s", strings.SplitN(err.Error(), "\n", 3)[1])
		}
	}
	fmt.Fprint(io.Discard, log.String())
}

// retireProofConfig is the example fixture with regions.watched cut to the
// home region and one other. What the retire proof checks (the destroy is
// exactly the retired account's resources; the other stacks change only
// where they name it) does not depend on how many regions are watched:
// each adds an aliased provider (one more provider process in every
// Terraform run) and the same regional baseline, resource for resource, so
// two regions keep the regional path at a fraction of the cost of the
// default 17. TestOfflinePlan plans the example with all 17.
func retireProofConfig(t *testing.T) fixture {
	t.Helper()
	example := fixtureConfig(t, exampleFixture)
	text := configtest.Read(t, example.Path)
	if regexp.MustCompile(`(?m)^regions:`).MatchString(text) {
		t.Fatalf("%s sets regions: itself; adjust retireProofConfig", example.Path)
	}
	home := example.Cfg.Region
	second := "eu-west-1"
	if home == second {
		second = "us-east-1"
	}
	text += fmt.Sprintf("\nregions:\n  watched: [%s, %s]\n", home, second)
	path := filepath.Join(t.TempDir(), exampleFixture+".yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	f := loadFixture(t, exampleFixture+"-2-regions", path)
	if got := f.Cfg.WatchedRegions(); len(got) != 2 || got[0] != home {
		t.Fatalf("the derived config watches %v, want %s and one other", got, home)
	}
	if len(example.Cfg.WatchedRegions()) <= 2 {
		t.Fatalf("the example watches %v: nothing to cut", example.Cfg.WatchedRegions())
	}
	return f
}
