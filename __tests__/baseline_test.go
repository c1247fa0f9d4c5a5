package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/acme/landing-zone/constructs/audit"
	"github.com/acme/landing-zone/constructs/crossaccount"
	"github.com/acme/landing-zone/constructs/iamusers"
	"github.com/acme/landing-zone/constructs/logarchive"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/stacks"
)

// policyDoc is an IAM policy document as synthesized. Action, Resource and
// Principal values are always lists: internal/iam writes them that way.
type policyDoc struct {
	Statement []policyStatement
}

type policyStatement struct {
	Sid       string
	Effect    string
	Principal map[string][]string
	Action    []string
	NotAction []string
	Resource  []string
	Condition map[string]map[string][]string
}

func parsePolicy(t testing.TB, where string, v any) policyDoc {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%s: policy is %T, not a JSON string", where, v)
	}
	var d policyDoc
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatalf("%s: %v\n%s", where, err, s)
	}
	return d
}

func archiveNames(cfg *config.Config) logarchive.Names {
	name, logs := cfg.AccountOfKind(config.KindLogs)
	return logarchive.NamesFor(cfg.NamePrefix, name, awsenv.New(logs.ID, cfg.Region))
}

func securityRoot(cfg *config.Config) string {
	_, sec := cfg.AccountOfKind(config.KindSecurity)
	return "arn:aws:iam::" + sec.ID + ":root"
}

// TestEveryTrailAndConfigChannelDeliversToTheLogsAccount: each account's
// trail and Config channel name the logs account's buckets (computed from
// config, not read from state), and those buckets admit exactly that trail.
func TestEveryTrailAndConfigChannelDeliversToTheLogsAccount(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		cfg, out := f.Cfg, synthOf(t, f)
		names := archiveNames(cfg)
		logsName, _ := cfg.AccountOfKind(config.KindLogs)
		logs := readStack(t, out, logsName)
		buckets := map[string]map[string]any{}
		for _, b := range logs.resources("aws_s3_bucket") {
			buckets[b["bucket"].(string)] = b
		}
		for _, want := range []string{names.TrailBucket, names.ConfigBucket, names.AccessLogBucket} {
			if buckets[want] == nil {
				t.Errorf("the logs account has no bucket %s", want)
			}
		}
		writers := map[string]string{} // trail ARN allowed to write -> prefix
		for _, p := range logs.resources("aws_s3_bucket_policy") {
			for _, st := range parsePolicy(t, "bucket policy", p["policy"]).Statement {
				if slices.Contains(st.Action, "s3:PutObject") && slices.Contains(st.Principal["Service"], "cloudtrail.amazonaws.com") {
					for _, arn := range st.Condition["StringEquals"]["aws:SourceArn"] {
						writers[arn] = st.Resource[0]
					}
				}
			}
		}

		for _, name := range cfg.MemberAccountNames() { // the management stack has no baseline
			s, id := readStack(t, out, name), cfg.Accounts[name].ID
			trails := s.resources("aws_cloudtrail")
			if len(trails) != 1 {
				t.Fatalf("%s has %d trails, want 1", name, len(trails))
			}
			for _, tr := range trails {
				if tr["s3_bucket_name"] != names.TrailBucket || tr["kms_key_id"] != names.KeyAliasARN {
					t.Errorf("%s: trail writes to %v with key %v, want %s with %s", name, tr["s3_bucket_name"], tr["kms_key_id"], names.TrailBucket, names.KeyAliasARN)
				}
				if tr["is_multi_region_trail"] != true || tr["enable_log_file_validation"] != true || tr["include_global_service_events"] != true {
					t.Errorf("%s: trail is not multi-region with log file validation and global events: %v", name, tr)
				}
				arn := audit.TrailARN(awsenv.New(id, cfg.Region), tr["name"].(string))
				if want := "arn:aws:s3:::" + names.TrailBucket + "/AWSLogs/" + id + "/*"; writers[arn] != want {
					t.Errorf("%s: the trail bucket lets %s write %q, want %q", name, arn, writers[arn], want)
				}
			}
			channels := s.resources("aws_config_delivery_channel")
			if want := len(cfg.WatchedRegions()); len(channels) != want {
				t.Fatalf("%s has %d Config delivery channels, want one per watched region (%d)", name, len(channels), want)
			}
			for _, c := range channels {
				if c["s3_bucket_name"] != names.ConfigBucket {
					t.Errorf("%s: Config delivers to %v, want %s", name, c["s3_bucket_name"], names.ConfigBucket)
				}
			}
		}
	})
}

// TestCrossAccountRolesTrustOnlyTheSecurityAccountWithMFA checks every role
// in every stack that people assume: the allow-* roles, and any role that
// trusts a whole account. Each trusts the security account alone, requires
// MFA, and caps its session as configured. (Roles for one named service
// principal or machine role, such as the VPN's group reader, are not for
// people and are left to their layers.)
func TestCrossAccountRolesTrustOnlyTheSecurityAccountWithMFA(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		cfg, out := f.Cfg, synthOf(t, f)
		root := securityRoot(cfg)
		for _, stack := range stackNames(t, out) {
			crossAccount := 0
			for addr, r := range readStack(t, out, stack).resources("aws_iam_role") {
				where := stack + "/" + addr
				doc := parsePolicy(t, where, r["assume_role_policy"])
				// The allow-* roles, and the ECS Exec role people assume.
				isCross := strings.HasPrefix(r["name"].(string), "allow-") || strings.HasSuffix(r["name"].(string), "-ecs-exec")
				for _, st := range doc.Statement {
					aws := st.Principal["AWS"]
					trustsAccount := slices.ContainsFunc(aws, func(p string) bool { return strings.HasSuffix(p, ":root") || p == "*" })
					if !isCross && !trustsAccount {
						continue
					}
					if !isCross && (strings.HasSuffix(r["name"].(string), "-peering") || strings.HasSuffix(r["name"].(string), "-peering-read")) {
						// The app stacks' peering roles in shared-services
						// (internal/ci) trust only named roles of their app
						// account, by aws:PrincipalArn.
						named := st.Condition["ArnEquals"]["aws:PrincipalArn"]
						acct := strings.TrimSuffix(strings.TrimPrefix(aws[0], "arn:aws:iam::"), ":root")
						if len(aws) != 1 || len(named) == 0 || slices.ContainsFunc(named, func(a string) bool { return !strings.HasPrefix(a, "arn:aws:iam::"+acct+":role/") }) {
							t.Errorf("%s trusts %v with %v, want named roles of that account only", where, aws, st.Condition)
						}
						continue
					}
					if !isCross && cfg.Accounts[cfg.AccountOfStack(stack)].Kind == config.KindManagement &&
						r["name"] == crossaccount.SupportRoleName(cfg.NamePrefix+"-"+cfg.AccountOfStack(stack)) {
						// The management account's support role: its own
						// people, with MFA; never the security account.
						own := "arn:aws:iam::" + cfg.Accounts[cfg.AccountOfStack(stack)].ID + ":root"
						if !slices.Equal(aws, []string{own}) || !slices.Equal(st.Condition["Bool"]["aws:MultiFactorAuthPresent"], []string{"true"}) {
							t.Errorf("%s trusts %v (%v), want only %s with MFA", where, aws, st.Condition, own)
						}
						continue
					}
					if !isCross {
						t.Errorf("%s trusts whole accounts %v but is not an allow-* role", where, aws)
					}
					if st.Effect != "Allow" || !slices.Equal(aws, []string{root}) || len(st.Principal) != 1 {
						t.Errorf("%s trusts %v, want only %s", where, st.Principal, root)
					}
					if !slices.Equal(st.Condition["Bool"]["aws:MultiFactorAuthPresent"], []string{"true"}) {
						t.Errorf("%s does not require MFA: %v", where, st.Condition)
					}
				}
				if isCross {
					crossAccount++
					if len(doc.Statement) != 1 || doc.Statement[0].Principal["AWS"] == nil {
						t.Errorf("%s: want exactly one statement trusting the security account, got %+v", where, doc.Statement)
					}
					if want := float64(cfg.Baseline.RoleMaxSessionHours * 3600); r["max_session_duration"] != want {
						t.Errorf("%s: max session %v, want %v", where, r["max_session_duration"], want)
					}
				}
			}
			if strings.HasPrefix(stack, "bootstrap-") {
				continue
			}
			if a := cfg.Accounts[cfg.AccountOfStack(stack)]; a.Kind == config.KindManagement {
				if crossAccount != 0 {
					t.Errorf("%s: the management account has %d cross-account roles, want none", stack, crossAccount)
				}
				continue
			}
			want := len(cfg.Baseline.RoleAccesses()[stack])
			if a := cfg.Accounts[stack]; a.Kind == config.KindApp && len(a.ECS.ExecGroups) > 0 {
				want++ // the ECS Exec role
			}
			if crossAccount != want || want < 2 {
				t.Errorf("%s has %d cross-account roles, want %d (at least full-access and read-only)", stack, crossAccount, want)
			}
		}
	})
}

// policyFields are where IAM policy documents live in the synthesized JSON.
var policyFields = map[string]string{
	"aws_iam_policy": "policy", "aws_iam_role_policy": "policy", "aws_iam_group_policy": "policy",
	"aws_iam_user_policy": "policy", "aws_s3_bucket_policy": "policy", "aws_kms_key": "policy",
}

var attachmentTypes = map[string]string{
	"aws_iam_role_policy_attachment": "role", "aws_iam_group_policy_attachment": "group",
	"aws_iam_user_policy_attachment": "user", "aws_iam_policy_attachment": "name",
}

// adminRoles may hold AdministratorAccess, each for a reason.
var adminRoles = map[string]string{
	crossaccount.RoleName(config.AccessFullAccess): "people in <account>-full-access, from the security account with MFA",
	// constructs/githuboidc: CI applies each account's stack with it, so it
	// needs what deploy_role has; only main, behind the GitHub environment's
	// approval, may assume it.
	"github-apply": "CI's Terraform apply",
}

// TestNoPolicyGrantsEverythingButTheFullAccessRole scans every policy in
// every stack for an Allow of "*" or "*:*", and every attachment of
// AdministratorAccess: only the allow-full-access roles (and the CI apply
// role, see adminRoles) may hold it.
func TestNoPolicyGrantsEverythingButTheFullAccessRole(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		out := synthOf(t, f)
		admins := 0
		for _, stack := range stackNames(t, out) {
			s := readStack(t, out, stack)
			for typ, field := range policyFields {
				for addr, r := range s.resources(typ) {
					for _, st := range parsePolicy(t, stack+"/"+addr, r[field]).Statement {
						if st.Effect != "Allow" {
							continue
						}
						if slices.Contains(st.Action, "*") || slices.Contains(st.Action, "*:*") || len(st.NotAction) > 0 {
							t.Errorf("%s/%s.%s allows everything: %+v", stack, typ, addr, st)
						}
					}
				}
			}
			for typ, field := range attachmentTypes {
				for addr, a := range s.resources(typ) {
					if !strings.HasSuffix(a["policy_arn"].(string), ":policy/AdministratorAccess") {
						continue
					}
					if !strings.HasPrefix(a[field].(string), "${aws_iam_role.") || adminRoles[s.deref(t, a[field])["name"].(string)] == "" {
						t.Errorf("%s/%s.%s attaches AdministratorAccess to %v, not to allow-full-access", stack, typ, addr, a[field])
					} else if s.deref(t, a[field])["name"] == crossaccount.RoleName(config.AccessFullAccess) {
						admins++
					}
				}
			}
		}
		if admins == 0 {
			t.Error("no allow-full-access role holds AdministratorAccess; the scan found nothing to check")
		}
	})
}

// TestDeployOrderIsLogsThenSecurityThenTheRest sorts the stacks by the
// dependencies in cdktf's manifest, which is what `cdktf deploy '*'` follows.
func TestDeployOrderIsLogsThenSecurityThenTheRest(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		cfg, out := f.Cfg, synthOf(t, f)
		b, err := os.ReadFile(filepath.Join(out, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Stacks map[string]struct{ Dependencies []string }
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		deps := map[string][]string{}
		for name, s := range m.Stacks {
			deps[name] = s.Dependencies
			if strings.HasPrefix(name, "bootstrap-") && len(s.Dependencies) > 0 {
				t.Errorf("%s depends on %v; bootstrap stacks come first and depend on nothing", name, s.Dependencies)
			}
		}
		order := topoSort(t, deps)
		pos := map[string]int{}
		for i, n := range order {
			pos[n] = i
		}
		logs, _ := cfg.AccountOfKind(config.KindLogs)
		sec, _ := cfg.AccountOfKind(config.KindSecurity)
		// The organization stack, with a management account, comes first.
		mgmt, _ := cfg.Management()
		var first []string
		if mgmt != "" {
			first = []string{mgmt}
		}
		if len(deps[mgmt]) != 0 || !slices.Equal(deps[logs], first) || !slices.Equal(deps[sec], []string{logs}) {
			t.Errorf("logs depends on %v and security on %v; want %v and [%s]", deps[logs], deps[sec], first, logs)
		}
		names := cfg.MemberAccountNames()
		if mgmt != "" {
			// The management account's baseline writes to logs and
			// reports to security: after both, and after the organization.
			base := config.ManagementBaselineStack(mgmt)
			names = append(names, base)
			if _, ok := pos[base]; !ok || pos[base] < pos[mgmt] {
				t.Errorf("deploy order %v does not put %s after %s", order, base, mgmt)
			}
		}
		for _, name := range names {
			if name != logs && name != sec && !(pos[logs] < pos[sec] && pos[sec] < pos[name]) {
				t.Errorf("deploy order %v does not put %s before %s before %s", order, logs, sec, name)
			}
		}
	})
}

// topoSort orders stacks so that each comes after its dependencies, breaking
// ties by name, and fails on a cycle.
func topoSort(t *testing.T, deps map[string][]string) []string {
	t.Helper()
	var order []string
	done := map[string]bool{}
	for len(order) < len(deps) {
		var ready []string
		for n, ds := range deps {
			if !done[n] && !slices.ContainsFunc(ds, func(d string) bool { return !done[d] }) {
				ready = append(ready, n)
			}
		}
		if len(ready) == 0 {
			t.Fatalf("the stack dependencies have a cycle: %v", deps)
		}
		sort.Strings(ready)
		done[ready[0]] = true
		order = append(order, ready[0])
	}
	return order
}

// TestLogArchiveBucketsAndKeyAreScoped: the log buckets are KMS-encrypted
// (access logs excepted, which S3 requires), log their access, move to
// colder storage and expire as configured; every grant to a service is
// conditioned on the configured accounts; only the auditors may decrypt.
func TestLogArchiveBucketsAndKeyAreScoped(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		cfg, out := f.Cfg, synthOf(t, f)
		names := archiveNames(cfg)
		logsName, logsAcct := cfg.AccountOfKind(config.KindLogs)
		logs := readStack(t, out, logsName)
		byRef := func(typ, bucket string) map[string]any {
			for _, r := range logs.resources(typ) {
				if b, _ := r["bucket"].(string); strings.Contains(b, "log-archive_"+bucket+"_") {
					return r
				}
			}
			t.Fatalf("no %s for bucket %s", typ, bucket)
			return nil
		}
		lb := cfg.Baseline.LogBuckets
		for _, name := range []string{names.TrailBucket, names.ConfigBucket, names.AccessLogBucket} {
			sse, _ := json.Marshal(byRef("aws_s3_bucket_server_side_encryption_configuration", name)["rule"])
			wantKMS := name != names.AccessLogBucket
			if strings.Contains(string(sse), `"sse_algorithm":"aws:kms"`) != wantKMS {
				t.Errorf("%s: encryption %s, want KMS: %v", name, sse, wantKMS)
			}
			life, _ := json.Marshal(byRef("aws_s3_bucket_lifecycle_configuration", name)["rule"])
			for _, want := range []string{
				fmt.Sprintf(`"transition":[{"days":%d,"storage_class":%q}]`, lb.TransitionDays, lb.StorageClass),
				fmt.Sprintf(`"expiration":{"days":%d}`, lb.ExpireDays),
			} {
				if !strings.Contains(string(life), want) {
					t.Errorf("%s: lifecycle %s lacks %s", name, life, want)
				}
			}
			pol := parsePolicy(t, name, byRef("aws_s3_bucket_policy", name)["policy"])
			if pol.Statement[0].Sid != "DenyInsecureTransport" {
				t.Errorf("%s: the policy does not start by denying non-TLS access", name)
			}
			for _, st := range pol.Statement[1:] {
				if st.Effect == "Deny" {
					continue // a deny grants nothing (ProtectObjectLock)
				}
				c := st.Condition["StringEquals"]
				if len(st.Principal["Service"]) != 1 || len(st.Principal) != 1 || (c["aws:SourceArn"] == nil && c["aws:SourceAccount"] == nil) {
					t.Errorf("%s: statement %s is not a service grant limited by source account or ARN: %+v", name, st.Sid, st)
				}
			}
			if name != names.AccessLogBucket && byRef("aws_s3_bucket_logging", name)["target_bucket"] != names.AccessLogBucket {
				t.Errorf("%s does not log its access to %s", name, names.AccessLogBucket)
			}
		}

		auditor := crossaccount.RoleARN(awsenv.PartitionOf(cfg.Region), logsAcct.ID, config.AccessReadOnly)
		for addr, k := range logs.resources("aws_kms_key") {
			if !strings.HasPrefix(addr, "log-archive") {
				continue
			}
			if deps, _ := k["depends_on"].([]any); len(deps) != 1 || !strings.Contains(deps[0].(string), "allow-read-only") {
				t.Errorf("the archive key does not wait for the auditor role it names: depends_on %v", k["depends_on"])
			}
			for _, st := range parsePolicy(t, addr, k["policy"]).Statement {
				aws := st.Principal["AWS"]
				decrypts := slices.Contains(st.Action, "kms:Decrypt") || slices.Contains(st.Action, "kms:*")
				switch {
				case !decrypts || aws == nil:
				case st.Sid == "AccountAdministers" && slices.Equal(aws, []string{"arn:aws:iam::" + logsAcct.ID + ":root"}):
				case slices.Equal(aws, []string{auditor}):
				default:
					t.Errorf("key statement %s lets %v decrypt; only the auditors may", st.Sid, aws)
				}
				if svc := st.Principal["Service"]; svc != nil && len(st.Condition) == 0 {
					t.Errorf("key statement %s grants %v with no condition", st.Sid, svc)
				}
			}
		}
	})
}

// TestSecurityAccountHoldsUsersGroupsAndTheMFAPolicy: every configured group
// exists and may only assume its role in its accounts; every user is in
// all-users, whose policy denies all but MFA setup until MFA is on.
func TestSecurityAccountHoldsUsersGroupsAndTheMFAPolicy(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		cfg, out := f.Cfg, synthOf(t, f)
		secName, _ := cfg.AccountOfKind(config.KindSecurity)
		_, shared := cfg.AccountOfKind(config.KindShared)
		sec := readStack(t, out, secName)
		groups := map[string]bool{}
		for _, g := range sec.resources("aws_iam_group") {
			groups[g["name"].(string)] = true
		}
		for name := range cfg.Baseline.Groups {
			if !groups[name] {
				t.Errorf("group %s is missing", name)
			}
		}
		if !groups[iamusers.AllUsers] || len(groups) != len(cfg.Baseline.Groups)+1 {
			t.Errorf("groups %v, want the configured ones plus %s", groups, iamusers.AllUsers)
		}
		policies := sec.resources("aws_iam_group_policy")
		if len(policies) != len(cfg.Baseline.Groups) {
			t.Errorf("%d group policies for %d groups", len(policies), len(cfg.Baseline.Groups))
		}
		for addr, p := range policies {
			name, _ := sec.deref(t, p["group"])["name"].(string)
			g := cfg.Baseline.Groups[name]
			if g == nil {
				t.Fatalf("group policy %s is for no configured group (%s)", addr, name)
			}
			var want []string
			for _, a := range g.Accounts {
				want = append(want, crossaccount.RoleARN(awsenv.PartitionOf(cfg.Region), cfg.Accounts[a].ID, g.Access))
			}
			doc := parsePolicy(t, addr, p["policy"])
			// ECS Exec: a group the config names may also assume the exec
			// roles (checked by the IAM proof and TestECSExec...).
			doc.Statement = slices.DeleteFunc(doc.Statement, func(s policyStatement) bool { return s.Sid == stacks.ExecAssumeSid })
			st := doc.Statement[0]
			statements := 1
			if name == config.VPNGroupName {
				// VPN users may also download their own profile, and decrypt
				// it through S3 for that bucket only, nothing else.
				statements = 3
				bucket := cfg.NamePrefix + "-openvpn-pki-" + shared.ID
				if len(doc.Statement) != 3 || !slices.Equal(doc.Statement[1].Action, []string{"s3:GetObject"}) ||
					!slices.Equal(doc.Statement[1].Resource, []string{"arn:aws:s3:::" + bucket + "/profiles/$${aws:username}.ovpn"}) || // Terraform renders $${ as ${
					!slices.Equal(doc.Statement[2].Action, []string{"kms:Decrypt"}) ||
					!slices.Equal(doc.Statement[2].Condition["StringEquals"]["kms:EncryptionContext:aws:s3:arn"], []string{"arn:aws:s3:::" + bucket}) {
					t.Errorf("group %s: want its other statements to read only the user's own VPN profile: %+v", name, doc.Statement)
				}
			}
			if len(doc.Statement) != statements || !slices.Equal(st.Action, []string{"sts:AssumeRole"}) || !slices.Equal(st.Resource, want) {
				t.Errorf("group %s may %v on %v, want only sts:AssumeRole on %v", name, st.Action, st.Resource, want)
			}
		}

		members := map[string][]string{}
		for _, m := range sec.resources("aws_iam_user_group_membership") {
			user := sec.deref(t, m["user"])["name"].(string)
			for _, g := range m["groups"].([]any) {
				members[user] = append(members[user], sec.deref(t, g)["name"].(string))
			}
		}
		if len(members) != len(cfg.Baseline.Users) {
			t.Errorf("%d memberships for %d users", len(members), len(cfg.Baseline.Users))
		}
		for name, u := range cfg.Baseline.Users {
			if want := append([]string{iamusers.AllUsers}, u.Groups...); !slices.Equal(members[name], want) {
				t.Errorf("user %s is in %v, want %v", name, members[name], want)
			}
		}

		var denies int
		for addr, p := range sec.resources("aws_iam_policy") {
			for _, st := range parsePolicy(t, addr, p["policy"]).Statement {
				if st.Effect == "Deny" && slices.Equal(st.Resource, []string{"*"}) &&
					slices.Equal(st.Condition["BoolIfExists"]["aws:MultiFactorAuthPresent"], []string{"false"}) &&
					slices.Contains(st.NotAction, "iam:EnableMFADevice") && !slices.Contains(st.NotAction, "sts:AssumeRole") {
					denies++
				}
			}
			if !strings.Contains(p["policy"].(string), "user/$${aws:username}") {
				t.Errorf("the MFA policy does not escape ${aws:username} from Terraform")
			}
		}
		if denies != 1 || len(sec.resources("aws_iam_group_policy_attachment")) != 1 {
			t.Errorf("want one MFA deny policy attached to %s, got %d denies", iamusers.AllUsers, denies)
		}
		pp := sec.resources("aws_iam_account_password_policy")
		if len(pp) != 1 {
			t.Fatalf("security has %d password policies, want 1", len(pp))
		}
		want := cfg.Baseline.PasswordPolicy
		for _, p := range pp {
			if p["minimum_password_length"] != float64(want.MinLength) || p["password_reuse_prevention"] != float64(want.ReusePrevention) || p["max_password_age"] != float64(want.MaxAgeDays) {
				t.Errorf("password policy %v, want the configured %+v", p, want)
			}
			if p["minimum_password_length"].(float64) < config.DefaultPasswordMinLength {
				t.Errorf("password policy %v is weaker than CIS allows", p)
			}
		}
		for _, name := range cfg.AccountNames() {
			if s := readStack(t, out, name); name != secName && len(s.resources("aws_iam_user"))+len(s.resources("aws_iam_group")) > 0 {
				t.Errorf("%s has IAM users or groups; they belong in the security account", name)
			}
		}
	})
}

// TestEveryAccountHasDetectionAndAccountSettings checks GuardDuty, Security
// Hub, the Config recorder and rules, the aggregator and the account-wide
// settings in every account stack.
func TestEveryAccountHasDetectionAndAccountSettings(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		cfg, out := f.Cfg, synthOf(t, f)
		secName, sec := cfg.AccountOfKind(config.KindSecurity)
		var ids []any
		for _, n := range cfg.MemberAccountNames() {
			ids = append(ids, cfg.Accounts[n].ID)
		}
		if _, m := cfg.Management(); m != nil {
			// Its baseline stack deploys last; its regional baseline is
			// TestRegionalBaselineInEveryWatchedRegion's.
			ids = append(ids, m.ID)
		}
		for _, name := range cfg.MemberAccountNames() {
			s := readStack(t, out, name)
			// The home region's resources (the default provider); every
			// other watched region's are checked by
			// TestRegionalBaselineInEveryWatchedRegion.
			home := func(typ string) map[string]map[string]any {
				rs := map[string]map[string]any{}
				for id, r := range s.resources(typ) {
					if r["provider"] == nil {
						rs[id] = r
					}
				}
				return rs
			}
			one := func(typ string) map[string]any {
				rs := home(typ)
				if len(rs) != 1 {
					t.Fatalf("%s has %d %s in the home region, want 1", name, len(rs), typ)
				}
				for _, r := range rs {
					return r
				}
				return nil
			}
			if d := one("aws_guardduty_detector"); d["finding_publishing_frequency"] != "FIFTEEN_MINUTES" || d["enable"] != true {
				t.Errorf("%s: GuardDuty detector %v", name, d)
			}
			features := map[any]any{}
			for _, f := range home("aws_guardduty_detector_feature") {
				features[f["name"]] = f["status"]
			}
			if features["S3_DATA_EVENTS"] != "ENABLED" || features["EBS_MALWARE_PROTECTION"] != "ENABLED" {
				t.Errorf("%s: GuardDuty features %v", name, features)
			}
			var standards []string
			for _, sub := range home("aws_securityhub_standards_subscription") {
				standards = append(standards, sub["standards_arn"].(string))
			}
			sort.Strings(standards)
			want := []string{
				"arn:aws:securityhub:" + cfg.Region + "::standards/aws-foundational-security-best-practices/v/1.0.0",
				"arn:aws:securityhub:" + cfg.Region + "::standards/cis-aws-foundations-benchmark/v/3.0.0",
			}
			if cfg.Baseline.SecurityHubOn() {
				one("aws_securityhub_account")
			} else {
				// TestSecurityHubSwitchAndS3DataEventsFollowConfig checks
				// the switched-off side.
				want = nil
			}
			if !slices.Equal(standards, want) {
				t.Errorf("%s: Security Hub standards %v, want %v", name, standards, want)
			}
			rec, _ := json.Marshal(one("aws_config_configuration_recorder")["recording_group"])
			if !strings.Contains(string(rec), `"all_supported":true`) || !strings.Contains(string(rec), `"include_global_resource_types":true`) {
				t.Errorf("%s: recorder %s does not record everything in the primary region", name, rec)
			}
			rules := map[any]bool{}
			for _, r := range s.resources("aws_config_config_rule") {
				rules[r["source"].(map[string]any)["source_identifier"]] = true
			}
			for _, id := range []string{"ROOT_ACCOUNT_MFA_ENABLED", "CLOUD_TRAIL_ENABLED", "ENCRYPTED_VOLUMES", "S3_BUCKET_PUBLIC_READ_PROHIBITED", "INCOMING_SSH_DISABLED"} {
				if !rules[id] {
					t.Errorf("%s lacks the Config rule %s", name, id)
				}
			}
			if !rules["IAM_PASSWORD_POLICY"] {
				t.Errorf("%s: no IAM_PASSWORD_POLICY rule; want it in every account (the password policy is set everywhere)", name)
			}
			if one("aws_ebs_encryption_by_default")["enabled"] != true {
				t.Errorf("%s: EBS encryption by default is off", name)
			}
			pab := one("aws_s3_account_public_access_block")
			if pab["account_id"] != cfg.Accounts[name].ID || pab["block_public_policy"] != true || pab["restrict_public_buckets"] != true {
				t.Errorf("%s: S3 account public access block %v", name, pab)
			}
			one("aws_accessanalyzer_analyzer")
			if name == secName {
				agg, _ := json.Marshal(one("aws_config_configuration_aggregator")["account_aggregation_source"])
				var regions []any
				for _, r := range cfg.WatchedRegions() {
					regions = append(regions, r)
				}
				want, _ := json.Marshal(map[string]any{"account_ids": ids, "regions": regions})
				if string(agg) != string(want) {
					t.Errorf("aggregator source %s, want %s", agg, want)
				}
			} else if a := one("aws_config_aggregate_authorization"); a["account_id"] != sec.ID || a["region"] != cfg.Region {
				t.Errorf("%s authorizes %v in %v, want the security account's aggregator", name, a["account_id"], a["region"])
			}
		}
	})
}

// TestSecurityHubSwitchAndS3DataEventsFollowConfig synthesizes once more
// with Security Hub off and S3 data events off (on by default: the example
// has them, excluding only the CloudTrail archive bucket).
func TestSecurityHubSwitchAndS3DataEventsFollowConfig(t *testing.T) {
	cfg := loadExample(t)
	off := false
	cfg.Baseline.SecurityHub = &off
	names := archiveNames(cfg)
	def := synthTemp(t, cfg, stacks.Options{})
	cfg.Baseline.CloudTrail.S3DataEvents = &off
	out := synthTemp(t, cfg, stacks.Options{})
	for _, name := range cfg.AccountNames() {
		s := readStack(t, out, name)
		if n := len(s.resources("aws_securityhub_account")) + len(s.resources("aws_securityhub_standards_subscription")); n != 0 {
			t.Errorf("%s has %d Security Hub resources with security_hub: false", name, n)
		}
		for _, tr := range s.resources("aws_cloudtrail") {
			if sel, _ := json.Marshal(tr["advanced_event_selector"]); strings.Contains(string(sel), `"AWS::S3::Object"`) {
				t.Errorf("%s: S3 data events with s3_data_events: false: %s", name, sel)
			}
		}
		for _, tr := range readStack(t, def, name).resources("aws_cloudtrail") {
			sel, _ := json.Marshal(tr["advanced_event_selector"])
			for _, want := range []string{`"AWS::S3::Object"`, `"not_starts_with":["arn:aws:s3:::` + names.TrailBucket + `/"]`} {
				if !strings.Contains(string(sel), want) {
					t.Errorf("%s: event selectors %s lack %s", name, sel, want)
				}
			}
		}
	}
}

func TestBaselineDefaultsMirrorTheSeed(t *testing.T) {
	cfg := loadExample(t)
	b := cfg.Baseline
	for _, name := range cfg.AccountNames() {
		for _, suffix := range []string{"-full-access", "-read-only"} {
			if g := b.Groups[name+suffix]; g == nil || !slices.Equal(g.Accounts, []string{name}) {
				t.Errorf("default group %s%s = %+v", name, suffix, g)
			}
		}
	}
	var devs []string
	for _, name := range appAccounts(cfg) {
		if cfg.Accounts[name].Profile == config.ProfileDev {
			devs = append(devs, name)
		}
	}
	shared, _ := cfg.AccountOfKind(config.KindShared)
	want := map[string][]string{"billing": cfg.AccountNames(), "developers": devs, config.VPNGroupName: {shared}}
	for name, accounts := range want {
		if g := b.Groups[name]; g == nil || !slices.Equal(g.Accounts, accounts) {
			t.Errorf("default group %s = %+v, want accounts %v", name, g, accounts)
		}
	}
	if p := b.PasswordPolicy; p.MinLength != 14 || p.ReusePrevention != 24 || p.MaxAgeDays != 90 {
		t.Errorf("password policy defaults %+v", p)
	}
	if b.RoleMaxSessionHours != 1 || b.CloudTrail.LogRetentionDays != 365 || !b.SecurityHubOn() || !b.CloudTrail.S3DataEventsOn() {
		t.Errorf("baseline defaults %+v", b)
	}
	if g := b.Groups[config.SupportGroupName]; g == nil || g.Access != config.AccessSupport || !slices.Equal(g.Accounts, cfg.AccountNames()) {
		t.Errorf("default group %s = %+v, want support access in every account", config.SupportGroupName, g)
	}
	if l := b.LogBuckets; l.ObjectLockMode != "COMPLIANCE" || l.ObjectLockDays != 365 || b.Macie {
		t.Errorf("object lock / macie defaults %+v macie=%v", l, b.Macie)
	}
	if got := b.RoleAccesses()["dev"]; !slices.Equal(got, []string{"full-access", "read-only", "billing", "dev", "support"}) {
		t.Errorf("dev gets roles %v", got)
	}
}

// TestEveryAccessLevelHasARole keeps config's list and the construct's in step.
func TestEveryAccessLevelHasARole(t *testing.T) {
	for _, a := range config.Accesses {
		if _, ok := crossaccount.Policies[a]; !ok {
			t.Errorf("access %q has no role in crossaccount.Policies", a)
		}
	}
	if len(crossaccount.Policies) != len(config.Accesses) || config.AllUsersGroup != iamusers.AllUsers {
		t.Error("config and the constructs disagree on access levels or the all-users group")
	}
}
