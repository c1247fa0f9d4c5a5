package access

import (
	"fmt"
	"strings"

	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/ci"
	"github.com/acme/landing-zone/internal/config"
)

// Issuer is GitHub Actions' OIDC token issuer; sub and aud are the token
// claims the roles' trust policies test.
const (
	Issuer   = "token.actions.githubusercontent.com"
	subKey   = Issuer + ":sub"
	audKey   = Issuer + ":aud"
	audience = "sts.amazonaws.com"
)

type prover struct {
	u         *Universe
	cfg       *config.Config
	o         Options
	questions []*Question
	// Account names of the three singleton accounts.
	logs, security, shared string
	// outside is an account ID outside the config; management stands for
	// the organization's management account (not in the config either).
	outside, management string
}

func newProver(u *Universe, cfg *config.Config, o Options) *prover {
	p := &prover{u: u, cfg: cfg, o: o}
	p.logs, _ = cfg.AccountOfKind(config.KindLogs)
	p.security, _ = cfg.AccountOfKind(config.KindSecurity)
	p.shared, _ = cfg.AccountOfKind(config.KindShared)
	used := map[string]bool{}
	for _, a := range cfg.Accounts {
		used[a.ID] = true
	}
	var free []string
	for n := 999999999999; len(free) < 2; n-- {
		if id := fmt.Sprint(n); !used[id] {
			free = append(free, id)
		}
	}
	p.outside, p.management = free[0], free[1]
	if _, m := cfg.Management(); m != nil {
		p.management = m.ID
	}
	return p
}

// ask derives every question from the config.
func (p *prover) ask() {
	for _, prob := range p.u.problems {
		p.add(&Question{Group: "policies", Name: "every policy of the stacks reads", Want: true, Problem: prob})
	}
	p.ciQuestions()
	p.peopleQuestions()
	p.serviceQuestions()
	p.execQuestions()
	p.vpnQuestions()
	p.logQuestions()
	p.findingsQuestions()
	p.backupQuestions()
	p.planReadQuestions()
	p.outsiderQuestions()
	p.organizationQuestions()
	p.managementQuestions()
}

func (p *prover) add(q *Question) *Question {
	p.questions = append(p.questions, q)
	return q
}

func (p *prover) account(name string) *config.Account { return p.cfg.Accounts[name] }

// accountStacks lists the account stacks in config order.
func (p *prover) accountStacks() []string {
	var out []string
	for _, n := range p.cfg.MemberAccountNames() { // the management stack has no roles to ask about
		if p.u.stacks.Stack(n) != nil {
			out = append(out, n)
		}
	}
	return out
}

func (p *prover) apps() []string {
	var out []string
	for _, n := range p.accountStacks() {
		if p.account(n).Kind == config.KindApp {
			out = append(out, n)
		}
	}
	return out
}

// accountName names an account ID for people.
func (p *prover) accountName(id string) string {
	for n, a := range p.cfg.Accounts {
		if a.ID == id {
			return n
		}
	}
	switch id {
	case p.outside:
		return "outside the organization"
	case p.management:
		return "management account"
	}
	return id
}

// session is a session of a role: made by the stacks, or a known role AWS
// makes, or a deploy_role the proof assumes administers its account.
func (p *prover) session(roleARN string, mfa bool) *Principal {
	acct := strings.Split(roleARN, ":")[4]
	name := roleARN[strings.LastIndex(roleARN, "/")+1:]
	pr := &Principal{
		ARN: roleARN, AccountID: acct, Label: p.accountName(acct) + " " + name,
		Session: "arn:aws:sts::" + acct + ":assumed-role/" + name + "/landing-zone",
		Context: map[string]any{"aws:PrincipalArn": roleARN, "aws:PrincipalAccount": acct},
	}
	if mfa {
		pr.Context["aws:MultiFactorAuthPresent"] = "true"
	}
	if r := p.role(roleARN); r != nil {
		pr.Policies = r.Policies
	}
	return pr
}

// role returns a role of the stacks, or a model of a deploy_role the
// stacks do not make: OrganizationAccountAccessRole as AWS Organizations
// makes it (AdministratorAccess, trusting the management account), any
// other as an administrator of its account whose trust is unknown.
func (p *prover) role(arn string) *Role {
	if r := p.u.Roles[arn]; r != nil {
		return r
	}
	for _, name := range p.cfg.AccountNames() {
		a := p.account(name)
		if a.DeployRoleARN(awsenv.Commercial) != arn {
			continue
		}
		admin, _ := p.u.Managed("arn:aws:iam::aws:policy/AdministratorAccess")
		r := &Role{ARN: arn, AccountID: a.ID, Name: a.DeployRole, Policies: []string{admin}}
		if strings.HasSuffix(arn, ":role/OrganizationAccountAccessRole") {
			r.Where = "made by AWS Organizations"
			r.Trust = "trust policy of OrganizationAccountAccessRole (" + name + ", as AWS Organizations makes it)"
			p.u.Policies[r.Trust] = map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
				"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": map[string]any{"AWS": "arn:aws:iam::" + p.management + ":root"},
			}}}
			r.Assumed = "AdministratorAccess, trusting the organization's management account"
		} else {
			r.Where = "not made by the landing zone"
			r.Assumed = "AdministratorAccess of its account; its trust policy is unknown"
		}
		p.u.Roles[arn] = r
		return r
	}
	return nil
}

// user is an IAM user of the security account in the given groups (and
// all-users, as every user is).
func (p *prover) user(name string, groups []string, mfa bool) *Principal {
	sec := p.account(p.security).ID
	arn := "arn:aws:iam::" + sec + ":user/" + name
	pr := &Principal{ARN: arn, AccountID: sec, Label: p.security + " user " + name,
		Context: map[string]any{"aws:PrincipalArn": arn, "aws:PrincipalAccount": sec, "aws:username": name,
			"aws:MultiFactorAuthPresent": fmt.Sprint(mfa)}}
	for _, g := range append([]string{config.AllUsersGroup}, groups...) {
		pr.Policies = append(pr.Policies, p.u.Groups[g]...)
	}
	if !mfa {
		pr.Label += " without MFA"
	}
	return pr
}

// service is an AWS service principal acting for an account or resource.
func (p *prover) service(name string, ctx map[string]any) *Principal {
	return &Principal{ARN: name, Label: name, Context: ctx}
}

// oidc is GitHub's OIDC provider of an account, presenting a token.
func (p *prover) oidc(accountID string) *Principal {
	arn := "arn:aws:iam::" + accountID + ":oidc-provider/" + Issuer
	return &Principal{ARN: arn, AccountID: accountID, Label: "GitHub token"}
}

// outsider is an administrator of an account outside the organization,
// signed in with MFA.
func (p *prover) outsider() *Principal {
	pr := p.session("arn:aws:iam::"+p.outside+":role/Admin", true)
	admin, _ := p.u.Managed("arn:aws:iam::aws:policy/AdministratorAccess")
	pr.Policies = []string{admin}
	pr.Label = "an administrator outside the organization"
	return pr
}

// step makes a request, finding the resource's policy and account.
func (p *prover) step(pr *Principal, action, resource string, ctx map[string]any) *Step {
	s := &Step{Principal: pr, Action: action, Resource: resource, Context: ctx}
	parts := strings.Split(resource, ":")
	if len(parts) > 4 && parts[4] != "" {
		s.ResourceAccount = parts[4]
	}
	switch {
	case strings.HasPrefix(resource, "arn:aws:s3:::"):
		bucket := strings.SplitN(strings.TrimPrefix(resource, "arn:aws:s3:::"), "/", 2)[0]
		s.ResourcePolicy = p.u.ResourcePolicy["arn:aws:s3:::"+bucket]
		if b := p.u.Buckets[bucket]; b != nil {
			s.ResourceAccount = b.AccountID
		}
	case strings.HasPrefix(resource, "arn:aws:kms:") && strings.Contains(resource, ":key/"):
		s.ResourcePolicy = p.u.ResourcePolicy[resource]
		if k := p.u.Keys[resource]; k != nil {
			if _, set := ctx["kms:ResourceAliases"]; !set {
				s.Context = mergeContext(ctx, map[string]any{"kms:ResourceAliases": k.Aliases})
			}
		} else if s.ResourcePolicy == "" {
			s.problem = "no key " + resource + " in the stacks"
		}
	case strings.HasPrefix(action, "sts:AssumeRole"):
		s.ResourcePolicy = p.u.ResourcePolicy[resource]
		if r := p.role(resource); r == nil {
			s.absent = "no role " + resource + " exists"
		} else if r.Trust == "" {
			s.problem = resource + " is " + r.Where + ": its trust policy is unknown"
		} else {
			s.ResourcePolicy = r.Trust
		}
	default:
		s.ResourcePolicy = p.u.ResourcePolicy[resource]
	}
	if s.ResourceAccount == "" {
		s.ResourceAccount = pr.AccountID
	}
	return s
}

// steps makes one request per action on the same resource.
func (p *prover) steps(pr *Principal, actions []string, resource string, ctx map[string]any) []*Step {
	var out []*Step
	for _, a := range actions {
		out = append(out, p.step(pr, a, resource, ctx))
	}
	return out
}

// viaS3 is the context of S3 calling KMS for an object of a bucket (with
// S3 Bucket Keys the encryption context is the bucket's ARN).
func viaS3(region, bucket string) map[string]any {
	return map[string]any{"kms:ViaService": "s3." + region + ".amazonaws.com", "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::" + bucket}
}

// modes lists the CI modes (people are asked about separately).
var ciModes = []ci.Mode{ci.Plan, ci.Apply}
