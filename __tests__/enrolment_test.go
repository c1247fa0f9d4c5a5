package tests

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/tfjson"
)

// The enrolment model: which accounts' GuardDuty and Security Hub findings
// reach the security account, region by region. AWS enrolls per region:
// the delegated administrator is designated in each region (by the
// management account), the organization configuration and members are
// made in each region (by the administrator), and an invitation is
// accepted in each region (by the member). A member is enrolled in a
// region only when every link of one of these chains exists there, each on
// the provider of that region and wired to that region's detector or hub.

// regional is one resource with the region of the provider it uses.
type regional struct {
	stack, name, region string
	attrs               map[string]any
}

// inRegions lists a stack's resources of typ with their regions.
func inRegions(d stackDocs, stack, typ string) []regional {
	doc := d[stack]
	if doc == nil {
		return nil
	}
	regionOf := providerRegions(doc)
	var out []regional
	for name, v := range d.of(stack, typ) {
		r, _ := v.(map[string]any)
		key := "aws"
		if p, _ := r["provider"].(string); p != "" {
			key = strings.TrimSuffix(strings.TrimPrefix(p, "${"), "}")
		}
		out = append(out, regional{stack: stack, name: name, region: regionOf[key], attrs: r})
	}
	return out
}

// matching returns the resources of typ in region whose attributes satisfy ok.
func matching(d stackDocs, stacks []string, typ, region string, ok func(map[string]any) bool) []regional {
	var out []regional
	for _, s := range stacks {
		for _, r := range inRegions(d, s, typ) {
			if r.region == region && (ok == nil || ok(r.attrs)) {
				out = append(out, r)
			}
		}
	}
	return out
}

// refTo reports whether v references one of rs, each in v's stack.
func refTo(v any, stack string, rs []regional, typ string) bool {
	for _, r := range rs {
		if r.stack == stack && tfjson.Ref(v) == typ+"."+r.name {
			return true
		}
	}
	return false
}

// enrolmentProblems returns, for every member account (the management
// account included) and watched region, why its GuardDuty or Security Hub
// is not enrolled with the security account's; GuardDuty only where it
// can be: with a management account, or by an invitation to the account's
// root email.
func enrolmentProblems(cfg *config.Config, d stackDocs) []string {
	var out []string
	bad := func(f string, a ...any) { out = append(out, fmt.Sprintf(f, a...)) }
	secName, sec := cfg.AccountOfKind(config.KindSecurity)
	mgmt, m := cfg.Management()
	org := m != nil
	secStacks := []string{secName}
	for _, region := range cfg.WatchedRegions() {
		secDet := matching(d, secStacks, "aws_guardduty_detector", region, nil)
		secHub := matching(d, secStacks, "aws_securityhub_account", region, nil)
		designated := func(typ string) bool {
			return len(matching(d, []string{mgmt}, typ, region, func(r map[string]any) bool { return r["admin_account_id"] == sec.ID })) == 1
		}
		orgGD := org && designated("aws_guardduty_organization_admin_account") &&
			len(matching(d, secStacks, "aws_guardduty_organization_configuration", region, func(r map[string]any) bool {
				return r["auto_enable_organization_members"] == "ALL" && refTo(r["detector_id"], secName, secDet, "aws_guardduty_detector")
			})) == 1
		orgHub := org && designated("aws_securityhub_organization_admin_account") &&
			len(matching(d, secStacks, "aws_securityhub_organization_configuration", region, func(r map[string]any) bool { return r["auto_enable"] == true })) == 1
		for _, name := range cfg.AccountNames() {
			a := cfg.Accounts[name]
			if name == secName {
				continue
			}
			stacks := []string{name}
			if name == mgmt {
				stacks = []string{config.ManagementBaselineStack(mgmt), mgmt}
			}
			where := name + " " + region
			det := matching(d, stacks, "aws_guardduty_detector", region, func(r map[string]any) bool { return r["enable"] == true })
			if len(det) != 1 {
				bad("%s: %d enabled GuardDuty detectors, want 1", where, len(det))
			}
			switch {
			case org:
				if !orgGD {
					bad("%s: GuardDuty: the security account is not the delegated administrator auto-enabling ALL members", where)
				}
			case a.Email != "":
				member := matching(d, secStacks, "aws_guardduty_member", region, func(r map[string]any) bool {
					return r["account_id"] == a.ID && r["email"] == a.Email && r["invite"] == true && refTo(r["detector_id"], secName, secDet, "aws_guardduty_detector")
				})
				accepted := matching(d, stacks, "aws_guardduty_invite_accepter", region, func(r map[string]any) bool {
					return r["master_account_id"] == sec.ID && refTo(r["detector_id"], name, det, "aws_guardduty_detector")
				})
				if len(member) != 1 || len(accepted) != 1 {
					bad("%s: GuardDuty: %d invitations from security, %d acceptances on the region's detector; want 1 each", where, len(member), len(accepted))
				}
			}
			if !cfg.Baseline.SecurityHubOn() {
				continue
			}
			hub := matching(d, stacks, "aws_securityhub_account", region, nil)
			member := matching(d, secStacks, "aws_securityhub_member", region, func(r map[string]any) bool {
				return r["account_id"] == a.ID && r["invite"] == !org
			})
			switch {
			case len(hub) != 1 || len(secHub) != 1:
				bad("%s: Security Hub: %d hubs in the account, %d in security; want 1 each", where, len(hub), len(secHub))
			case len(member) != 1:
				bad("%s: Security Hub: %d member resources in security (invite %v), want 1", where, len(member), !org)
			case org && !orgHub:
				bad("%s: Security Hub: the security account is not the delegated administrator auto-enabling new accounts", where)
			case !org && len(matching(d, stacks, "aws_securityhub_invite_accepter", region, func(r map[string]any) bool { return r["master_id"] == sec.ID })) != 1:
				bad("%s: Security Hub: the account does not accept the security account's invitation", where)
			}
		}
	}
	return out
}

// Every account's findings reach the security account in every watched
// region, on every config.
func TestFindingsEnrolledInEveryWatchedRegion(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		if p := enrolmentProblems(f.Cfg, readDocs(t, synthOf(t, f))); len(p) > 0 {
			t.Errorf("%d problems:\n  %s", len(p), strings.Join(p, "\n  "))
		}
	})
}

// Each link of each chain, removed in one region only, is caught in that
// region.
func TestEnrolmentModelIsNoRubberStamp(t *testing.T) {
	type broken struct {
		name, stack, typ string
		fragments        []string
		want             string
	}
	var cases []struct {
		f fixture
		broken
	}
	for _, f := range propertyConfigs(t) {
		other := f.Cfg.OtherWatchedRegions()
		if len(other) == 0 {
			continue
		}
		region := other[len(other)-1]
		prov := `"provider":"aws.` + region + `"`
		secName, _ := f.Cfg.AccountOfKind(config.KindSecurity)
		mgmt, _ := f.Cfg.Management()
		var member string
		for _, n := range f.Cfg.AccountNames() {
			if a := f.Cfg.Accounts[n]; a.Kind == config.KindApp && (mgmt != "" || a.Email != "") {
				member = n
				break
			}
		}
		if member == "" {
			continue
		}
		add := func(b broken) {
			cases = append(cases, struct {
				f fixture
				broken
			}{f, b})
		}
		if mgmt != "" {
			add(broken{"GuardDuty administrator not designated", mgmt, "aws_guardduty_organization_admin_account", []string{prov}, "GuardDuty: the security account is not the delegated administrator"})
			add(broken{"Security Hub administrator not designated", mgmt, "aws_securityhub_organization_admin_account", []string{prov}, "Security Hub: the security account is not the delegated administrator"})
			add(broken{"GuardDuty organization configuration missing", secName, "aws_guardduty_organization_configuration", []string{prov}, "GuardDuty: the security account is not"})
			add(broken{"the management account's detector missing", config.ManagementBaselineStack(mgmt), "aws_guardduty_detector", []string{prov}, mgmt + " " + region + ": 0 enabled GuardDuty detectors"})
		} else {
			add(broken{"GuardDuty invitation not accepted", member, "aws_guardduty_invite_accepter", []string{prov}, member + " " + region + ": GuardDuty"})
			add(broken{"GuardDuty invitation not sent", secName, "aws_guardduty_member", []string{prov, f.Cfg.Accounts[member].ID}, member + " " + region + ": GuardDuty"})
			add(broken{"Security Hub invitation not accepted", member, "aws_securityhub_invite_accepter", []string{prov}, member + " " + region + ": Security Hub"})
		}
		add(broken{"Security Hub member missing", secName, "aws_securityhub_member", []string{prov, f.Cfg.Accounts[member].ID}, member + " " + region + ": Security Hub"})
	}
	if len(cases) < 6 && fixturesInPlay(t) {
		t.Fatalf("only %d broken cases: the fixtures lack an organization config or an invitation config watching another region", len(cases))
	}
	for _, c := range cases {
		t.Run(c.f.Name+"/"+c.name, func(t *testing.T) {
			d := readDocs(t, synthOf(t, c.f))
			if p := enrolmentProblems(c.f.Cfg, d); len(p) > 0 {
				t.Fatalf("unchanged stacks already have problems: %v", p)
			}
			d.remove(t, c.stack, c.typ, c.fragments...)
			p := enrolmentProblems(c.f.Cfg, d)
			if !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, c.want) }) {
				t.Fatalf("want a problem with %q, got %v", c.want, p)
			}
			for _, s := range p {
				if home := c.f.Cfg.Region; strings.Contains(s, " "+home+":") {
					t.Errorf("removing a resource of another region broke the home region: %s", s)
				}
			}
		})
	}
}
