package access

import (
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/ci"
	"github.com/acme/landing-zone/internal/config"
)

// crossAccountRoles lists the allow-* roles of an account, by ARN.
func (p *prover) crossAccountRoles(stack string) []*Role {
	id := p.account(stack).ID
	var out []*Role
	for _, r := range p.u.Roles {
		if r.AccountID == id && strings.HasPrefix(r.Name, "allow-") && r.Trust != "" && strings.HasPrefix(r.Where, stack+":") {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// peopleQuestions: each group's members assume exactly the roles the
// config grants the group, with MFA and never without it; no principal of
// the security account assumes a cross-account role without MFA.
func (p *prover) peopleQuestions() {
	b := p.cfg.Baseline
	sec := p.account(p.security)
	apply := p.session(ci.RoleARN(awsenv.Commercial, sec.ID, ci.ApplyRole), false)
	apply.Label = p.security + " github-apply (no MFA)"
	for _, stack := range p.accountStacks() {
		for _, r := range p.crossAccountRoles(stack) {
			access := strings.TrimPrefix(r.Name, "allow-")
			for _, g := range slices.Sorted(maps.Keys(b.Groups)) {
				grant := b.Groups[g].Access == access && slices.Contains(b.Groups[g].Accounts, stack)
				member := g + "-member"
				p.add(&Question{Group: "people", Stacks: []string{p.security, stack}, Want: grant,
					Name:  "a member of " + g + " assumes " + r.Name + " in " + stack + " with MFA",
					Steps: []*Step{p.step(p.user(member, []string{g}, true), "sts:AssumeRole", r.ARN, nil)}})
				if grant {
					p.add(&Question{Group: "people", Stacks: []string{p.security, stack}, Want: false,
						Name:  "a member of " + g + " assumes " + r.Name + " in " + stack + " without MFA",
						Steps: []*Step{p.step(p.user(member, []string{g}, false), "sts:AssumeRole", r.ARN, nil)}})
				}
				if access == config.AccessSupport {
					// CIS 1.17: the support role opens AWS Support cases, for
					// its group's members only.
					p.add(&Question{Group: "people", Stacks: []string{p.security, stack}, Want: grant,
						Name: "a member of " + g + " assumes " + r.Name + " in " + stack + " with MFA and opens an AWS Support case",
						Steps: []*Step{p.step(p.user(member, []string{g}, true), "sts:AssumeRole", r.ARN, nil),
							p.step(p.session(r.ARN, true), "support:CreateCase", "*", nil)}})
				}
			}
			if access == config.AccessSupport {
				p.add(&Question{Group: "people", Stacks: []string{p.security, stack}, Want: false,
					Name:  r.Name + " in " + stack + " changes IAM (creates a user)",
					Steps: []*Step{p.step(p.session(r.ARN, true), "iam:CreateUser", "arn:aws:iam::"+p.account(stack).ID+":user/x", nil)}})
			}
			p.add(&Question{Group: "people", Stacks: []string{p.security, stack}, Want: false,
				Name:  "a role of " + p.security + " without MFA (github-apply) assumes " + r.Name + " in " + stack,
				Steps: []*Step{p.step(apply, "sts:AssumeRole", r.ARN, nil)}})
		}
	}
}

// outsiderQuestions: nobody outside the organization assumes any role of
// the stacks.
func (p *prover) outsiderQuestions() {
	out := p.outsider()
	var arns []string
	for arn, r := range p.u.Roles {
		if r.Trust != "" && !strings.Contains(r.Where, "AWS Organizations") {
			arns = append(arns, arn)
		}
	}
	sort.Strings(arns)
	for _, arn := range arns {
		r := p.u.Roles[arn]
		stack := strings.SplitN(r.Where, ":", 2)[0]
		p.add(&Question{Group: "outsiders", Stacks: []string{stack}, Want: false,
			Name:  "an administrator outside the organization assumes " + r.Name + " in " + p.accountName(r.AccountID),
			Steps: []*Step{p.step(out, "sts:AssumeRole", arn, nil)}})
	}
}
