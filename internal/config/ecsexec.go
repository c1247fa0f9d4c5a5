package config

import (
	"fmt"
	"strings"
)

// ExecAccounts returns the app accounts whose ecs.exec_groups name group,
// in account order: the accounts whose ECS Exec role the group's members
// may assume.
func (c *Config) ExecAccounts(group string) []string {
	var out []string
	for _, name := range c.AccountNames() {
		a := c.Accounts[name]
		if a != nil && a.ExecOn() && containsString(a.ECS.ExecGroups, group) {
			out = append(out, name)
		}
	}
	return out
}

// ExecOn reports whether an app account turns ECS Exec on: some group is
// named in its ecs.exec_groups.
func (a *Account) ExecOn() bool {
	return a.Kind == KindApp && a.ECS != nil && len(a.ECS.ExecGroups) > 0
}

// validateExecGroups checks that every app account's ecs.exec_groups name
// groups of the security account (baseline.groups, after defaults), each
// once.
func validateExecGroups(r *reporter, c *Config) {
	for _, name := range c.AccountNames() {
		a := c.Accounts[name]
		if a == nil || a.ECS == nil {
			continue
		}
		seen := map[string]bool{}
		for i, g := range a.ECS.ExecGroups {
			path := fmt.Sprintf("accounts.%s.ecs.exec_groups[%d]", name, i)
			switch {
			case g == AllUsersGroup:
				r.add(path, "name a group of people who operate "+name+"; "+AllUsersGroup+" holds every user", "%q would let every user in", g)
			case c.Baseline.Groups[g] == nil:
				r.add(path, "use one of the security account's groups: "+strings.Join(namesOf(c.Baseline.Groups), ", ")+" (or add it under baseline.groups)", "no group %q", clip(g))
			case seen[g]:
				r.add(path, "list each group once", "%q is listed twice", g)
			}
			seen[g] = true
		}
	}
}
