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
// account and region. The security account is the delegated administrator
// in every watched region (GuardDuty and Security Hub enroll per region):
// with a management account, AWS Organizations enrolls every account;
// without one, it invites the others, which accept in their own stacks.
func (l *Landing) addFindings() {
	cfg := l.Logs.Config
	_, mgmt := cfg.Management()
	org := mgmt != nil
	sec := l.Security
	var members []findings.Member
	for _, a := range l.auditedStacks() {
		if a == sec {
			continue
		}
		members = append(members, findings.Member{AccountID: a.Spec.ID, Email: a.Spec.Email})
		if !org {
			a.acceptFindings(sec.Spec.ID)
		}
	}
	for _, region := range cfg.WatchedRegions() {
		b := sec.Audit.Regions[region]
		admin := findings.AdminProps{Detector: &b.Detector, Hub: b.SecurityHub, Organization: org, Members: members, Provider: sec.RegionProvider(region)}
		if region == cfg.Region {
			admin.LinkedRegions = cfg.OtherWatchedRegions()
		}
		findings.Admin(sec.Stack, regional("findings-admin", region, cfg.Region), admin)
	}

	for _, a := range l.auditedStacks() {
		rules := []findings.Rule{findings.GuardDuty(a.Spec.ID), findings.AccessAnalyzer(a.Spec.ID), findings.RootSignIn()}
		if a == sec && cfg.Baseline.SecurityHubOn() {
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

// acceptFindings accepts the security account's invitations in every
// watched region. Shared-services and the apps deploy after security, whose
// invitations they accept; logs deploys before it, and accepts on its next
// apply (help/security-baseline.md).
func (a *Account) acceptFindings(adminID string) {
	for _, region := range a.Config.WatchedRegions() {
		b := a.Audit.Regions[region]
		acc := findings.AcceptProps{AdminAccountID: adminID, Hub: b.SecurityHub, Provider: a.RegionProvider(region)}
		if a.Spec.Email != "" { // GuardDuty invites by email
			acc.Detector = &b.Detector
		}
		if acc.Detector != nil || acc.Hub != nil {
			findings.Accept(a.Stack, regional("findings-membership", region, a.Config.Region), acc)
		}
	}
}

// regional names a construct made once per watched region: id in the home
// region (the address it had before other regions were enrolled), id-REGION
// elsewhere.
func regional(id, region, home string) string {
	if region == home {
		return id
	}
	return id + "-" + region
}
