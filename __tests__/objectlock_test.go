package tests

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/acme/landing-zone/constructs/logarchive"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/cis"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tfjson"
	"github.com/acme/landing-zone/stacks"
)

// archiveBuckets names the buckets the trails and the Config delivery
// channels write to, from the stacks themselves.
func archiveBuckets(t *testing.T, out string) []string {
	t.Helper()
	var names []string
	for _, stack := range stackNames(t, out) {
		s := readStack(t, out, stack)
		for _, r := range s.resources("aws_cloudtrail") {
			names = append(names, r["s3_bucket_name"].(string))
		}
		for _, r := range s.resources("aws_config_delivery_channel") {
			if n, ok := r["s3_bucket_name"].(string); ok && !strings.Contains(n, "${") {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Every bucket the trails and Config recorders deliver to is under Object
// Lock with the configured mode and days, enabled by the lock resource after
// versioning (never by the bucket's object_lock_enabled, which replaces an
// existing bucket); its lifecycle expires nothing before the retention ends;
// its policy denies changing or bypassing the lock to all but the logs
// account's deploy role.
func TestArchiveBucketsAreUnderObjectLock(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		out := synthOf(t, f)
		l := f.Cfg.Baseline.LogBuckets
		_, logs := f.Cfg.AccountOfKind(config.KindLogs)
		deploy := logs.DeployRoleARN(awsenv.Commercial)
		locked := map[string]bool{}
		for _, stack := range stackNames(t, out) {
			s := readStack(t, out, stack)
			for name, b := range s.resources("aws_s3_bucket") {
				if _, ok := b["object_lock_enabled"]; ok {
					t.Errorf("%s: aws_s3_bucket.%s sets object_lock_enabled (replaces an existing bucket)", stack, name)
				}
			}
			for name, lc := range s.resources("aws_s3_bucket_object_lock_configuration") {
				b := s.deref(t, lc["bucket"])
				bucket := b["bucket"].(string)
				ret := first(first(lc["rule"])["default_retention"])
				if ret["mode"] != l.ObjectLockMode || fmt.Sprint(ret["days"]) != fmt.Sprint(l.ObjectLockDays) || lc["object_lock_enabled"] != "Enabled" {
					t.Errorf("%s: %s locks %s with %v (enabled %v), want %s %d days", stack, name, bucket, ret, lc["object_lock_enabled"], l.ObjectLockMode, l.ObjectLockDays)
				}
				deps, _ := json.Marshal(lc["depends_on"])
				if !strings.Contains(string(deps), "aws_s3_bucket_versioning.") {
					t.Errorf("%s: %s does not wait for the bucket's versioning: %s", stack, name, deps)
				}
				bref := "${aws_s3_bucket." + tfjson.Ref(lc["bucket"])[len("aws_s3_bucket."):]
				for vn, v := range s.resources("aws_s3_bucket_versioning") {
					if strings.HasPrefix(fmt.Sprint(v["bucket"]), bref) && first(v["versioning_configuration"])["status"] != "Enabled" {
						t.Errorf("%s: %s: versioning of %s is not Enabled", stack, vn, bucket)
					}
				}
				for _, lf := range s.resources("aws_s3_bucket_lifecycle_configuration") {
					if !strings.HasPrefix(fmt.Sprint(lf["bucket"]), bref) {
						continue
					}
					for _, r := range tfjson.Blocks(lf["rule"]) {
						if d, ok := first(r["expiration"])["days"]; ok && int(d.(float64)) < l.ObjectLockDays {
							t.Errorf("%s: %s expires objects after %v days, before the %d days of Object Lock", stack, bucket, d, l.ObjectLockDays)
						}
					}
				}
				var policy iam.Document
				for _, p := range s.resources("aws_s3_bucket_policy") {
					if strings.HasPrefix(fmt.Sprint(p["bucket"]), bref) {
						if err := json.Unmarshal([]byte(p["policy"].(string)), &policy); err != nil {
							t.Fatal(err)
						}
					}
				}
				protected := false
				for _, st := range policy.Statement {
					if st.Effect == "Deny" && slices.Equal(slices.Sorted(slices.Values(st.Action)), slices.Sorted(slices.Values(logarchive.ObjectLockActions))) {
						c, _ := json.Marshal(st.Condition)
						protected = strings.Contains(string(c), `"ArnNotEquals":{"aws:PrincipalArn":"`+deploy+`"}`) || strings.Contains(string(c), `"ArnNotEquals":{"aws:PrincipalArn":["`+deploy+`"]}`)
					}
				}
				if !protected {
					t.Errorf("%s: the policy of %s does not deny %v to all but %s", stack, bucket, logarchive.ObjectLockActions, deploy)
				}
				locked[bucket] = true
			}
		}
		for _, b := range archiveBuckets(t, out) {
			if !locked[b] {
				t.Errorf("archive bucket %s has no aws_s3_bucket_object_lock_configuration", b)
			}
		}
		if len(locked) == 0 {
			t.Fatal("no bucket is under Object Lock")
		}
	})
}

// The default is COMPLIANCE for a year whatever the profile: nobody, the
// logs account's administrators and root included, shortens it.
func TestObjectLockDefaultIsCompliance(t *testing.T) {
	cfg := loadExample(t)
	if l := cfg.Baseline.LogBuckets; l.ObjectLockMode != "COMPLIANCE" || l.ObjectLockDays != 365 || l.ExpireDays < l.ObjectLockDays {
		t.Fatalf("log bucket defaults %+v, want COMPLIANCE 365 days and expiry not before", l)
	}
}

// Macie is an option: off (the default) the CIS report says so as MANUAL;
// on, every account holding a bucket runs it and 2.1.3 holds; a paused or
// missing Macie fails.
func TestCISMacieOption(t *testing.T) {
	f := fixtureConfig(t, exampleFixture)
	out := synthOf(t, f)
	r := cisOf(t, f, readStacks(t, out))["2.1.3"]
	if r.Status != cis.Manual || !strings.Contains(cisFindingsText(r), "baseline.macie is off") {
		t.Fatalf("2.1.3 with Macie off: %s\n%s", r.Status, cisFindingsText(r))
	}
	on := f
	cfg := *f.Cfg
	cfg.Baseline.Macie = true
	on.Cfg = &cfg
	if r := cisOf(t, on, readStacks(t, out))["2.1.3"]; r.Status != cis.Fail || !strings.Contains(cisFindingsText(r), "no Macie (aws_macie2_account) in account") {
		t.Fatalf("2.1.3 with baseline.macie on but no Macie in the stacks: %s\n%s", r.Status, cisFindingsText(r))
	}
	withMacie := synthTemp(t, on.Cfg, stacks.Options{})
	for _, name := range cfg.AccountNames() {
		if cfg.Accounts[name].Kind == config.KindManagement {
			continue
		}
		ms := readStack(t, withMacie, name).resources("aws_macie2_account")
		if len(ms) != 1 {
			t.Errorf("%s: %d aws_macie2_account with baseline.macie on, want 1", name, len(ms))
		}
		for _, m := range ms {
			if m["status"] != "ENABLED" {
				t.Errorf("%s: Macie status %v", name, m["status"])
			}
		}
	}
	if r := cisOf(t, on, readStacks(t, withMacie))["2.1.3"]; r.Status != cis.Hold {
		t.Fatalf("2.1.3 with Macie on: %s\n%s", r.Status, cisFindingsText(r))
	}
	d := readDocs(t, withMacie)
	_, m := cisFirstOf(t, d, "dev", "aws_macie2_account")
	m["status"] = "PAUSED"
	if r := cisOf(t, on, d.raw(t))["2.1.3"]; r.Status != cis.Fail || !strings.Contains(cisFindingsText(r), "status PAUSED") {
		t.Fatalf("2.1.3 with dev's Macie paused: %s\n%s", r.Status, cisFindingsText(r))
	}
}
