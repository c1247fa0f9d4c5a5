package retire

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acme/landing-zone/internal/config"
)

// fixtures are the fixture configs of __tests__ (plus the repository's own
// config): every test here derives names from the loaded config.
func fixtures(t *testing.T) map[string][]byte {
	t.Helper()
	files, _ := filepath.Glob("../../__tests__/testdata/configs/*.yaml")
	files = append(files, "../../config.yaml")
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = b
	}
	if len(out) < 2 {
		t.Fatal("no fixture configs")
	}
	return out
}

func load(t *testing.T, name string, b []byte) *config.Config {
	t.Helper()
	cfg, err := config.Parse(name, b)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestCheckRefuses: the guards, on every config: every non-app account is
// refused, a prod-profile account needs the second flag, an app account
// passes (when it is not the only one), emptying needs confirmation.
func TestCheckRefuses(t *testing.T) {
	for name, b := range fixtures(t) {
		cfg := load(t, name, b)
		apps := appAccounts(cfg)
		for _, acct := range cfg.AccountNames() {
			a := cfg.Accounts[acct]
			err := Check(cfg, Request{Account: acct})
			switch {
			case a.Kind != config.KindApp:
				if err == nil || !strings.Contains(err.Error(), "only app accounts can be retired") {
					t.Errorf("%s: retiring the %s account %s: got %v, want a refusal", name, a.Kind, acct, err)
				}
			case len(apps) == 1:
				if err == nil {
					t.Errorf("%s: retiring the only app account %s was allowed", name, acct)
				}
			case a.Profile == config.ProfileProd:
				if err == nil || !strings.Contains(err.Error(), ProdFlag) {
					t.Errorf("%s: retiring prod account %s without --%s: got %v", name, acct, ProdFlag, err)
				}
				if err := Check(cfg, Request{Account: acct, Prod: true}); err != nil {
					t.Errorf("%s: retiring prod account %s with the second flag: %v", name, acct, err)
				}
			default:
				if err != nil {
					t.Errorf("%s: retiring app account %s: %v", name, acct, err)
				}
				if err := Check(cfg, Request{Account: acct, Empty: true}); err == nil {
					t.Errorf("%s: --empty-buckets without confirmation was allowed for %s", name, acct)
				}
				if err := Check(cfg, Request{Account: acct, Empty: true, Confirmed: true}); err != nil {
					t.Errorf("%s: confirmed --empty-buckets for %s: %v", name, acct, err)
				}
			}
		}
		if err := Check(cfg, Request{Account: "no-such-account"}); err == nil {
			t.Errorf("%s: an unknown account was allowed", name)
		}
	}
}

// TestWithoutRemovesOnlyTheAccount: the config without an app account
// validates, has every other account unchanged, and names the account in no
// group or user.
func TestWithoutRemovesOnlyTheAccount(t *testing.T) {
	for name, b := range fixtures(t) {
		cfg := load(t, name, b)
		for _, acct := range appAccounts(cfg) {
			if len(appAccounts(cfg)) == 1 {
				continue
			}
			out, err := Without(name, b, acct)
			if err != nil {
				t.Errorf("%s without %s: %v", name, acct, err)
				continue
			}
			got := load(t, name+" without "+acct, out)
			if got.Accounts[acct] != nil {
				t.Errorf("%s without %s: the account is still there", name, acct)
			}
			for _, other := range cfg.AccountNames() {
				if other != acct && (got.Accounts[other] == nil || got.Accounts[other].ID != cfg.Accounts[other].ID) {
					t.Errorf("%s without %s: account %s changed", name, acct, other)
				}
			}
			for g, grp := range got.Baseline.Groups {
				if slices.Contains(grp.Accounts, acct) {
					t.Errorf("%s without %s: group %s still names it", name, acct, g)
				}
			}
		}
	}
}

func TestCheckDestroy(t *testing.T) {
	want := []string{"aws_vpc.a", "aws_subnet.b"}
	if err := CheckDestroy(Planned{"aws_vpc.a": "delete", "aws_subnet.b": "delete"}, want); err != nil {
		t.Fatal(err)
	}
	// Broken cases: a resource left behind, one of another stack, an update.
	for _, p := range []Planned{
		{"aws_vpc.a": "delete"},
		{"aws_vpc.a": "delete", "aws_subnet.b": "delete", "aws_iam_role.other": "delete"},
		{"aws_vpc.a": "delete", "aws_subnet.b": "update"},
	} {
		if err := CheckDestroy(p, want); err == nil {
			t.Errorf("CheckDestroy accepted %v for %v", p, want)
		}
	}
}

// TestCheckOthersRejectsAnUntiedChange: a plan of another stack that
// deletes a resource not tied to the account fails, even when the JSON
// difference says it is removed; a tied one passes, and so does what
// references or is referenced by it.
func TestCheckOthersRejectsAnUntiedChange(t *testing.T) {
	tokens := []string{"444444444444", "acme-dev", `"dev"`, `"dev-`}
	before := map[string]map[string]any{
		"aws_iam_group.dev":             {"name": "dev-full-access"},
		"aws_iam_group_policy.dev":      {"group": "${aws_iam_group.dev.name}", "policy": "arn 444444444444"},
		"aws_iam_group.devs":            {"name": "developers"},
		"aws_iam_group_policy.devs":     {"group": "${aws_iam_group.devs.name}", "policy": "role in 444444444444"},
		"aws_iam_user_group_membership": {"groups": []any{"${aws_iam_group.devs.name}", "${aws_iam_group.all.name}"}},
		"aws_iam_group.all":             {"name": "all-users"},
		"aws_instance.vpn":              {"instance_type": "t3.small"},
	}
	after := map[string]map[string]any{
		"aws_iam_user_group_membership": {"groups": []any{"${aws_iam_group.all.name}"}},
		"aws_iam_group.all":             {"name": "all-users"},
		"aws_instance.vpn":              {"instance_type": "t3.small"},
	}
	c := Change{Deleted: []string{"aws_iam_group.dev", "aws_iam_group.devs", "aws_iam_group_policy.dev", "aws_iam_group_policy.devs"}, Changed: []string{"aws_iam_user_group_membership"}}
	ok := Planned{"aws_iam_group.dev": "delete", "aws_iam_group.devs": "delete", "aws_iam_group_policy.dev": "delete", "aws_iam_group_policy.devs": "delete", "aws_iam_user_group_membership": "update"}
	if err := CheckOthers("security", ok, c, before, after, tokens); err != nil {
		t.Fatal(err)
	}
	// An untied resource removed from the JSON and deleted by the plan.
	broken := Planned{"aws_instance.vpn": "delete"}
	for k, v := range ok {
		broken[k] = v
	}
	delete(after, "aws_instance.vpn")
	c2 := c
	c2.Deleted = append(slices.Clone(c.Deleted), "aws_instance.vpn")
	err := CheckOthers("shared-services", broken, c2, before, after, tokens)
	if err == nil || !strings.Contains(err.Error(), "aws_instance.vpn: planned delete, but it does not name the retired account") {
		t.Errorf("an untied delete passed: %v", err)
	}
	// A change the JSON does not explain.
	err = CheckOthers("security", Planned{"aws_iam_group.all": "update"}, Change{}, before, after, tokens)
	if err == nil || !strings.Contains(err.Error(), "did not change") {
		t.Errorf("an unexplained update passed: %v", err)
	}
	// A resource the JSON removes that the plan keeps.
	err = CheckOthers("security", Planned{}, c, before, after, tokens)
	if err == nil || !strings.Contains(err.Error(), "the plan does not delete it") {
		t.Errorf("a kept resource passed: %v", err)
	}
}

func TestCheckRetiringSynthAllowsOnlyProtections(t *testing.T) {
	before := map[string][]byte{
		"dev":    []byte(`{"resource":{"aws_rds_cluster":{"db":{"deletion_protection":true,"engine":"aurora-postgresql"}}}}`),
		"shared": []byte(`{"resource":{"aws_vpc":{"v":{"cidr_block":"10.0.0.0/16"}}}}`),
	}
	good := map[string][]byte{
		"dev":    []byte(`{"resource":{"aws_rds_cluster":{"db":{"deletion_protection":false,"skip_final_snapshot":false,"final_snapshot_identifier":"x","engine":"aurora-postgresql"}}}}`),
		"shared": before["shared"],
	}
	if err := CheckRetiringSynth(before, good, []string{"dev"}); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]map[string][]byte{
		"another stack": {"dev": good["dev"], "shared": []byte(`{"resource":{"aws_vpc":{"v":{"cidr_block":"10.1.0.0/16"}}}}`)},
		"another attr":  {"dev": []byte(`{"resource":{"aws_rds_cluster":{"db":{"deletion_protection":false,"engine":"aurora-mysql"}}}}`), "shared": before["shared"]},
	} {
		if err := CheckRetiringSynth(before, bad, []string{"dev"}); err == nil {
			t.Errorf("%s: a retiring synth that changes more passed", name)
		}
	}
}

func TestKeptAreTheDataStoreKeys(t *testing.T) {
	b := []byte(`{"resource":{"aws_rds_cluster":{"db":{"kms_key_id":"${aws_kms_key.db_key.arn}"}},
		"aws_elasticache_replication_group":{"c":{"kms_key_id":"${aws_kms_key.cache_key.arn}"}},
		"aws_kms_key":{"db_key":{},"cache_key":{},"logs":{}}}}`)
	got, err := Kept(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"aws_kms_key.cache_key", "aws_kms_key.db_key"}; !slices.Equal(got, want) {
		t.Errorf("Kept = %v, want %v", got, want)
	}
}

// TestFollowOnUpdatesAndUserData: a launch template names the account
// only inside its base64 user data, and the autoscaling group that uses
// it is updated with unchanged JSON (the template's version moves). Both
// count as the account's; the same update following an untied change
// does not.
func TestFollowOnUpdatesAndUserData(t *testing.T) {
	tokens := []string{"444444444444", "acme-dev", `"dev"`, `"dev-`, "10.1.0.0/16", "10.1.0.0 255.255.0.0"}
	ud := base64.StdEncoding.EncodeToString([]byte("push \"route 10.1.0.0 255.255.0.0\"\n"))
	before := map[string]map[string]any{
		"aws_launch_template.vpn":   {"user_data": ud},
		"aws_autoscaling_group.vpn": {"launch_template": map[string]any{"version": "${aws_launch_template.vpn.latest_version}"}},
		"aws_ssm_parameter.p":       {"value": "x"},
		"aws_autoscaling_group.b":   {"tags": "${aws_ssm_parameter.p.value}"},
	}
	after := map[string]map[string]any{
		"aws_launch_template.vpn":   {"user_data": base64.StdEncoding.EncodeToString([]byte("no routes\n"))},
		"aws_autoscaling_group.vpn": before["aws_autoscaling_group.vpn"],
		"aws_ssm_parameter.p":       {"value": "y"},
		"aws_autoscaling_group.b":   before["aws_autoscaling_group.b"],
	}
	c := Change{Changed: []string{"aws_launch_template.vpn"}}
	if err := CheckOthers("shared-services", Planned{"aws_launch_template.vpn": "update", "aws_autoscaling_group.vpn": "update"}, c, before, after, tokens); err != nil {
		t.Fatal(err)
	}
	c2 := Change{Changed: []string{"aws_launch_template.vpn", "aws_ssm_parameter.p"}}
	err := CheckOthers("shared-services", Planned{"aws_launch_template.vpn": "update", "aws_ssm_parameter.p": "update", "aws_autoscaling_group.b": "update"}, c2, before, after, tokens)
	if err == nil || !strings.Contains(err.Error(), "aws_autoscaling_group.b") {
		t.Errorf("an update following an untied change passed: %v", err)
	}
}
