package access

import (
	"maps"
	"slices"
	"strings"

	"github.com/acme/landing-zone/constructs/githuboidc"
	"github.com/acme/landing-zone/constructs/statebackend"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/ci"
	"github.com/acme/landing-zone/internal/config"
)

// chain returns who a stack's providers and backend run as in a mode: as
// synthesized (the synth's own mode, or every mode of an older synth), or
// as internal/ci says.
func (p *prover) chain(stack string, m ci.Mode) (ci.Chain, bool) {
	fromJSON := p.o.ChainsFromJSON || (m == p.o.Mode && !p.o.Offline)
	want := ci.ChainOf(p.cfg, stack, m)
	if !fromJSON {
		return want, false
	}
	st := p.u.stacks.Stack(stack)
	got := ci.Chain{Stack: stack, Start: want.Start}
	for _, pr := range st.Providers {
		var roles []string
		for _, b := range blocks(pr["assume_role"]) {
			roles = append(roles, str(b["role_arn"]))
		}
		switch str(pr["alias"]) {
		case "":
			got.Default = roles
		case "shared":
			got.Shared = roles
		}
	}
	if b := blocks(st.Backend["assume_role"]); len(b) > 0 {
		got.Backend = []string{str(b[0]["role_arn"])}
	}
	return got, true
}

// ciQuestions: every CI job can run its stack end to end, and nothing
// else can assume the CI roles.
func (p *prover) ciQuestions() {
	for _, stack := range p.accountStacks() {
		p.chainFact(stack)
		for _, m := range ciModes {
			p.jobQuestions(stack, m)
		}
		p.humanQuestions(stack)
		p.subjectQuestions(stack)
	}
	p.appRepoQuestions()
}

// chainFact: the synthesized stack's providers and backend assume what
// internal/ci says for the synth's mode (whose chain the questions then
// read from the stack), so that the other modes' chains, taken from
// internal/ci, are what the stacks would emit too.
func (p *prover) chainFact(stack string) {
	if p.o.Offline || p.o.ChainsFromJSON {
		return
	}
	got, _ := p.chain(stack, p.o.Mode)
	want := ci.ChainOf(p.cfg, stack, p.o.Mode)
	f := p.add(&Question{Group: "CI", Stacks: []string{stack}, Want: true,
		Name: p.o.Mode.String() + " " + stack + ": the providers and backend assume what internal/ci says"})
	if !slices.Equal(got.Default, want.Default) || !slices.Equal(got.Backend, want.Backend) || !slices.Equal(got.Shared, want.Shared) {
		f.Problem = "the stack assumes " + chainText(got) + "; ci.ChainOf says " + chainText(want)
	}
}

func chainText(c ci.Chain) string {
	return "default [" + strings.Join(c.Default, " ") + "], backend [" + strings.Join(c.Backend, " ") + "], shared [" + strings.Join(c.Shared, " ") + "]"
}

// jobQuestions: a CI job of one stack signs in for its subject, assumes
// each role its providers and backend assume, reads and locks state (and
// writes it, for apply only), and does what the shared provider needs.
func (p *prover) jobQuestions(stack string, m ci.Mode) {
	acct := p.account(stack)
	c, _ := p.chain(stack, m)
	job := m.String() + " " + stack
	stacks := []string{stack}
	if acct.Kind == config.KindApp {
		stacks = append(stacks, p.shared)
	}
	q := func(name string, want bool, steps ...*Step) *Question {
		return p.add(&Question{Group: "CI", Stacks: stacks, Name: job + ": " + name, Want: want, Steps: steps})
	}
	subject := ci.PlanSubject(p.cfg.SourceRepo)
	subject = strings.Replace(subject, "*", "1", 1)
	if m == ci.Apply {
		subject = ci.ApplySubject(p.cfg.SourceRepo, stack)
	}
	start := p.session(c.Start, false)
	q("sign in as "+m.OIDCRole()+" with the token of "+subject, true,
		p.step(p.oidc(acct.ID), "sts:AssumeRoleWithWebIdentity", c.Start, map[string]any{subKey: subject, audKey: audience}))

	// Every hop of every provider and of the backend, once.
	asked := map[string]bool{}
	final := func(label string, roles []string) *Principal {
		cur := start
		for _, r := range roles {
			next := p.session(r, false)
			if k := cur.ARN + ">" + r; !asked[k] {
				asked[k] = true
				q(label+": assume "+next.Label+" as "+cur.Label, true, p.step(cur, "sts:AssumeRole", r, nil))
			}
			cur = next
		}
		return cur
	}
	final("provider aws", c.Default)
	backend := final("backend", c.Backend)
	p.stateQuestions(q, stack, backend, m == ci.Apply)
	if acct.Kind == config.KindApp {
		shared := final("provider aws.shared", c.Shared)
		p.peeringQuestions(q, stack, shared, m == ci.Apply)
	}
}

// stateQuestions: the backend's principal reads the state object with the
// state key and takes the lock; it writes state only when it applies.
func (p *prover) stateQuestions(q func(string, bool, ...*Step) *Question, stack string, pr *Principal, writes bool) {
	acct := p.account(stack)
	n := statebackend.NamesFor(p.cfg.NamePrefix, stack, acct.ID)
	bucket := "arn:aws:s3:::" + n.Bucket
	object := bucket + "/" + stack + "/terraform.tfstate"
	table := "arn:aws:dynamodb:" + p.cfg.Region + ":" + acct.ID + ":table/" + n.Table
	key := p.u.KeyByAlias(acct.ID, "alias/"+n.KeyAlias)
	if key == nil {
		q("read and lock state", true).Problem = "no key alias/" + n.KeyAlias + " in bootstrap-" + stack
		return
	}
	q("read state "+object[len("arn:aws:s3:::"):]+" with the state key", true,
		p.step(pr, "s3:ListBucket", bucket, nil),
		p.step(pr, "s3:GetObject", object, nil),
		p.step(pr, "kms:Decrypt", key.ARN, viaS3(p.cfg.Region, n.Bucket)))
	sse := map[string]any{
		"s3:x-amz-server-side-encryption":                "aws:kms",
		"s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:" + p.cfg.Region + ":" + acct.ID + ":alias/" + n.KeyAlias,
	}
	if p.cfg.State.LocksWithDynamoDB() {
		q("take and release the state lock in "+n.Table, true, p.steps(pr, []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"}, table, nil)...)
	}
	if p.cfg.State.LocksWithS3() {
		// use_lockfile: a conditional PUT of the lock file, encrypted as
		// the state is; unlocking reads it (to match the lock ID) and
		// deletes it.
		lock := object + githuboidc.LockFileSuffix
		q("take and release the S3 lock file "+lock[len("arn:aws:s3:::"):]+" with the state key", true,
			p.step(pr, "s3:PutObject", lock, sse),
			p.step(pr, "kms:GenerateDataKey", key.ARN, viaS3(p.cfg.Region, n.Bucket)),
			p.step(pr, "s3:GetObject", lock, nil),
			p.step(pr, "kms:Decrypt", key.ARN, viaS3(p.cfg.Region, n.Bucket)),
			p.step(pr, "s3:DeleteObject", lock, nil))
	}
	put := p.step(pr, "s3:PutObject", object, sse)
	if writes {
		q("write state with the state key", true, put, p.step(pr, "kms:GenerateDataKey", key.ARN, viaS3(p.cfg.Region, n.Bucket)))
		return
	}
	q("write state", false, put)
	q("delete state", false, p.step(pr, "s3:DeleteObject", object, nil), p.step(pr, "s3:DeleteObjectVersion", object, nil)).AnyOf = true
	// The lock grant is its own stack's lock file only: not the bootstrap
	// stack's state or lock (CI never runs it), nor any other object.
	boot := bucket + "/bootstrap-" + stack + "/terraform.tfstate"
	var other []*Step
	for _, o := range []string{boot, boot + githuboidc.LockFileSuffix, bucket + "/" + stack + "/other.tflock", bucket + "/" + stack + ".tflock"} {
		other = append(other, p.step(pr, "s3:PutObject", o, sse), p.step(pr, "s3:DeleteObject", o, nil))
	}
	q("write or delete any other object in "+n.Bucket, false, other...).AnyOf = true
}

// peering is what an app stack's shared provider touches in shared-services.
type peering struct {
	mgmtVPC, appVPC, routeTable, connection, zone string
	problem                                       string
}

func (p *prover) peeringOf(app string) peering {
	var out peering
	sh, st := p.u.stacks.Stack(p.shared), p.u.stacks.Stack(app)
	if sh == nil || st == nil {
		out.problem = "no " + p.shared + " or " + app + " stack"
		return out
	}
	region := p.cfg.Region
	vpcARN := func(s *Stack, want string) string {
		for _, name := range slices.Sorted(maps.Keys(s.Resources["aws_vpc"])) {
			tags, _ := s.Resources["aws_vpc"][name]["tags"].(map[string]any)
			if str(tags["Name"]) == want {
				return "arn:aws:ec2:" + region + ":" + s.AccountID + ":vpc/" + s.value("aws_vpc."+name+".id")
			}
		}
		return ""
	}
	out.mgmtVPC = vpcARN(sh, p.cfg.NamePrefix+"-"+p.shared)
	out.appVPC = vpcARN(st, p.cfg.NamePrefix+"-"+app)
	for _, name := range slices.Sorted(maps.Keys(sh.Resources["aws_route_table"])) {
		out.routeTable = "arn:aws:ec2:" + region + ":" + sh.AccountID + ":route-table/" + sh.value("aws_route_table."+name+".id")
		break
	}
	for _, name := range slices.Sorted(maps.Keys(st.Resources["aws_vpc_peering_connection"])) {
		out.connection = "arn:aws:ec2:" + region + ":" + sh.AccountID + ":vpc-peering-connection/pcx-" + st.Placeholder("aws_vpc_peering_connection", name, 17)
	}
	for _, name := range slices.Sorted(maps.Keys(st.Resources["aws_route53_zone"])) {
		if len(blocks(st.Resources["aws_route53_zone"][name]["vpc"])) > 0 {
			out.zone = "arn:aws:route53:::hostedzone/Z" + strings.ToUpper(st.Placeholder("aws_route53_zone", name, 20))
		}
	}
	if out.mgmtVPC == "" || out.appVPC == "" || out.routeTable == "" || out.connection == "" || out.zone == "" {
		out.problem = "the management VPC, a route table of it, " + app + "'s VPC, peering connection or private zone is missing"
	}
	return out
}

// peeringQuestions: through the shared provider, a plan describes the
// peering, routes and zone association; an apply changes them, in the
// management VPC only; neither reaches anything else in shared-services.
func (p *prover) peeringQuestions(q func(string, bool, ...*Step) *Question, app string, pr *Principal, writes bool) {
	pe := p.peeringOf(app)
	if pe.problem != "" {
		q("reach the peering in "+p.shared, true).Problem = pe.problem
		return
	}
	region := p.cfg.Region
	shared := p.account(p.shared).ID
	vpcID := pe.mgmtVPC[strings.LastIndex(pe.mgmtVPC, "/")+1:]
	q("describe the peering, routes and VPC in "+p.shared+" (provider aws.shared)", true,
		p.steps(pr, []string{"ec2:DescribeVpcs", "ec2:DescribeRouteTables", "ec2:DescribeVpcPeeringConnections"}, "*", nil)...)
	conn := map[string]any{"ec2:AccepterVpc": pe.mgmtVPC, "ec2:RequesterVpc": pe.appVPC}
	route := map[string]any{"ec2:Vpc": pe.mgmtVPC}
	zone := map[string]any{"route53:VPCs": []string{"VPCId=" + vpcID + ",VPCRegion=" + region}}
	changes := []*Step{
		p.step(pr, "ec2:AcceptVpcPeeringConnection", pe.connection, conn),
		p.step(pr, "ec2:AcceptVpcPeeringConnection", pe.mgmtVPC, nil),
		p.step(pr, "ec2:ModifyVpcPeeringConnectionOptions", pe.connection, conn),
		p.step(pr, "ec2:CreateRoute", pe.routeTable, route),
		p.step(pr, "ec2:DeleteRoute", pe.routeTable, route),
		p.step(pr, "route53:AssociateVPCWithHostedZone", pe.zone, zone),
	}
	q("accept the peering, route back and associate the private zone in "+p.shared+" (provider aws.shared)", writes, changes...).AnyOf = !writes
	if !writes {
		return
	}
	other := "arn:aws:ec2:" + region + ":" + shared + ":vpc/vpc-0other0000000000"
	q("change routes of another VPC in "+p.shared, false,
		p.step(pr, "ec2:CreateRoute", "arn:aws:ec2:"+region+":"+shared+":route-table/rtb-0other0000000000", map[string]any{"ec2:Vpc": other}))
	q("accept a peering that another account requested", false,
		p.step(pr, "ec2:AcceptVpcPeeringConnection", pe.connection, map[string]any{"ec2:AccepterVpc": pe.mgmtVPC,
			"ec2:RequesterVpc": "arn:aws:ec2:" + region + ":" + p.outside + ":vpc/vpc-0other0000000000"}))
	steps := []*Step{
		p.step(pr, "iam:CreateRole", "arn:aws:iam::"+shared+":role/anything", nil),
		p.step(pr, "ec2:RunInstances", "arn:aws:ec2:"+region+":"+shared+":instance/*", nil),
		p.step(pr, "ec2:CreateVpcPeeringConnection", pe.mgmtVPC, nil),
		p.step(pr, "ecr:PutImage", "arn:aws:ecr:"+region+":"+shared+":repository/any", nil),
	}
	if b := p.vpnBucket(); b != "" {
		steps = append(steps, p.step(pr, "s3:GetObject", "arn:aws:s3:::"+b+"/"+vpnPKIBackup, nil))
	}
	q("do anything else in "+p.shared+" (IAM, instances, other peerings, images, the VPN PKI)", false, steps...).AnyOf = true
}

// humanQuestions: a person's deploy_role session (for app stacks) goes on
// to the app's peering role for the shared provider, not to
// shared-services' own deploy_role.
func (p *prover) humanQuestions(stack string) {
	acct := p.account(stack)
	if acct.Kind != config.KindApp {
		return
	}
	c, _ := p.chain(stack, ci.Human)
	if len(c.Shared) < 2 {
		p.add(&Question{Group: "people", Stacks: []string{stack, p.shared}, Name: "human " + stack + ": the shared provider chains from deploy_role", Want: true,
			Problem: "it assumes " + strings.Join(c.Shared, ", ")})
		return
	}
	from := p.session(c.Shared[0], true)
	name := "human " + stack + ": provider aws.shared: assume " + p.session(c.Shared[len(c.Shared)-1], false).Label + " as " + from.Label
	if r := p.role(c.Shared[0]); r != nil && r.Assumed != "" {
		name += " (assumed: " + r.Assumed + ")"
	}
	prev := from
	var steps []*Step
	for _, r := range c.Shared[1:] {
		steps = append(steps, p.step(prev, "sts:AssumeRole", r, nil))
		prev = p.session(r, false)
	}
	p.add(&Question{Group: "people", Stacks: []string{stack, p.shared}, Name: name, Want: true, Steps: steps})
	if len(c.Shared) == 2 {
		p.peeringQuestions(func(n string, want bool, s ...*Step) *Question {
			return p.add(&Question{Group: "people", Stacks: []string{stack, p.shared}, Name: "human " + stack + ": " + n, Want: want, Steps: s})
		}, stack, prev, true)
	}
}

// subjectQuestions: no token but the intended subject assumes the
// landing zone's CI roles; plans never reach the write roles.
func (p *prover) subjectQuestions(stack string) {
	acct := p.account(stack)
	repo := p.cfg.SourceRepo
	apply := ci.RoleARN(awsenv.Commercial, acct.ID, ci.ApplyRole)
	plan := ci.RoleARN(awsenv.Commercial, acct.ID, ci.PlanRole)
	q := func(name string, role string, sub string) {
		p.add(&Question{Group: "CI", Stacks: []string{stack}, Want: false,
			Name:  stack + ": " + name + " assumes " + role[strings.LastIndex(role, "/")+1:],
			Steps: []*Step{p.step(p.oidc(acct.ID), "sts:AssumeRoleWithWebIdentity", role, map[string]any{subKey: sub, audKey: audience})}})
	}
	q("a pull request", apply, strings.Replace(ci.PlanSubject(repo), "*", "1", 1))
	q("a push to a feature branch", apply, "repo:"+repo+":ref:refs/heads/feature")
	q("the "+stack+" environment on a feature branch", apply, "repo:"+repo+":environment:"+stack+":ref:refs/heads/feature")
	q("another environment on main", apply, "repo:"+repo+":environment:other:ref:refs/heads/main")
	q("a tag", apply, "repo:"+repo+":ref:refs/tags/v1.0.0")
	q("a pull request of another repository", plan, "repo:"+repo+"-fork:pull_request:ref:refs/pull/1/merge")
	if acct.Kind == config.KindApp {
		pr := p.session(plan, false)
		sh := p.account(p.shared).ID
		p.add(&Question{Group: "CI", Stacks: []string{stack, p.shared}, Want: false,
			Name:  stack + ": github-plan assumes the peering write role " + ci.PeeringRole(p.cfg, stack, true),
			Steps: []*Step{p.step(pr, "sts:AssumeRole", ci.RoleARN(awsenv.Commercial, sh, ci.PeeringRole(p.cfg, stack, true)), nil)}})
		for _, other := range p.apps() {
			if other == stack {
				continue
			}
			p.add(&Question{Group: "CI", Stacks: []string{stack, p.shared}, Want: false,
				Name:  stack + ": github-apply assumes " + other + "'s peering role",
				Steps: []*Step{p.step(p.session(apply, false), "sts:AssumeRole", ci.RoleARN(awsenv.Commercial, sh, ci.PeeringRole(p.cfg, other, true)), nil)}})
		}
	}
}

// appRepoQuestions: application repositories' roles accept their
// repository's main branch (pushes, non-prod deploys) or its prod GitHub
// environment (prod deploys), and never a pull request.
func (p *prover) appRepoQuestions() {
	sharedAcct := p.account(p.shared)
	for _, name := range sharedAcct.ECR.RepositoryNames() {
		repo := sharedAcct.ECR.Repositories[name].GitHubRepo
		if repo == "" {
			continue
		}
		role := ci.RoleARN(awsenv.Commercial, sharedAcct.ID, "github-push-"+name)
		p.repoRole(p.shared, role, repo, ci.MainBranchSubject(repo))
	}
	for _, app := range p.apps() {
		a := p.account(app)
		for _, svc := range a.ServiceNames() {
			repo := p.imageRepo(a.Services[svc].Image)
			if repo == "" {
				continue
			}
			role := ci.RoleARN(awsenv.Commercial, a.ID, "github-deploy-"+svc)
			want := ci.DeploySubject(p.cfg, app, repo)
			p.repoRole(app, role, repo, want)
			if a.Profile == config.ProfileProd {
				p.add(&Question{Group: "CI", Stacks: []string{app}, Want: false,
					Name:  app + ": " + repo + "'s main branch outside the " + app + " environment assumes github-deploy-" + svc,
					Steps: []*Step{p.step(p.oidc(a.ID), "sts:AssumeRoleWithWebIdentity", role, map[string]any{subKey: ci.MainBranchSubject(repo), audKey: audience})}})
			}
		}
	}
}

// repoRole: the intended subject assumes the role; pull requests and
// feature branches do not.
func (p *prover) repoRole(stack, role, repo, subject string) {
	acct := p.account(stack)
	name := role[strings.LastIndex(role, "/")+1:]
	ask := func(who, sub string, want bool) {
		p.add(&Question{Group: "CI", Stacks: []string{stack}, Want: want, Name: stack + ": " + who + " assumes " + name,
			Steps: []*Step{p.step(p.oidc(acct.ID), "sts:AssumeRoleWithWebIdentity", role, map[string]any{subKey: sub, audKey: audience})}})
	}
	ask(subject, subject, true)
	ask("a pull request of "+repo, "repo:"+repo+":pull_request", false)
	ask("a feature branch of "+repo, "repo:"+repo+":ref:refs/heads/feature", false)
}

// imageRepo is the GitHub repository that owns a service's image, or "".
func (p *prover) imageRepo(image string) string {
	sh := p.account(p.shared)
	registry := sh.ID + ".dkr.ecr." + p.cfg.Region + ".amazonaws.com/"
	if !strings.HasPrefix(image, registry) {
		return ""
	}
	if r := sh.ECR.Repositories[config.ImageRepository(image)]; r != nil {
		return r.GitHubRepo
	}
	return ""
}
