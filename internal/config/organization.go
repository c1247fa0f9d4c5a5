package config

import (
	"net/mail"
	"strings"
)

// validateOrganization checks the optional management account: at most
// one, and when there is one, every account's root email address, which
// the organization stack adopts the account with (help/organization.md).
func validateOrganization(r *reporter, c *Config, managers []string) {
	if len(managers) > 1 {
		r.add("accounts", "keep one management account: an organization has one", "has %d management accounts (%s)", len(managers), strings.Join(managers, ", "))
	}
	emails := map[string]string{}
	for _, name := range c.AccountNames() {
		a, path := c.Accounts[name], "accounts."+name+".email"
		if a == nil {
			continue
		}
		switch {
		case a.Email == "" && len(managers) > 0:
			r.add(path, "add the account's root email address as AWS Organizations lists it (aws organizations list-accounts)",
				"missing: every account needs one when a management account is configured")
		case a.Email == "":
		case !isEmail(a.Email):
			r.add(path, "write a plain address such as aws-dev@example.com", "%q is not an email address", clip(a.Email))
		default:
			key := strings.ToLower(a.Email)
			if other, dup := emails[key]; dup {
				r.add(path, "give each account its own root email address", "%s is also the email of accounts.%s", a.Email, other)
			}
			emails[key] = name
		}
	}
	if len(managers) == 0 {
		return
	}
	if stack := ManagementBaselineStack(managers[0]); c.Accounts[stack] != nil {
		r.add("accounts."+stack, "rename the account: the management account's baseline stack is called "+stack,
			"clashes with the stack of the management account %s", managers[0])
	}
	for _, name := range namesOf(c.Baseline.Groups) {
		g := c.Baseline.Groups[name]
		if g == nil {
			continue
		}
		for _, acct := range g.Accounts {
			if a := c.Accounts[acct]; a != nil && a.Kind == KindManagement {
				r.add("baseline.groups."+name+".accounts", "remove "+acct+": the landing zone makes no cross-account roles in the management account",
					"names the management account %s", acct)
			}
		}
	}
}

func isEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && len(s) <= 64
}

// Management returns the name and settings of the management account, or
// "" and nil when the config has none.
func (c *Config) Management() (string, *Account) { return c.AccountOfKind(KindManagement) }

// MemberAccountNames lists the accounts the landing zone deploys into,
// every account but the management account, in AccountNames order.
func (c *Config) MemberAccountNames() []string {
	var out []string
	for _, n := range c.AccountNames() {
		if a := c.Accounts[n]; a == nil || a.Kind != KindManagement {
			out = append(out, n)
		}
	}
	return out
}

// ManagementBaselineStack names the management account's second stack, its
// security baseline (it deploys after logs and security, which it writes to
// and reports to): "<management account>-baseline".
func ManagementBaselineStack(management string) string { return management + "-baseline" }

// AccountOfStack is the account a stack deploys to: "bootstrap-<account>",
// "<account>", or the management account's baseline stack; "" when no
// account of the config matches.
func (c *Config) AccountOfStack(stack string) string {
	if m, _ := c.Management(); m != "" && stack == ManagementBaselineStack(m) {
		return m
	}
	if c.Accounts[stack] != nil {
		return stack
	}
	if name, ok := strings.CutPrefix(stack, "bootstrap-"); ok && c.Accounts[name] != nil {
		return name
	}
	return ""
}
