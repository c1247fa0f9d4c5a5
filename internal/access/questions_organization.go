package access

import (
	"maps"
	"slices"

	"github.com/acme/landing-zone/constructs/audit"
	"github.com/acme/landing-zone/constructs/crossaccount"
	"github.com/acme/landing-zone/constructs/logarchive"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/ci"
	"github.com/acme/landing-zone/internal/config"
)

// outsideRegions are regions a question may work in that are not the
// config's; the first that is not the config's region is used.
var outsideRegions = []string{"sa-east-1", "ap-southeast-2"}

// organizationQuestions, with a management account: under the SCPs, an
// app account's administrator (its full-access role, and its deploy_role)
// cannot stop its trail, leave the organization, work in a region outside
// the config's or take over the roles the landing zone deploys through,
// and the logs account's administrator cannot delete or reconfigure the
// log archive; the deploy roles (deploy_role and github-apply) still do
// their job: update the trail, put the Config recorder, create a VPC in
// the home region, create and change service roles, configure the
// archive. Every request of a member account's principal is evaluated
// under the SCPs (organization.go); these are the questions about them.
func (p *prover) organizationQuestions() {
	mgmt, _ := p.cfg.Management()
	if mgmt == "" || len(p.u.SCPs) == 0 {
		return
	}
	region := p.cfg.Region
	outside := outsideRegions[0]
	if outside == region {
		outside = outsideRegions[1]
	}
	inRegion := map[string]any{"aws:RequestedRegion": region}
	q := func(stack, name string, want bool, steps ...*Step) *Question {
		return p.add(&Question{Group: "organization", Stacks: []string{mgmt, stack}, Name: name, Want: want, Steps: steps})
	}
	for _, stack := range p.apps() {
		acct := p.account(stack)
		env := awsenv.New(acct.ID, region)
		trail := audit.TrailARN(env, p.cfg.NamePrefix+"-"+stack)
		apply := ci.RoleARN(awsenv.Commercial, acct.ID, ci.ApplyRole)
		deploy := p.session(acct.DeployRoleARN(awsenv.Commercial), false)
		deploy.Label = stack + " deploy_role " + acct.DeployRole
		if r := p.role(crossaccount.RoleARN(awsenv.Commercial, acct.ID, config.AccessFullAccess)); r != nil {
			admin := p.session(r.ARN, true)
			q(stack, admin.Label+" stops its trail", false, p.step(admin, "cloudtrail:StopLogging", trail, inRegion))
			q(stack, admin.Label+" deletes its trail", false, p.step(admin, "cloudtrail:DeleteTrail", trail, inRegion))
			q(stack, admin.Label+" leaves the organization", false, p.step(admin, "organizations:LeaveOrganization", "*", nil))
			q(stack, admin.Label+" creates a VPC in "+outside+", outside the regions in use", false,
				p.step(admin, "ec2:CreateVpc", awsenv.New(acct.ID, outside).ARN("ec2", "vpc/*"), map[string]any{"aws:RequestedRegion": outside}))
			q(stack, admin.Label+" rewrites the trust policy of github-apply", false,
				p.step(admin, "iam:UpdateAssumeRolePolicy", apply, nil))
			q(stack, admin.Label+" still creates a VPC in "+region+" under the SCPs", true,
				p.step(admin, "ec2:CreateVpc", env.ARN("ec2", "vpc/*"), inRegion))
		}
		q(stack, deploy.Label+" stops its trail", false, p.step(deploy, "cloudtrail:StopLogging", trail, inRegion))
		for _, who := range []*Principal{deploy, p.session(apply, false)} {
			q(stack, who.Label+" still deploys the baseline under the SCPs (trail, event selectors, Config recorder and delivery)", true,
				p.step(who, "cloudtrail:CreateTrail", trail, inRegion),
				p.step(who, "cloudtrail:UpdateTrail", trail, inRegion),
				p.step(who, "cloudtrail:PutEventSelectors", trail, inRegion),
				p.step(who, "cloudtrail:StartLogging", trail, inRegion),
				p.step(who, "config:PutConfigurationRecorder", "*", inRegion),
				p.step(who, "config:PutDeliveryChannel", "*", inRegion),
				p.step(who, "config:StartConfigurationRecorder", "*", inRegion))
			q(stack, who.Label+" still creates a VPC in "+region+" and service roles under the SCPs", true,
				p.step(who, "ec2:CreateVpc", env.ARN("ec2", "vpc/*"), inRegion),
				p.step(who, "iam:CreateRole", awsenv.Commercial.Role(acct.ID, p.cfg.NamePrefix+"-"+stack+"-service"), nil),
				p.step(who, "iam:PutRolePolicy", awsenv.Commercial.Role(acct.ID, p.cfg.NamePrefix+"-"+stack+"-service"), nil),
				p.step(who, "iam:UpdateAssumeRolePolicy", apply, nil))
		}
	}
	p.archiveQuestions(q)
}

// archiveQuestions: the logs account's administrator cannot delete the
// archive or rewrite its bucket policy; its deploy_role still configures
// it.
func (p *prover) archiveQuestions(q func(stack, name string, want bool, steps ...*Step) *Question) {
	logs := p.account(p.logs)
	names := logarchive.NamesFor(p.cfg.NamePrefix, p.logs, awsenv.New(logs.ID, p.cfg.Region))
	bucket := awsenv.Commercial.S3(names.TrailBucket)
	object := awsenv.Commercial.S3(names.TrailBucket + "/AWSLogs/" + logs.ID + "/CloudTrail/" + p.cfg.Region + "/2025/01/01/log.json.gz")
	if r := p.role(crossaccount.RoleARN(awsenv.Commercial, logs.ID, config.AccessFullAccess)); r != nil {
		admin := p.session(r.ARN, true)
		q(p.logs, admin.Label+" deletes the CloudTrail archive bucket "+names.TrailBucket, false, p.step(admin, "s3:DeleteBucket", bucket, nil))
		q(p.logs, admin.Label+" deletes an archived trail log", false, p.step(admin, "s3:DeleteObject", object, nil))
		q(p.logs, admin.Label+" replaces the archive's bucket policy", false, p.step(admin, "s3:PutBucketPolicy", bucket, nil))
	}
	deploy := p.session(logs.DeployRoleARN(awsenv.Commercial), false)
	deploy.Label = p.logs + " deploy_role " + logs.DeployRole
	q(p.logs, deploy.Label+" still configures the archive's bucket policy and lifecycle under the SCPs", true,
		p.step(deploy, "s3:PutBucketPolicy", bucket, nil),
		p.step(deploy, "s3:PutLifecycleConfiguration", bucket, nil))
	q(p.logs, deploy.Label+" deletes the CloudTrail archive bucket", false, p.step(deploy, "s3:DeleteBucket", bucket, nil))
}

// managementQuestions, with a management account: its support role (CIS
// 1.17) is assumed by the account's own people with MFA, never without it,
// never from the security account (whose administrators must not reach the
// organization) nor from outside, and opens AWS Support cases but changes
// nothing else.
func (p *prover) managementQuestions() {
	mgmt, m := p.cfg.Management()
	if m == nil {
		return
	}
	stack := config.ManagementBaselineStack(mgmt)
	name := crossaccount.SupportRoleName(p.cfg.NamePrefix + "-" + mgmt)
	arn := awsenv.Commercial.Role(m.ID, name)
	q := func(name string, want bool, steps ...*Step) {
		p.add(&Question{Group: "management", Stacks: []string{stack, p.security}, Name: name, Want: want, Steps: steps})
	}
	for _, mfa := range []bool{true, false} {
		admin := p.session(m.DeployRoleARN(awsenv.Commercial), mfa)
		admin.Label = mgmt + " deploy_role " + m.DeployRole + map[bool]string{true: " with MFA", false: " without MFA"}[mfa]
		q(admin.Label+" assumes "+name, mfa, p.step(admin, "sts:AssumeRole", arn, nil))
	}
	for _, g := range slices.Sorted(maps.Keys(p.cfg.Baseline.Groups)) {
		q("a member of "+g+" (security account) assumes "+name+" with MFA", false,
			p.step(p.user(g+"-member", []string{g}, true), "sts:AssumeRole", arn, nil))
	}
	q(p.outsider().Label+" assumes "+name, false, p.step(p.outsider(), "sts:AssumeRole", arn, nil))
	support := p.session(arn, true)
	q(name+" opens an AWS Support case", true, p.step(support, "support:CreateCase", "*", nil))
	q(name+" creates an IAM user", false, p.step(support, "iam:CreateUser", "arn:aws:iam::"+m.ID+":user/x", nil))
	q(name+" stops the management account's trail", false,
		p.step(support, "cloudtrail:StopLogging", audit.TrailARN(awsenv.New(m.ID, p.cfg.Region), p.cfg.NamePrefix+"-"+mgmt), nil))
}
