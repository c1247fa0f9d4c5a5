package tests

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/acme/landing-zone/constructs/aurora"
	"github.com/acme/landing-zone/internal/access"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/ci"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/tfjson"
	"github.com/acme/landing-zone/stacks"
)

// TestAccessIsAsIntendedOnEveryConfig: every synth runs the IAM proof and
// fails on any answer other than the intended one, so the synth of every
// fixture and of config.yaml passing means every question was answered as
// intended. Here: the proof asked every question the config implies (derived
// from the config, not from a list of names), with the intended answer.
func TestAccessIsAsIntendedOnEveryConfig(t *testing.T) {
	for _, f := range propertyConfigs(t) {
		t.Run(f.Name, func(t *testing.T) {
			s, err := access.Read(synthOf(t, f), f.Cfg)
			if err != nil {
				t.Fatal(err)
			}
			qs := access.Questions(s, f.Cfg, access.Options{Mode: ci.Human})
			names := map[string]bool{}
			for _, q := range qs {
				names[q.Name] = q.Want
			}
			for name, want := range expectedQuestions(f.Cfg) {
				if got, ok := names[name]; !ok {
					t.Errorf("the proof never asked %q", name)
				} else if got != want {
					t.Errorf("%q is asked with allowed=%v, want %v", name, got, want)
				}
			}
			t.Logf("%d questions", len(qs))
		})
	}
}

// expectedQuestions are questions the config implies, by name, with the
// intended answer.
func expectedQuestions(cfg *config.Config) map[string]bool {
	out := map[string]bool{}
	sharedName, _ := cfg.AccountOfKind(config.KindShared)
	organizationQuestions(cfg, out)
	for _, name := range cfg.MemberAccountNames() { // the management stack has no CI roles
		a := cfg.Accounts[name]
		out["human "+name+": the providers and backend assume what internal/ci says"] = true
		for _, m := range []ci.Mode{ci.Plan, ci.Apply} {
			job := m.String() + " " + name + ": "
			out[job+"take and release the state lock in "+cfg.NamePrefix+"-"+name+"-tflock"] = true
			out[job+"write state"+map[bool]string{true: " with the state key", false: ""}[m == ci.Apply]] = m == ci.Apply
			if a.Kind == config.KindApp {
				c := ci.ChainOf(cfg, name, m)
				role := c.Shared[len(c.Shared)-1]
				out[job+"provider aws.shared: assume "+sharedName+" "+role[strings.LastIndex(role, "/")+1:]+" as "+name+" "+m.OIDCRole()] = true
				out[job+"accept the peering, route back and associate the private zone in "+sharedName+" (provider aws.shared)"] = m == ci.Apply
			}
		}
		out[name+": a pull request assumes github-apply"] = false
		out[name+": the "+name+" environment on a feature branch assumes github-apply"] = false
		out[name+" github-plan reads SSM parameters other than the product's"] = false
		if a.Kind != config.KindApp {
			continue
		}
		out[name+": github-plan assumes the peering write role "+ci.PeeringRole(cfg, name, true)] = false
		for _, svc := range a.ServiceNames() {
			s := a.Services[svc]
			if len(s.Secrets) > 0 {
				out[name+" "+svc+": the execution role reads its secrets"] = true
			}
			if s.UseDatabase {
				out[name+" "+svc+": the task role connects to Aurora as "+aurora.UserName(svc)+" (IAM authentication)"] = true
			}
			if s.UseCache {
				out[name+" "+svc+": the task role connects to Redis as its user"] = true
			}
			if a.DatabaseEnabled() {
				out[name+" "+svc+": its roles read the database master secret"] = false
			}
		}
	}
	for g, group := range cfg.Baseline.Groups {
		for _, acct := range group.Accounts {
			out["a member of "+g+" assumes allow-"+group.Access+" in "+acct+" with MFA"] = true
			out["a member of "+g+" assumes allow-"+group.Access+" in "+acct+" without MFA"] = false
		}
	}
	// ECS Exec (help/ecs-exec.md): only the named groups, only through the
	// exec role; the task roles open the channels only where it is on.
	roleAccesses := cfg.Baseline.RoleAccesses()
	for _, name := range cfg.AccountNames() {
		a := cfg.Accounts[name]
		if a.Kind != config.KindApp {
			continue
		}
		for _, access := range roleAccesses[name] {
			out["allow-"+access+" in "+name+" runs ECS Exec in "+name+"'s containers"] = false
		}
		for _, svc := range a.ServiceNames() {
			if a.ExecOn() {
				out[name+" "+svc+": the task role opens ECS Exec's channels and writes the session log"] = true
			} else {
				out[name+" "+svc+": the task role opens ECS Exec's channels (ECS Exec is off)"] = false
			}
		}
		if !a.ExecOn() {
			continue
		}
		for g := range cfg.Baseline.Groups {
			if slices.Contains(a.ECS.ExecGroups, g) {
				out["a member of "+g+" assumes "+name+"'s ECS Exec role with MFA and runs ECS Exec in "+name+"'s containers"] = true
				out["a member of "+g+" assumes "+name+"'s ECS Exec role without MFA"] = false
			} else {
				out["a member of "+g+" assumes "+name+"'s ECS Exec role"] = false
			}
		}
	}
	for u, user := range cfg.Baseline.Users {
		if user != nil && slices.Contains(user.Groups, config.VPNGroupName) {
			out[u+" downloads their own VPN profile with MFA"] = true
			out[u+" downloads another user's VPN profile"] = false
		}
	}
	out[sharedName+" github-plan reads the VPN PKI (pki/pki.tar.gz)"] = false
	out[sharedName+" github-plan reads a VPN profile"] = false
	return out
}

// TestCIStacksRunWithoutTheExtraHop synthesizes the stacks a CI job runs
// (LZ_CI=plan on the example, LZ_CI=apply on the minimal fixture): the
// default provider and backend of every account stack assume nothing and
// stay pinned to their account, the app stacks' shared provider assumes
// the job's peering role, and the bootstrap stacks still assume
// deploy_role. The synth itself ran the IAM proof on them.
func TestCIStacksRunWithoutTheExtraHop(t *testing.T) {
	for _, c := range []struct {
		fixture string
		mode    ci.Mode
	}{{exampleFixture, ci.Plan}, {"minimal", ci.Apply}} {
		t.Run(c.fixture+" "+string(c.mode), func(t *testing.T) {
			f := fixtureConfig(t, c.fixture)
			out := synthShared(t, f.Cfg, stacks.Options{CI: c.mode})
			_, shared := f.Cfg.AccountOfKind(config.KindShared)
			for _, name := range f.Cfg.AccountNames() {
				a := f.Cfg.Accounts[name]
				s := readStack(t, out, name)
				for _, p := range s.Provider["aws"] {
					alias, _ := p["alias"].(string)
					var roles []string
					for _, r := range tfjson.Blocks(p["assume_role"]) {
						roles = append(roles, r["role_arn"].(string))
					}
					pinned, _ := p["allowed_account_ids"].([]any)
					switch alias {
					case "":
						if len(roles) != 0 || len(pinned) != 1 || pinned[0] != a.ID {
							t.Errorf("%s: default provider assumes %v, pinned to %v; want no role, pinned to %s", name, roles, pinned, a.ID)
						}
					case "shared":
						want := ci.RoleARN(awsenv.PartitionOf(f.Cfg.Region), shared.ID, ci.PeeringRole(f.Cfg, name, c.mode == ci.Apply))
						if !slices.Equal(roles, []string{want}) || len(pinned) != 1 || pinned[0] != shared.ID {
							t.Errorf("%s: shared provider assumes %v, want only %s", name, roles, want)
						}
					}
				}
				if be := s.Terraform["backend"].(map[string]any)["s3"].(map[string]any); be["assume_role"] != nil {
					t.Errorf("%s: the backend assumes %v in CI", name, be["assume_role"])
				}
				boot := readStack(t, out, "bootstrap-"+name)
				if p := boot.Provider["aws"][0]; len(tfjson.Blocks(p["assume_role"])) != 1 {
					t.Errorf("bootstrap-%s: want deploy_role assumed as for people, got %v", name, p["assume_role"])
				}
			}
		})
	}
}

// iamDoc is an IAM document inside a synthesized resource, for editing.
type iamDoc struct {
	Version   string           `json:"Version"`
	Statement []map[string]any `json:"Statement"`
}

// editPolicy rewrites the policy attribute of the one resource of a type
// whose JSON contains every fragment.
func (d stackDocs) editPolicy(t *testing.T, stack, typ, attr string, fn func(*iamDoc), fragments ...string) {
	t.Helper()
	names := d.where(stack, typ, fragments...)
	if len(names) != 1 {
		t.Fatalf("%s: %d %s contain %q, want 1", stack, len(names), typ, fragments)
	}
	r := d.of(stack, typ)[names[0]].(map[string]any)
	var doc iamDoc
	if err := json.Unmarshal([]byte(r[attr].(string)), &doc); err != nil {
		t.Fatal(err)
	}
	fn(&doc)
	b, _ := json.Marshal(doc)
	r[attr] = string(b)
}

// dropSid removes a statement by its Sid; the Sid must exist.
func dropSid(t *testing.T, sid string) func(*iamDoc) {
	return func(doc *iamDoc) {
		t.Helper()
		n := len(doc.Statement)
		doc.Statement = slices.DeleteFunc(doc.Statement, func(s map[string]any) bool { return s["Sid"] == sid })
		if len(doc.Statement) == n {
			t.Fatalf("no statement %s", sid)
		}
	}
}

// access proves the edited stacks; question, if set, keeps only the
// questions that start with it.
func (d stackDocs) access(t *testing.T, cfg *config.Config, question string) []*access.Question {
	t.Helper()
	s, err := access.Parse(d.raw(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	o := access.Options{Mode: ci.Human}
	if question != "" {
		o.Only = func(q *access.Question) bool { return strings.HasPrefix(q.Name, question) }
	}
	qs, err := access.Prove(s, cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	return qs
}

// TestIAMProofIsNoRubberStamp breaks one policy at a time in the example's
// synthesized stacks, at least two per engine feature the proof relies on
// (trust policies with OIDC subjects and MFA, KMS key policies, bucket
// policies' denies and grants, the plan role's identity denies), and
// requires the engine to fail the named question, naming the policy that
// decided.
func TestIAMProofIsNoRubberStamp(t *testing.T) {
	f := fixtureConfig(t, exampleFixture)
	out := synthOf(t, f)
	cases := []struct {
		feature, name string
		breakIt       func(t *testing.T, d stackDocs)
		question      string
		decidedBy     string // text the failing question's detail must contain
	}{
		{"trust policy", "a cross-account role that does not require MFA", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "dev", "aws_iam_role", "assume_role_policy", func(doc *iamDoc) {
				delete(doc.Statement[0], "Condition")
			}, `"name":"allow-full-access"`)
		}, "a role of security without MFA (github-apply) assumes allow-full-access in dev", "trust policy of allow-full-access (dev)#AssumeWithMFA"},
		{"trust policy", "an apply role that trusts any subject of the repository", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "prod", "aws_iam_role", "assume_role_policy", func(doc *iamDoc) {
				c := doc.Statement[0]["Condition"].(map[string]any)
				eq := c["StringEquals"].(map[string]any)
				delete(eq, "token.actions.githubusercontent.com:sub")
				c["StringLike"] = map[string]any{"token.actions.githubusercontent.com:sub": []string{"repo:acme/landing-zone:*"}}
			}, `"name":"github-apply"`)
		}, "prod: a pull request assumes github-apply", "trust policy of github-apply (prod)#1"},
		{"trust policy", "a prod deploy role that trusts the main branch", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "prod", "aws_iam_role", "assume_role_policy", func(doc *iamDoc) {
				doc.Statement[0]["Condition"].(map[string]any)["StringEquals"].(map[string]any)["token.actions.githubusercontent.com:sub"] = []string{"repo:acme/api:ref:refs/heads/main"}
			}, `"name":"github-deploy-api"`)
		}, "prod: acme/api's main branch outside the prod environment assumes github-deploy-api", "trust policy of github-deploy-api (prod)#1"},
		{"KMS key policy", "a PKI key that does not let the security account decrypt", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "shared-services", "aws_kms_key", "policy", dropSid(t, "SecurityUsersDecryptProfiles"), "SecurityUsersDecryptProfiles")
		}, "bob downloads their own VPN profile with MFA", "kms:Decrypt"},
		{"KMS key policy", "a state key that delegates to another account, not its own", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "bootstrap-dev", "aws_kms_key", "policy", func(doc *iamDoc) {
				doc.Statement[0]["Principal"] = map[string]any{"AWS": []string{"arn:aws:iam::555555555555:root"}}
			}, "AccountAdministers")
		}, "CI plan dev: read state acme-dev-tfstate-444444444444/dev/terraform.tfstate with the state key", "key policy of alias/acme-dev-tfstate"},
		{"KMS key policy", "a log archive key without CloudTrail's grant", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "logs", "aws_kms_key", "policy", dropSid(t, "CloudTrailEncrypt"), "CloudTrailEncrypt")
		}, "CloudTrail of dev delivers into acme-logs-cloudtrail-111111111111/AWSLogs/444444444444/", "key policy of alias/acme-logs-log-archive"},
		{"bucket policy deny", "the PKI deny removed", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "shared-services", "aws_s3_bucket_policy", "policy", dropSid(t, "DenyPKIButServer"), "DenyPKIButServer")
		}, "shared-services github-apply reads the VPN PKI (pki/", "AdministratorAccess"},
		{"bucket policy deny", "the deny of uploads without the PKI key removed", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "shared-services", "aws_s3_bucket_policy", "policy", dropSid(t, "DenyWritesWithoutPKIKey"), "DenyWritesWithoutPKIKey")
		}, "the VPN server uploads a profile with SSE-S3", "PublishProfiles"},
		{"bucket policy deny", "the profile deny for everyone but the security account's users removed", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "shared-services", "aws_s3_bucket_policy", "policy", dropSid(t, "DenyProfilesButSecurityUsers"), "DenyProfilesButSecurityUsers")
		}, "shared-services allow-full-access reads a VPN profile", "AdministratorAccess"},
		{"bucket policy deny", "the archive's Object Lock deny removed", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "logs", "aws_s3_bucket_policy", "policy", dropSid(t, "ProtectObjectLock"), "ProtectObjectLock", "CloudTrailWrite")
		}, "logs allow-full-access changes the Object Lock configuration of acme-logs-cloudtrail-111111111111", "AdministratorAccess"},
		{"managed policy", "a support role without AWSSupportAccess", func(t *testing.T, d stackDocs) {
			d.remove(t, "dev", "aws_iam_role_policy_attachment", "AWSSupportAccess")
		}, "a member of support assumes allow-support in dev with MFA and opens an AWS Support case", "support:CreateCase"},
		{"bucket policy grant", "a trail write grant widened to every account's prefix", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "logs", "aws_s3_bucket_policy", "policy", func(doc *iamDoc) {
				for _, s := range doc.Statement {
					if s["Sid"] == "CloudTrailWrite444444444444" {
						s["Resource"] = []string{"arn:aws:s3:::acme-logs-cloudtrail-111111111111/AWSLogs/*"}
						return
					}
				}
				t.Fatal("no CloudTrailWrite444444444444")
			}, "CloudTrailWrite444444444444")
		}, "CloudTrail of dev writes under another account's prefix (555555555555)", "#CloudTrailWrite444444444444"},
		{"identity grant", "a plan role whose lock file grant covers the whole state bucket", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "dev", "aws_iam_role_policy", "policy", func(doc *iamDoc) {
				for _, s := range doc.Statement {
					if s["Sid"] == "TakeLockFile" {
						s["Resource"] = []string{"arn:aws:s3:::acme-dev-tfstate-444444444444/*"}
						return
					}
				}
				t.Fatal("no TakeLockFile")
			}, `"name":"github-plan"`)
		}, "CI plan dev: write state", "#TakeLockFile"},
		{"identity grant", "a plan role without the lock file grant", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "dev", "aws_iam_role_policy", "policy", dropSid(t, "TakeLockFile"), `"name":"github-plan"`)
		}, "CI plan dev: take and release the S3 lock file", "s3:PutObject"},
		{"identity deny", "a plan role that can read an object", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "dev", "aws_iam_role_policy", "policy", dropSid(t, "DenyObjectReadsButState"), `"name":"github-plan"`)
		}, "dev github-plan reads objects in acme-dev-alb-logs-444444444444", "AWS managed ReadOnlyAccess"},
		{"identity deny", "a plan role that can read log events", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "dev", "aws_iam_role_policy", "policy", dropSid(t, "DenyDataReads"), `"name":"github-plan"`)
		}, "dev github-plan reads log events of its", "AWS managed ReadOnlyAccess"},
		{"group policy", "a group named in ecs.exec_groups without its assume grant", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "security", "aws_iam_group_policy", "policy", dropSid(t, stacks.ExecAssumeSid), stacks.ExecAssumeSid, "group-developers_")
		}, "a member of developers assumes dev's ECS Exec role with MFA and runs ECS Exec in dev's containers", "policy assume-roles of group developers"},
		{"identity deny", "a developer role without the ECS Exec deny", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "dev", "aws_iam_role_policy", "policy", dropSid(t, "DenyECSExecButExecRole"), `"name":"deny"`, "allow-dev")
		}, "allow-dev in dev runs ECS Exec in dev's containers", "AWS managed PowerUserAccess"},
		{"identity grant", "a task role without ECS Exec's channels", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "dev", "aws_iam_role_policy", "policy", dropSid(t, "ExecChannels"), `"name":"app"`, "svc-api_task-role")
		}, "dev api: the task role opens ECS Exec's channels and writes the session log", "ssmmessages:CreateControlChannel"},
	}
	clean := readDocs(t, out).access(t, f.Cfg, "")
	if fails := access.FailuresOf(clean); len(fails) > 0 {
		t.Fatalf("the unbroken example must pass first: %v", fails)
	}
	for _, c := range cases {
		if !slices.ContainsFunc(clean, func(q *access.Question) bool { return strings.HasPrefix(q.Name, c.question) }) {
			t.Errorf("the proof asks no question %q", c.question)
		}
	}
	for _, c := range cases {
		t.Run(c.feature+": "+c.name, func(t *testing.T) {
			d := readDocs(t, out)
			c.breakIt(t, d)
			var failed []string
			for _, q := range access.FailuresOf(d.access(t, f.Cfg, c.question)) {
				failed = append(failed, q.Name)
				if strings.HasPrefix(q.Name, c.question) {
					if !strings.Contains(q.Detail(), c.decidedBy) {
						t.Errorf("%s fails, but the detail does not name %q: %s", q.Name, c.decidedBy, q.Detail())
					}
					t.Logf("fails as it must: %s: %s", q.Name, q.Detail())
					return
				}
			}
			t.Errorf("breaking %s did not fail %q; failures: %v", c.name, c.question, failed)
		})
	}
}
