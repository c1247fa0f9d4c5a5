package tests

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/acme/landing-zone/constructs/crossaccount"
	"github.com/acme/landing-zone/constructs/organization"
	"github.com/acme/landing-zone/internal/access"
	"github.com/acme/landing-zone/internal/config"
)

// organizationQuestions are the IAM proof's SCP questions a config with a
// management account implies (help/organization.md): none without one.
func organizationQuestions(cfg *config.Config, out map[string]bool) {
	if name, _ := cfg.Management(); name == "" {
		return
	}
	outside := "sa-east-1"
	if cfg.Region == outside {
		outside = "ap-southeast-2"
	}
	for _, name := range appAccounts(cfg) {
		a := cfg.Accounts[name]
		admin := name + " allow-full-access"
		out[admin+" stops its trail"] = false
		out[admin+" deletes its trail"] = false
		out[admin+" leaves the organization"] = false
		out[admin+" creates a VPC in "+outside+", outside the regions in use"] = false
		out[admin+" rewrites the trust policy of github-apply"] = false
		out[admin+" still creates a VPC in "+cfg.Region+" under the SCPs"] = true
		deploy := name + " deploy_role " + a.DeployRole
		out[deploy+" stops its trail"] = false
		for _, who := range []string{deploy, name + " github-apply"} {
			out[who+" still deploys the baseline under the SCPs (trail, event selectors, Config recorder and delivery)"] = true
			out[who+" still creates a VPC in "+cfg.Region+" and service roles under the SCPs"] = true
		}
	}
	logs, acct := cfg.AccountOfKind(config.KindLogs)
	out[logs+" allow-full-access deletes an archived trail log"] = false
	out[logs+" allow-full-access replaces the archive's bucket policy"] = false
	out[logs+" deploy_role "+acct.DeployRole+" still configures the archive's bucket policy and lifecycle under the SCPs"] = true
}

// managementFixture is a fixture with a management account; the others
// keep the optional path (no organization stack) covered.
const managementFixture = "eu-four-apps"

// TestOrganizationStackOnlyWithAManagementAccount: the organization stack
// exists exactly when the config has a management account, adopts every
// member account (and only those) into an OU with an import block that
// is never destroyed, and keeps each SCP within AWS's size limit. Its
// deploy order (first) is TestDeployOrderIsLogsThenSecurityThenTheRest's.
func TestOrganizationStackOnlyWithAManagementAccount(t *testing.T) {
	for _, f := range propertyConfigs(t) {
		t.Run(f.Name, func(t *testing.T) {
			out := synthOf(t, f)
			name, mgmt := f.Cfg.Management()
			if mgmt == nil {
				if f.Name == managementFixture {
					t.Fatalf("%s has no management account", f.Name)
				}
				for _, n := range f.Cfg.AccountNames() {
					if s := readStack(t, out, n); len(s.Resource["aws_organizations_policy"]) > 0 {
						t.Errorf("%s makes SCPs without a management account", n)
					}
				}
				return
			}
			s := readStack(t, out, name)
			readStack(t, out, "bootstrap-"+name) // its own bootstrap, like every account
			accounts := s.Resource["aws_organizations_account"]
			if len(accounts) != len(f.Cfg.MemberAccountNames()) {
				t.Errorf("%d member accounts, want %d (every account but the management account)", len(accounts), len(f.Cfg.MemberAccountNames()))
			}
			var doc struct {
				Import []map[string]any `json:"import"`
			}
			if err := json.Unmarshal(readStacks(t, out)[name], &doc); err != nil {
				t.Fatal(err)
			}
			imports := map[string]string{}
			for _, im := range doc.Import {
				imports[im["to"].(string)] = im["id"].(string)
			}
			for _, n := range f.Cfg.MemberAccountNames() {
				a := f.Cfg.Accounts[n]
				var found string
				for key, r := range accounts {
					if r["email"] == a.Email {
						found = key
						lc := r["lifecycle"].(map[string]any)
						if lc["prevent_destroy"] != true || r["close_on_deletion"] != false {
							t.Errorf("%s: the account can be destroyed or closed: %v", n, r)
						}
						if !strings.Contains(r["parent_id"].(string), "aws_organizations_organizational_unit.") {
							t.Errorf("%s: in no OU (%v)", n, r["parent_id"])
						}
					}
				}
				if found == "" {
					t.Errorf("%s (%s) is not adopted", n, a.Email)
				} else if imports["aws_organizations_account."+found] != a.ID {
					t.Errorf("%s: import block %q, want its ID %s", n, imports["aws_organizations_account."+found], a.ID)
				}
			}
			if len(imports) != len(accounts)+1 {
				t.Errorf("%d import blocks, want the organization and each account (%d)", len(imports), len(accounts)+1)
			}
			for key, r := range s.Resource["aws_organizations_policy"] {
				if n := len(r["content"].(string)); n > organization.MaxPolicyChars {
					t.Errorf("%s: %d characters, over AWS's limit", key, n)
				}
			}
		})
	}
}

func logsName(cfg *config.Config) string {
	n, _ := cfg.AccountOfKind(config.KindLogs)
	return n
}

// TestSCPsAreNoRubberStamp weakens one SCP at a time in the management
// stack and requires the IAM proof to fail the question it guards, decided
// by the administrator's own policy once the SCP no longer denies.
func TestSCPsAreNoRubberStamp(t *testing.T) {
	f := fixtureConfig(t, managementFixture)
	out := synthOf(t, f)
	app := appAccounts(f.Cfg)[0]
	mgmt, _ := f.Cfg.Management()
	cases := []struct {
		name, policy, sid, action, question string
	}{
		{"StopLogging dropped from the audit deny", organization.AuditPolicy, "DenyAuditStops", "cloudtrail:StopLogging", app + " allow-full-access stops its trail"},
		{"LeaveOrganization dropped from the guardrails", organization.GuardrailsPolicy, "DenyLeaveOrganization", "organizations:LeaveOrganization", app + " allow-full-access leaves the organization"},
		{"PutBucketPolicy dropped from the archive's deny", organization.ArchivePolicy, "DenyArchiveChanges", "s3:PutBucketPolicy", logsName(f.Cfg) + " allow-full-access replaces the archive's bucket policy"},
	}
	clean := readDocs(t, out).access(t, f.Cfg, "")
	if fails := access.FailuresOf(clean); len(fails) > 0 {
		t.Fatalf("the clean stacks fail:\n%v", fails)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := readDocs(t, out)
			d.editPolicy(t, mgmt, "aws_organizations_policy", "content", func(doc *iamDoc) {
				var statements []map[string]any
				for _, st := range doc.Statement {
					if st["Sid"] == c.sid {
						var kept []any
						for _, a := range st["Action"].([]any) {
							if a != c.action {
								kept = append(kept, a)
							}
						}
						if len(kept) == len(st["Action"].([]any)) {
							t.Fatalf("%s does not deny %s", c.sid, c.action)
						}
						if len(kept) == 0 {
							continue // the statement denied only that action
						}
						st["Action"] = kept
					}
					statements = append(statements, st)
				}
				doc.Statement = statements
			}, `"name":"`+f.Cfg.NamePrefix+"-"+c.policy+`"`)
			qs := d.access(t, f.Cfg, c.question)
			if len(qs) == 0 {
				t.Fatalf("no question %q", c.question)
			}
			for _, q := range qs {
				if q.Pass() {
					t.Errorf("%q still passes with the SCP weakened: %s", q.Name, q.Detail())
				} else if !strings.Contains(q.Detail(), "AdministratorAccess") {
					t.Errorf("%q fails, but not because the administrator's policy allows it now: %s", q.Name, q.Detail())
				}
			}
		})
	}
	// The other way: without the deploy roles' exception, the baseline no
	// longer deploys, and the proof says so, naming the SCP.
	t.Run("the deploy roles' exception dropped from the audit changes", func(t *testing.T) {
		d := readDocs(t, out)
		d.editPolicy(t, mgmt, "aws_organizations_policy", "content", func(doc *iamDoc) {
			for _, st := range doc.Statement {
				if st["Sid"] == "DenyAuditChanges" {
					delete(st, "Condition")
					return
				}
			}
			t.Fatal("no DenyAuditChanges")
		}, `"name":"`+f.Cfg.NamePrefix+"-"+organization.AuditPolicy+`"`)
		q := app + " deploy_role " + f.Cfg.Accounts[app].DeployRole + " still deploys the baseline"
		qs := d.access(t, f.Cfg, q)
		if len(qs) != 1 || qs[0].Pass() || !strings.Contains(qs[0].Detail(), "DenyAuditChanges") {
			t.Fatalf("want %q to fail on DenyAuditChanges, got %d questions: %v", q, len(qs), access.FailuresOf(qs))
		}
	})
}

// The management account's support role, broken two ways: trusting
// sessions without MFA, and trusting the security account. Each must fail
// a question of the proof.
func TestManagementSupportRoleProofIsNoRubberStamp(t *testing.T) {
	f := fixtureConfig(t, managementFixture)
	out := synthOf(t, f)
	mgmt, m := f.Cfg.Management()
	secName, sec := f.Cfg.AccountOfKind(config.KindSecurity)
	name := crossaccount.SupportRoleName(f.Cfg.NamePrefix + "-" + mgmt)
	baseline := config.ManagementBaselineStack(mgmt)
	cases := []struct {
		name, question string
		edit           func(doc *iamDoc)
	}{
		{"MFA no longer required", mgmt + " deploy_role " + m.DeployRole + " without MFA assumes " + name,
			func(doc *iamDoc) { delete(doc.Statement[0], "Condition") }},
		{"the security account trusted too, and the support group may assume it", "a member of " + config.SupportGroupName + " (security account) assumes " + name + " with MFA",
			func(doc *iamDoc) {
				doc.Statement[0]["Principal"] = map[string]any{"AWS": []string{"arn:aws:iam::" + m.ID + ":root", "arn:aws:iam::" + sec.ID + ":root"}}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := readDocs(t, out)
			d.editPolicy(t, baseline, "aws_iam_role", "assume_role_policy", c.edit, `"name":"`+name+`"`)
			if c.name != cases[0].name {
				// The support group's policy names only allow-support
				// roles; let it name this one too, as a careless edit would.
				d.editPolicy(t, secName, "aws_iam_group_policy", "policy", func(doc *iamDoc) {
					doc.Statement = append(doc.Statement, map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::" + m.ID + ":role/" + name})
				}, `"name":"assume-roles"`, "allow-support")
			}
			qs := d.access(t, f.Cfg, c.question)
			if len(qs) != 1 || qs[0].Pass() {
				t.Fatalf("want %q to fail, got %d questions: %v", c.question, len(qs), qs)
			}
		})
	}
}
