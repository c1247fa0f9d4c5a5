package stacks

import (
	"github.com/acme/landing-zone/constructs/findings"
)

// addFindings sends high and critical findings to each account's critical
// alarm topic (help/security-baseline.md, "Findings to people"): in every
// account its own GuardDuty findings of severity 7 or more, its active
// Access Analyzer findings and its root user's console sign-ins (recorded
// in us-east-1, forwarded from there to the home region); in the security
// account, Security Hub's new, active HIGH and CRITICAL findings of every
// account and region. The security account is the delegated administrator:
// with a management account, AWS Organizations enrolls every account;
// without one, it invites the others, which accept in their own stacks.
func (l *Landing) addFindings() {
	cfg := l.Logs.Config
	_, mgmt := cfg.Management()
	org := mgmt != nil
	sec := l.Security
	hubOn := cfg.Baseline.SecurityHubOn()
	var members []findings.Member
	for _, a := range l.accountStacks() {
		if a == sec {
			continue
		}
		email := a.Spec.Email
		members = append(members, findings.Member{AccountID: a.Spec.ID, Email: email})
		if !org {
			acc := findings.AcceptProps{AdminAccountID: sec.Spec.ID}
			if email != "" {
				acc.Detector = a.Audit.Detector
			}
			if hubOn {
				acc.Hub = a.Audit.SecurityHub
			}
			if acc.Detector != nil || acc.Hub != nil {
				// Shared-services and the apps deploy after security, whose
				// invitations they accept; logs deploys before it, and
				// accepts on its next apply (help/security-baseline.md).
				findings.Accept(a.Stack, "findings-membership", acc)
			}
		}
	}
	admin := findings.AdminProps{Detector: sec.Audit.Detector, Organization: org, Members: members, LinkedRegions: cfg.OtherWatchedRegions()}
	if hubOn {
		admin.Hub = sec.Audit.SecurityHub
	}
	findings.Admin(sec.Stack, "findings-admin", admin)

	for _, a := range l.accountStacks() {
		rules := []findings.Rule{findings.GuardDuty(a.Spec.ID), findings.AccessAnalyzer(a.Spec.ID), findings.RootSignIn()}
		if a == sec && hubOn {
			rules = append(rules, findings.SecurityHub(cfg.Region))
		}
		findings.New(a.Stack, "findings", findings.Props{Name: a.baselineName(), TopicARN: a.Topics.CriticalARN, Rules: rules})
		if cfg.Region != findings.SignInRegion {
			findings.Forward(a.Stack, "findings-forward", findings.ForwardProps{
				Name: a.baselineName(), Provider: a.RegionProvider(findings.SignInRegion), Rule: findings.RootSignIn(),
			})
		}
	}
}
