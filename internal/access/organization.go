package access

import (
	"regexp"
	"slices"
	"strings"
)

// SCPLevel is one level of the organization above a member account (the
// root, each OU, the account itself) with the service control policies
// attached there: FullAWSAccess, which AWS attaches everywhere, and the
// stacks'. A request of a member account's principal must be allowed at
// every level (simulate.mjs passes them to the engine, root first).
type SCPLevel struct {
	Name     string   `json:"orgIdentifier"`
	Policies []string `json:"policies"`
}

// FullAWSAccess is the AWS managed SCP attached to every root, OU and
// account.
const FullAWSAccess = "AWS managed SCP FullAWSAccess"

// orgRefRe reads a reference to an organization resource:
// "${aws_organizations_organizational_unit.x.id}",
// "${aws_organizations_organization.x.roots[0].id}".
var orgRefRe = regexp.MustCompile(`^\$\{(aws_organizations_[a-z_]+)\.([A-Za-z0-9_-]+)\.`)

func orgRef(v any) string {
	m := orgRefRe.FindStringSubmatch(str(v))
	if m == nil {
		return ""
	}
	if m[1] == "aws_organizations_organization" {
		return "root"
	}
	return m[1] + "." + m[2]
}

// readOrganization reads the management account's stack, when there is
// one: which SCPs apply, level by level, to each member account of the
// config (found by its email). The management account itself is under no
// SCP, as in AWS.
func (u *Universe) readOrganization() {
	u.SCPs = map[string][]SCPLevel{}
	if name, _ := u.cfg.Management(); name == "" || u.stacks.Stack(name) == nil {
		return
	}
	u.Policies[FullAWSAccess] = map[string]any{"Version": "2012-10-17", "Statement": []any{
		map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"},
	}}
	attached := map[string][]string{} // target → policy IDs
	policyID := map[string]string{}   // "aws_organizations_policy.x" → policy ID
	parent := map[string]string{}     // OU or account → its parent
	u.stacks.each("aws_organizations_policy", func(st *Stack, name string, r map[string]any) {
		if t := str(r["type"]); t != "" && t != "SERVICE_CONTROL_POLICY" {
			return
		}
		policyID["aws_organizations_policy."+name] = u.add("SCP "+st.Resolve(str(r["name"])), st, str(r["content"]))
	})
	u.stacks.each("aws_organizations_policy_attachment", func(st *Stack, name string, r map[string]any) {
		id, target := policyID[orgRef(r["policy_id"])], orgRef(r["target_id"])
		if id == "" || target == "" {
			u.problems = append(u.problems, st.Where("aws_organizations_policy_attachment", name)+": names no SCP or target of the stack")
			return
		}
		attached[target] = append(attached[target], id)
	})
	u.stacks.each("aws_organizations_organizational_unit", func(st *Stack, name string, r map[string]any) {
		parent["aws_organizations_organizational_unit."+name] = orgRef(r["parent_id"])
	})
	byEmail := map[string]string{}
	for _, n := range u.cfg.MemberAccountNames() {
		if a := u.cfg.Accounts[n]; a.Email != "" {
			byEmail[strings.ToLower(a.Email)] = a.ID
		}
	}
	u.stacks.each("aws_organizations_account", func(st *Stack, name string, r map[string]any) {
		id := byEmail[strings.ToLower(st.Resolve(str(r["email"])))]
		if id == "" {
			u.problems = append(u.problems, st.Where("aws_organizations_account", name)+": its email is no account's in the config")
			return
		}
		self := "aws_organizations_account." + name
		parent[self] = orgRef(r["parent_id"])
		if parent[self] == "" {
			parent[self] = "root" // no parent_id: the account stays at the root
		}
		var chain []string
		for node := self; node != "" && len(chain) <= 10; node = parent[node] {
			chain = append([]string{node}, chain...)
			if node == "root" {
				break
			}
		}
		if chain[0] != "root" {
			u.problems = append(u.problems, st.Where("aws_organizations_account", name)+": its OU is not under the root")
			return
		}
		var levels []SCPLevel
		for _, node := range chain {
			levels = append(levels, SCPLevel{Name: node, Policies: append([]string{FullAWSAccess}, attached[node]...)})
		}
		u.SCPs[id] = levels
	})
}

// scpsOf are the SCP levels a principal's requests are evaluated under:
// a role session or user of a member account. Service principals and
// federated sign-ins are under none; neither is the management account.
func (p *prover) scpsOf(pr *Principal) []SCPLevel {
	if !strings.Contains(pr.ARN, ":role/") && !strings.Contains(pr.ARN, ":user/") && !strings.HasSuffix(pr.ARN, ":root") {
		return nil
	}
	return p.u.SCPs[pr.AccountID]
}

// SCPNames lists the SCPs of the stacks, for people.
func (u *Universe) SCPNames() []string {
	var out []string
	for _, levels := range u.SCPs {
		for _, l := range levels {
			out = append(out, l.Policies...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// withRegion gives a request under SCPs the region it is made in (the
// config's, unless the question names another), which the regions SCP
// reads: a request without aws:RequestedRegion would match its
// StringNotEquals, as in IAM.
func withRegion(ctx map[string]any, region string) map[string]any {
	if _, set := ctx["aws:RequestedRegion"]; set {
		return ctx
	}
	return mergeContext(ctx, map[string]any{"aws:RequestedRegion": region})
}
