package tests

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acme/landing-zone/app/cli"
	"github.com/acme/landing-zone/internal/cis"
	"github.com/acme/landing-zone/internal/config"
)

// cisOf evaluates the CIS controls over one synth output.
func cisOf(t testing.TB, f fixture, raw map[string][]byte) map[string]cis.Result {
	t.Helper()
	rs, err := cis.Evaluate(f.Cfg, raw)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]cis.Result{}
	for _, r := range rs {
		out[r.ID] = r
	}
	return out
}

// Every IaC-expressible control holds (or is N/A) on every config, in
// every account, the management account included.
func TestCISHoldsOnEveryConfig(t *testing.T) {
	for _, f := range propertyConfigs(t) {
		t.Run(f.Name, func(t *testing.T) {
			rs := cisOf(t, f, readStacks(t, synthOf(t, f)))
			if len(rs) != len(cis.Controls()) {
				t.Fatalf("%d results for %d controls", len(rs), len(cis.Controls()))
			}
			for _, id := range slices.Sorted(maps.Keys(rs)) {
				r := rs[id]
				if !r.IaC {
					continue
				}
				var bad []string
				for _, fd := range r.Findings {
					if fd.Status == cis.Fail {
						bad = append(bad, "    "+fd.Scope+": "+fd.Evidence)
					}
				}
				if len(bad) > 0 {
					t.Errorf("CIS %s %s fails:\n%s", id, r.Title, strings.Join(bad, "\n"))
				}
			}
		})
	}
}

// cisFirstOf returns the name of a stack's first resource of typ (sorted) and
// the resource, failing the test when there is none.
func cisFirstOf(t *testing.T, d stackDocs, stack, typ string, fragments ...string) (string, map[string]any) {
	t.Helper()
	names := d.where(stack, typ, fragments...)
	if len(names) == 0 {
		t.Fatalf("%s: no %s containing %q", stack, typ, fragments)
	}
	slices.Sort(names)
	return names[0], d.of(stack, typ)[names[0]].(map[string]any)
}

// cisPut adds a resource to a stack.
func cisPut(d stackDocs, stack, typ, name string, attrs map[string]any) {
	rs, _ := d[stack]["resource"].(map[string]any)
	if rs[typ] == nil {
		rs[typ] = map[string]any{}
	}
	rs[typ].(map[string]any)[name] = attrs
}

// cisClone deep-copies a resource's attributes.
func cisClone(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(v)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Each broken case changes one thing in the example's synthesized stacks
// and the control must fail with evidence naming what changed (a finding
// that did not fail before); each repair case supplies what a known gap
// lacks in one account and that account's finding must hold, so the
// evaluators are shown to pass on the real thing, not only to fail.
func TestCISBrokenAndRepairedCases(t *testing.T) {
	f := fixtureConfig(t, exampleFixture)
	out := synthOf(t, f)
	base := cisOf(t, f, readStacks(t, out))
	const app = "dev"
	cases := []struct {
		name, control string
		want          cis.Status
		// evidence is a fragment the finding must contain; scope, if set,
		// the finding's scope
		evidence, scope string
		change          func(t *testing.T, d stackDocs) string // may return the evidence fragment
	}{
		{name: "password policy dropped in the security account", control: "1.8", want: cis.Fail, scope: "security", evidence: "no aws_iam_account_password_policy in account security",
			change: func(t *testing.T, d stackDocs) string {
				d.remove(t, "security", "aws_iam_account_password_policy")
				return ""
			}},
		{name: "password reuse weakened", control: "1.9", want: cis.Fail, scope: "security", evidence: "password_reuse_prevention = 5",
			change: func(t *testing.T, d stackDocs) string {
				_, p := cisFirstOf(t, d, "security", "aws_iam_account_password_policy")
				p["password_reuse_prevention"] = 5
				return ""
			}},
		{name: "IAM policy filter weakened: one eventName missing", control: "4.4", want: cis.Fail, scope: app, evidence: "misses eventName DeleteRolePolicy",
			change: func(t *testing.T, d stackDocs) string { return cisDropEvent(t, d, app, "DeleteRolePolicy") }},
		{name: "root usage filter matches service-invoked calls", control: "4.3", want: cis.Fail, scope: app, evidence: "also matches root call invoked by an AWS service",
			change: func(t *testing.T, d stackDocs) string {
				name, fl := cisFirstOf(t, d, app, "aws_cloudwatch_log_metric_filter", "Root")
				fl["pattern"] = `{ $.userIdentity.type = "Root" }`
				return name
			}},
		{name: "CIS alarm notifies nobody", control: "4.5", want: cis.Fail, scope: app, evidence: "alarm_actions notify no SNS topic",
			change: func(t *testing.T, d stackDocs) string {
				_, fl := cisFirstOf(t, d, app, "aws_cloudwatch_log_metric_filter", "StopLogging")
				metric := first(fl["metric_transformation"])["name"].(string)
				name, al := cisFirstOf(t, d, app, "aws_cloudwatch_metric_alarm", `"metric_name":"`+metric+`"`)
				al["alarm_actions"] = []any{}
				return name
			}},
		{name: "console authentication failures repaired with the CIS pattern", control: "4.6", want: cis.Hold, scope: app, evidence: "cis-test-auth-failures",
			change: func(t *testing.T, d stackDocs) string {
				_, fl := cisFirstOf(t, d, app, "aws_cloudwatch_log_metric_filter", "StopLogging")
				metric := first(fl["metric_transformation"])["name"].(string)
				_, al := cisFirstOf(t, d, app, "aws_cloudwatch_metric_alarm", `"metric_name":"`+metric+`"`)
				nf, na := cisClone(t, fl), cisClone(t, al)
				nf["pattern"] = `{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }`
				first(nf["metric_transformation"])["name"] = "cis-test-auth-failures"
				na["metric_name"] = "cis-test-auth-failures"
				cisPut(d, app, "aws_cloudwatch_log_metric_filter", "cis-test-auth-failures", nf)
				cisPut(d, app, "aws_cloudwatch_metric_alarm", "cis-test-auth-failures-alarm", na)
				return ""
			}},
		{name: "SSH open to the internet on a security group", control: "5.2", want: cis.Fail, evidence: "cis-test-ssh allows 0.0.0.0/0 to port 22",
			change: func(t *testing.T, d stackDocs) string {
				_, sg := cisFirstOf(t, d, app, "aws_vpc_security_group_ingress_rule")
				cisPut(d, app, "aws_vpc_security_group_ingress_rule", "cis-test-ssh", map[string]any{
					"cidr_ipv4": "0.0.0.0/0", "from_port": 22, "to_port": 22, "ip_protocol": "tcp", "security_group_id": sg["security_group_id"]})
				return ""
			}},
		{name: "all traffic from ::/0 on a security group", control: "5.3", want: cis.Fail, evidence: "cis-test-all6 allows ::/0 to port 3389",
			change: func(t *testing.T, d stackDocs) string {
				_, sg := cisFirstOf(t, d, app, "aws_vpc_security_group_ingress_rule")
				cisPut(d, app, "aws_vpc_security_group_ingress_rule", "cis-test-all6", map[string]any{
					"cidr_ipv6": "::/0", "ip_protocol": "-1", "security_group_id": sg["security_group_id"]})
				return ""
			}},
		{name: "NACL deny for RDP moved behind the ephemeral-port allow", control: "5.1", want: cis.Fail, scope: app, evidence: "to port 3389",
			change: func(t *testing.T, d stackDocs) string {
				name, acl := cisFirstOf(t, d, app, "aws_network_acl", `"to_port":3389`)
				moved := false
				for _, r := range acl["ingress"].([]any) {
					r := r.(map[string]any)
					if r["action"] == "deny" && fmt.Sprint(r["from_port"]) == "3389" {
						r["rule_no"] = 32000
						moved = true
					}
				}
				if !moved {
					t.Fatalf("%s: no deny rule for 3389", name)
				}
				return name
			}},
		{name: "key rotation off", control: "3.6", want: cis.Fail, evidence: "enable_key_rotation is not true",
			change: func(t *testing.T, d stackDocs) string {
				name, k := cisFirstOf(t, d, app, "aws_kms_key")
				k["enable_key_rotation"] = false
				return name
			}},
		{name: "trail not multi-region", control: "3.1", want: cis.Fail, scope: app, evidence: "is_multi_region_trail is not true",
			change: func(t *testing.T, d stackDocs) string {
				name, tr := cisFirstOf(t, d, app, "aws_cloudtrail")
				tr["is_multi_region_trail"] = false
				return name
			}},
		{name: "trail log file validation off", control: "3.2", want: cis.Fail, evidence: "enable_log_file_validation is not true",
			change: func(t *testing.T, d stackDocs) string {
				name, tr := cisFirstOf(t, d, app, "aws_cloudtrail")
				delete(tr, "enable_log_file_validation")
				return name
			}},
		{name: "Config recorder stopped", control: "3.3", want: cis.Fail, evidence: "no enabled aws_config_configuration_recorder_status",
			change: func(t *testing.T, d stackDocs) string {
				d.remove(t, app, "aws_config_configuration_recorder_status")
				n, _ := cisFirstOf(t, d, app, "aws_config_configuration_recorder")
				return n
			}},
		{name: "CloudTrail bucket without access logging", control: "3.4", want: cis.Fail, evidence: "has no aws_s3_bucket_logging",
			change: func(t *testing.T, d stackDocs) string {
				_, tr := cisFirstOf(t, d, app, "aws_cloudtrail")
				bucket := tr["s3_bucket_name"].(string)
				for stack := range d {
					for _, b := range d.where(stack, "aws_s3_bucket", `"bucket":"`+bucket+`"`) {
						d.remove(t, stack, "aws_s3_bucket_logging", "${aws_s3_bucket."+b+".")
						return bucket
					}
				}
				t.Fatalf("no stack holds the trail's bucket %s", bucket)
				return ""
			}},
		{name: "VPC without flow log", control: "3.7", want: cis.Fail, scope: app, evidence: "has no aws_flow_log",
			change: func(t *testing.T, d stackDocs) string {
				d.remove(t, app, "aws_flow_log")
				n, _ := cisFirstOf(t, d, app, "aws_vpc")
				return n
			}},
		{name: "S3 data events dropped from an app trail", control: "3.8", want: cis.Fail, scope: app, evidence: "no trail logs its object-level write events",
			change: func(t *testing.T, d stackDocs) string {
				_, tr := cisFirstOf(t, d, app, "aws_cloudtrail")
				tr["advanced_event_selector"] = cisWithoutS3DataEvents(t, tr)
				n, _ := cisFirstOf(t, d, app, "aws_s3_bucket")
				return n
			}},
		{name: "an app bucket excluded from the trail's data events (only the delivery bucket may be)", control: "3.9", want: cis.Fail, scope: app, evidence: "no trail logs its object-level read events",
			change: func(t *testing.T, d stackDocs) string {
				_, tr := cisFirstOf(t, d, app, "aws_cloudtrail")
				n, b := cisFirstOf(t, d, app, "aws_s3_bucket")
				excluded := false
				for _, sel := range tr["advanced_event_selector"].([]any) {
					for _, f := range sel.(map[string]any)["field_selector"].([]any) {
						if f := f.(map[string]any); f["field"] == "resources.ARN" {
							f["not_starts_with"] = append(f["not_starts_with"].([]any), "arn:aws:s3:::"+b["bucket"].(string)+"/")
							excluded = true
						}
					}
				}
				if !excluded {
					t.Fatalf("%s's trail has no resources.ARN selector", app)
				}
				return n
			}},
		{name: "the delivery bucket's exemption needs the trail to exclude it: no data events, no exemption", control: "3.8", want: cis.Fail, scope: "logs", evidence: "no trail logs its object-level write events",
			change: func(t *testing.T, d stackDocs) string {
				_, tr := cisFirstOf(t, d, "logs", "aws_cloudtrail")
				tr["advanced_event_selector"] = cisWithoutS3DataEvents(t, tr)
				return tr["s3_bucket_name"].(string)
			}},
		{name: "password policy dropped in an app account", control: "1.8", want: cis.Fail, scope: app, evidence: "no aws_iam_account_password_policy in account " + app,
			change: func(t *testing.T, d stackDocs) string {
				d.remove(t, app, "aws_iam_account_password_policy")
				return ""
			}},
		{name: "support role's policy detached in an app account", control: "1.17", want: cis.Fail, scope: app, evidence: "no role with AWSSupportAccess in account " + app,
			change: func(t *testing.T, d stackDocs) string {
				d.remove(t, app, "aws_iam_role_policy_attachment", "AWSSupportAccess")
				return ""
			}},
		{name: "VPC changes filter weakened: CreateVpc missing", control: "4.14", want: cis.Fail, scope: app, evidence: "misses eventName CreateVpc",
			change: func(t *testing.T, d stackDocs) string { return cisDropEvent(t, d, app, "CreateVpc") }},
		{name: "S3 bucket policy filter weakened: PutBucketAcl missing", control: "4.8", want: cis.Fail, scope: app, evidence: "misses eventName PutBucketAcl",
			change: func(t *testing.T, d stackDocs) string { return cisDropEvent(t, d, app, "PutBucketAcl") }},
		{name: "bucket without policy", control: "2.1.1", want: cis.Fail, scope: app, evidence: "has no bucket policy",
			change: func(t *testing.T, d stackDocs) string {
				d.remove(t, app, "aws_s3_bucket_policy")
				n, _ := cisFirstOf(t, d, app, "aws_s3_bucket")
				return n
			}},
		{name: "bucket public access block partly off", control: "2.1.4", want: cis.Fail, scope: app, evidence: "has a setting off",
			change: func(t *testing.T, d stackDocs) string {
				name, p := cisFirstOf(t, d, app, "aws_s3_bucket_public_access_block")
				p["restrict_public_buckets"] = false
				return name
			}},
		{name: "EBS default encryption dropped", control: "2.2.1", want: cis.Fail, evidence: "no EBS encryption by default (aws_ebs_encryption_by_default) in account " + app,
			change: func(t *testing.T, d stackDocs) string {
				d.remove(t, app, "aws_ebs_encryption_by_default")
				return ""
			}},
		{name: "Access Analyzer dropped", control: "1.20", want: cis.Fail, evidence: "no IAM Access Analyzer (aws_accessanalyzer_analyzer) in account " + app,
			change: func(t *testing.T, d stackDocs) string {
				d.remove(t, app, "aws_accessanalyzer_analyzer")
				return ""
			}},
		{name: "Access Analyzer dropped in one other watched region", control: "1.20", want: cis.Fail,
			evidence: "no IAM Access Analyzer (aws_accessanalyzer_analyzer) in account " + app + ", region " + lastWatched(t, f.Cfg),
			change: func(t *testing.T, d stackDocs) string {
				region := lastWatched(t, f.Cfg)
				d.remove(t, app, "aws_accessanalyzer_analyzer", `"provider":"aws.`+region+`"`)
				return ""
			}},
		{name: "Config recorder dropped in one other watched region", control: "3.3", want: cis.Fail,
			evidence: "no AWS Config recorder (aws_config_configuration_recorder) in account " + app + ", region " + lastWatched(t, f.Cfg),
			change: func(t *testing.T, d stackDocs) string {
				d.remove(t, app, "aws_config_configuration_recorder", `"provider":"aws.`+lastWatched(t, f.Cfg)+`"`)
				return ""
			}},
		{name: "database unencrypted", control: "2.3.1", want: cis.Fail, scope: app, evidence: "storage_encrypted is not true",
			change: func(t *testing.T, d stackDocs) string {
				name, c := cisFirstOf(t, d, app, "aws_rds_cluster")
				c["storage_encrypted"] = false
				return name
			}},
		{name: "database instance public", control: "2.3.3", want: cis.Fail, scope: app, evidence: "publicly_accessible = true",
			change: func(t *testing.T, d stackDocs) string {
				name, c := cisFirstOf(t, d, app, "aws_rds_cluster_instance")
				c["publicly_accessible"] = true
				return name
			}},
		{name: "database minor upgrades off", control: "2.3.2", want: cis.Fail, scope: app, evidence: "auto_minor_version_upgrade = false",
			change: func(t *testing.T, d stackDocs) string {
				name, c := cisFirstOf(t, d, app, "aws_rds_cluster_instance")
				c["auto_minor_version_upgrade"] = false
				return name
			}},
		{name: "inline policy grants *:*", control: "1.16", want: cis.Fail, scope: app, evidence: "cis-test-admin allows",
			change: func(t *testing.T, d stackDocs) string {
				_, rp := cisFirstOf(t, d, app, "aws_iam_role_policy")
				cisPut(d, app, "aws_iam_role_policy", "cis-test-admin", map[string]any{"role": rp["role"],
					"policy": `{"Version":"2012-10-17","Statement":[{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}]}`})
				return ""
			}},
		{name: "user with a policy of its own", control: "1.15", want: cis.Fail, evidence: "cis-test-user-policy",
			change: func(t *testing.T, d stackDocs) string {
				_, u := cisFirstOf(t, d, "security", "aws_iam_user")
				cisPut(d, "security", "aws_iam_user_policy_attachment", "cis-test-user-policy", map[string]any{"user": u["name"], "policy_arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"})
				return ""
			}},
		{name: "CloudShell full access attached", control: "1.22", want: cis.Fail, evidence: "cis-test-cloudshell",
			change: func(t *testing.T, d stackDocs) string {
				_, g := cisFirstOf(t, d, "security", "aws_iam_group")
				cisPut(d, "security", "aws_iam_group_policy_attachment", "cis-test-cloudshell", map[string]any{"group": g["name"], "policy_arn": "arn:aws:iam::aws:policy/AWSCloudShellFullAccess"})
				return ""
			}},
		{name: "support role repaired in an app account", control: "1.17", want: cis.Hold, scope: app, evidence: "cis-test-support",
			change: func(t *testing.T, d stackDocs) string {
				cisPut(d, app, "aws_iam_role", "cis-test-support-role", map[string]any{"name": "support", "assume_role_policy": "{}"})
				cisPut(d, app, "aws_iam_role_policy_attachment", "cis-test-support", map[string]any{"role": "${aws_iam_role.cis-test-support-role.name}", "policy_arn": "arn:aws:iam::aws:policy/AWSSupportAccess"})
				return ""
			}},
		{name: "Security Hub back on CIS 1.4 in an app account", control: "4.16", want: cis.Fail, scope: app + " " + f.Cfg.Region, evidence: "not subscribed to CIS v3.0.0",
			change: func(t *testing.T, d stackDocs) string {
				for _, v := range d.of(app, "aws_securityhub_standards_subscription") {
					sub := v.(map[string]any)
					if arn, _ := sub["standards_arn"].(string); sub["provider"] == nil && strings.Contains(arn, "cis-aws-foundations-benchmark") {
						sub["standards_arn"] = strings.Replace(arn, "/v/3.0.0", "/v/1.4.0", 1)
					}
				}
				return ""
			}},
		{name: "default security group with a rule", control: "5.4", want: cis.Fail, scope: app, evidence: "has rules",
			change: func(t *testing.T, d stackDocs) string {
				name, sg := cisFirstOf(t, d, app, "aws_default_security_group")
				sg["ingress"] = []any{map[string]any{"protocol": "-1", "from_port": 0, "to_port": 0, "self": true}}
				return name
			}},
		{name: "peering route widened to the whole internet", control: "5.5", want: cis.Fail, evidence: "peering route to 0.0.0.0/0",
			change: func(t *testing.T, d stackDocs) string {
				name, r := cisFirstOf(t, d, app, "aws_route", "vpc_peering_connection_id")
				r["destination_cidr_block"] = "0.0.0.0/0"
				return name
			}},
		{name: "IMDSv1 allowed", control: "5.6", want: cis.Fail, scope: app, evidence: `http_tokens is not "required"`,
			change: func(t *testing.T, d stackDocs) string {
				name, lt := cisFirstOf(t, d, app, "aws_launch_template")
				first(lt["metadata_options"])["http_tokens"] = "optional"
				return name
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := readDocs(t, out)
			frag := c.change(t, d)
			got := cisOf(t, f, d.raw(t))[c.control]
			match := func(r cis.Result) (found bool) {
				for _, fd := range r.Findings {
					if fd.Status == c.want && strings.Contains(fd.Evidence, c.evidence) && strings.Contains(fd.Evidence, frag) &&
						(c.scope == "" || strings.HasPrefix(fd.Scope, c.scope)) {
						return true
					}
				}
				return false
			}
			if !match(got) {
				t.Fatalf("CIS %s: want a %s finding with %q %q (scope %q); got %s:\n%s", c.control, c.want, c.evidence, frag, c.scope, got.Status, cisFindingsText(got))
			}
			if match(base[c.control]) {
				t.Fatalf("CIS %s: the unchanged stacks already have that %s finding; the case proves nothing", c.control, c.want)
			}
			if c.want == cis.Fail && got.Status != cis.Fail {
				t.Fatalf("CIS %s: status %s, want FAIL", c.control, got.Status)
			}
		})
	}
}

// cisWithoutS3DataEvents returns a trail's advanced event selectors without
// the S3 object-level ones, failing when it has none.
func cisWithoutS3DataEvents(t *testing.T, tr map[string]any) []any {
	t.Helper()
	var keep []any
	for _, sel := range tr["advanced_event_selector"].([]any) {
		if b, _ := json.Marshal(sel); !strings.Contains(string(b), "AWS::S3::Object") {
			keep = append(keep, sel)
		}
	}
	if len(keep) == len(tr["advanced_event_selector"].([]any)) {
		t.Fatal("the trail has no S3 data event selector")
	}
	return keep
}

func cisFindingsText(r cis.Result) string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, fmt.Sprintf("    %s %s: %s", f.Status, f.Scope, f.Evidence))
	}
	return strings.Join(out, "\n")
}

// The cis command prints every control and exits 1 exactly when an
// IaC-expressible control fails, 0 with -report-only; a broken stack turns
// a holding control into a failing one in the printed report.
func TestCISCommand(t *testing.T) {
	f := fixtureConfig(t, exampleFixture)
	t.Setenv("LZ_CONFIG", f.Path)
	out := synthOf(t, f)
	fails := len(cis.Failures(slices.Collect(maps.Values(cisOf(t, f, readStacks(t, out))))))
	run := func(args ...string) (int, string) {
		var o, e strings.Builder
		code := cli.Run(append([]string{"cis"}, args...), &o, &e)
		return code, o.String() + e.String()
	}
	code, text := run("-dir", out)
	if want := map[bool]int{true: 1, false: 0}[fails > 0]; code != want {
		t.Fatalf("cis exited %d with %d failing controls, want %d:\n%s", code, fails, want, text)
	}
	for _, c := range cis.Controls() {
		if !strings.Contains(text, "\n"+c.ID+" ") && !strings.HasPrefix(text, c.ID+" ") {
			t.Errorf("the report has no line for CIS %s", c.ID)
		}
	}
	if code, text = run("-dir", out, "-report-only"); code != 0 {
		t.Fatalf("cis -report-only exited %d:\n%s", code, text)
	}
	if !strings.Contains(text, "5.6 ") || !strings.Contains(text, fmt.Sprintf("%d controls", len(cis.Controls()))) {
		t.Fatalf("no tally in:\n%s", text)
	}
	// Break 5.6 in a copy of the synth output: the report shows it failing.
	d := readDocs(t, out)
	name, lt := cisFirstOf(t, d, "dev", "aws_launch_template")
	first(lt["metadata_options"])["http_tokens"] = "optional"
	broken := t.TempDir()
	for stack, b := range d.raw(t) {
		if err := os.MkdirAll(filepath.Join(broken, "stacks", stack), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(stackFile(broken, stack), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, text = run("-dir", broken, "-json")
	var rs []cis.Result
	if err := json.Unmarshal([]byte(text[:strings.LastIndex(text, "]")+1]), &rs); err != nil {
		t.Fatalf("-json: %v\n%s", err, text)
	}
	for _, r := range rs {
		if r.ID == "5.6" && (r.Status != cis.Fail || !strings.Contains(fmt.Sprint(r.Findings), name)) {
			t.Errorf("5.6 after breaking %s: %s %v", name, r.Status, r.Findings)
		}
	}
	if code != 1 {
		t.Errorf("cis exited %d on a broken stack, want 1", code)
	}
}

// lastWatched is a watched region other than the home region (regions.md).
// cisDropEvent removes one eventName term from the stack's metric filter
// that names it, and returns the filter's name.
func cisDropEvent(t *testing.T, d stackDocs, stack, event string) string {
	t.Helper()
	name, fl := cisFirstOf(t, d, stack, "aws_cloudwatch_log_metric_filter", event)
	p := fl["pattern"].(string)
	fl["pattern"] = strings.Replace(p, "($.eventName = "+event+") || ", "", 1)
	if fl["pattern"] == p {
		t.Fatalf("%s: pattern %q has no %s term to drop", name, p, event)
	}
	return name
}

func lastWatched(t *testing.T, cfg *config.Config) string {
	t.Helper()
	other := cfg.OtherWatchedRegions()
	if len(other) == 0 {
		t.Fatal("the example watches only its home region; the per-region cases need another")
	}
	return other[len(other)-1]
}

// The management account's baseline is checked like every other account's:
// breaking it in either of its stacks fails the control.
func TestCISManagementAccountBrokenCases(t *testing.T) {
	f := fixtureConfig(t, managementFixture)
	mgmt, _ := f.Cfg.Management()
	out := synthOf(t, f)
	baseline := config.ManagementBaselineStack(mgmt)
	other := lastWatched(t, f.Cfg)
	cases := []struct {
		name, control, evidence string
		change                  func(t *testing.T, d stackDocs)
	}{
		{"Organizations changes filter dropped", "4.15", "misses eventName AcceptHandshake",
			func(t *testing.T, d stackDocs) {
				d.remove(t, baseline, "aws_cloudwatch_log_metric_filter", "organizations.amazonaws.com")
			}},
		{"trail dropped", "3.1", "",
			func(t *testing.T, d stackDocs) { d.remove(t, baseline, "aws_cloudtrail") }},
		{"password policy dropped", "1.8", "no aws_iam_account_password_policy in account " + mgmt,
			func(t *testing.T, d stackDocs) { d.remove(t, baseline, "aws_iam_account_password_policy") }},
		{"support role dropped", "1.17", "no role with AWSSupportAccess in account " + mgmt,
			func(t *testing.T, d stackDocs) {
				d.remove(t, baseline, "aws_iam_role_policy_attachment", "AWSSupportAccess")
			}},
		{"CIS standard dropped in another watched region (the organization stack's hub)", "4.16", "not subscribed to CIS v3.0.0",
			func(t *testing.T, d stackDocs) {
				d.remove(t, mgmt, "aws_securityhub_standards_subscription", "cis-aws-foundations-benchmark", `"provider":"aws.`+other+`"`)
			}},
		{"Access Analyzer dropped in another watched region", "1.20", "in account " + mgmt + ", region " + other,
			func(t *testing.T, d stackDocs) {
				d.remove(t, baseline, "aws_accessanalyzer_analyzer", `"provider":"aws.`+other+`"`)
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := readDocs(t, out)
			c.change(t, d)
			got := cisOf(t, f, d.raw(t))[c.control]
			for _, fd := range got.Findings {
				if fd.Status == cis.Fail && strings.HasPrefix(fd.Scope, mgmt) && strings.Contains(fd.Evidence, c.evidence) {
					return
				}
			}
			t.Fatalf("CIS %s: want a FAIL in account %s with %q; got %s:\n%s", c.control, mgmt, c.evidence, got.Status, cisFindingsText(got))
		})
	}
}
