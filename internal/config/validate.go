package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/acme/landing-zone/internal/cidr"
)

// Names that reach Terraform are restricted to these patterns, which also
// keeps "${" and quotes out of the synthesized JSON.
var (
	prefixRe  = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	acctRe    = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	idRe      = regexp.MustCompile(`^[0-9]{12}$`)
	regionRe  = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$`)
	repoRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$`)
	roleRe    = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)
	roleARNRe = regexp.MustCompile(`^arn:(?:aws|aws-us-gov|aws-cn):iam::([0-9]{12}):role/([A-Za-z0-9+=,.@_/-]{1,64})$`)
)

// Retention periods CloudWatch Logs accepts.
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

const (
	maxPrefixLen  = 12
	maxAccountLen = 20
	minVPCBits    = 16
	maxVPCBits    = 24
	maxSubnetBits = 28
	minAZs        = 2
	maxAZs        = 6
)

func isARN(s string) bool { return strings.HasPrefix(s, "arn:") }

func validate(r *reporter, c *Config) {
	checkName(r, "name_prefix", c.NamePrefix, prefixRe, maxPrefixLen, "a short company or project name such as acme")
	regionOK := validateRegion(r, c.Region)
	validateRegions(r, c, regionOK)
	switch {
	case c.SourceRepo == "":
		r.add("source_repo", "set it to the GitHub repository as owner/name", "missing")
	case !repoRe.MatchString(c.SourceRepo):
		r.add("source_repo", "write the GitHub repository as owner/name, e.g. acme/landing-zone", "%q is not owner/name", clip(c.SourceRepo))
	}
	validateDomain(r, c)
	oneOf(r, "state.bootstrap_backend", c.State.BootstrapBackend, BackendLocal, BackendS3)
	oneOf(r, "state.locking", c.State.Locking, LockDynamoDB, LockS3, LockBoth)
	validateAccounts(r, c)
	validateOverlaps(r, c, regionOK)
	validateCrossAccount(r, c)
	validateMonitoring(r, c)
	validateBaseline(r, c)
	validateExecGroups(r, c)
	validateHardening(r, c)
}

func checkName(r *reporter, path, v string, re *regexp.Regexp, max int, example string) {
	switch {
	case v == "":
		r.add(path, "set it to "+example, "missing")
	case len(v) > max || !re.MatchString(v):
		r.add(path, fmt.Sprintf("use up to %d lowercase letters, digits and single hyphens, starting with a letter, e.g. %s", max, example), "%q is not a valid name", clip(v))
	}
}

func oneOf(r *reporter, path, v string, allowed ...string) {
	if !slices.Contains(allowed, v) {
		r.add(path, "use one of: "+strings.Join(allowed, ", "), "%q is not a valid value", clip(v))
	}
}

func validateAccounts(r *reporter, c *Config) {
	if len(c.Accounts) == 0 {
		r.add("accounts", "list the logs, security, shared-services and app accounts", "missing")
		return
	}
	kinds := map[string][]string{}
	ids := map[string]string{}
	for _, name := range c.AccountNames() {
		a, path := c.Accounts[name], "accounts."+name
		if a == nil {
			r.add(path, "give the account an id, kind and deploy_role", "is empty")
			continue
		}
		checkName(r, path, name, acctRe, maxAccountLen, "dev")
		if strings.HasPrefix(name, "bootstrap") {
			r.add(path, "rename the account", "names starting with bootstrap are reserved for the state bootstrap stacks")
		}
		validateAccount(r, path, a)
		kinds[a.Kind] = append(kinds[a.Kind], name)
		if other, dup := ids[a.ID]; dup && a.ID != "" {
			r.add(path+".id", "give each account its own AWS account", "%s is also the ID of accounts.%s", a.ID, other)
		}
		ids[a.ID] = name
	}
	for _, k := range []string{KindLogs, KindSecurity, KindShared} {
		switch n := len(kinds[k]); {
		case n == 0:
			r.add("accounts", "add an account with kind: "+k, "has no %s account", k)
		case n > 1:
			r.add("accounts", "keep one "+k+" account", "has %d %s accounts (%s)", n, k, strings.Join(kinds[k], ", "))
		}
	}
	if len(kinds[KindApp]) == 0 {
		r.add("accounts", "add at least one account with kind: app (dev, stage, prod)", "has no app account")
	}
	validateOrganization(r, c, kinds[KindManagement])
}

func validateAccount(r *reporter, path string, a *Account) {
	switch {
	case a.ID == "":
		r.add(path+".id", "add the 12-digit AWS account ID, quoted", "missing")
	case !idRe.MatchString(a.ID):
		r.add(path+".id", "write the 12-digit AWS account ID in quotes, e.g. \"111111111111\"", "%q is not a 12-digit account ID", clip(a.ID))
	}
	if a.Kind == "" {
		r.add(path+".kind", "set it to logs, security, shared-services, app or management", "missing")
	} else {
		oneOf(r, path+".kind", a.Kind, KindLogs, KindSecurity, KindShared, KindApp, KindManagement)
	}
	validateDeployRole(r, path+".deploy_role", a)
	if a.Kind == KindApp {
		oneOf(r, path+".profile", a.Profile, ProfileDev, ProfileStage, ProfileProd)
	} else if a.Profile != "" {
		r.add(path+".profile", "remove it: profiles size app environments only", "is set on a %s account", a.Kind)
	}
	needsVPC := a.Kind == KindApp || a.Kind == KindShared
	switch {
	case needsVPC && a.VPC == nil:
		r.add(path+".vpc", "add a vpc with at least cidr and azs", "missing: %s accounts have a VPC", a.Kind)
	case !needsVPC && a.VPC != nil && a.Kind != "":
		r.add(path+".vpc", "remove it", "%s accounts have no VPC", a.Kind)
	case a.VPC != nil:
		validateVPC(r, path+".vpc", a.VPC)
	}
	validateAppLayers(r, path, a)
	validateSharedLayers(r, path, a)
}

func validateDeployRole(r *reporter, path string, a *Account) {
	v := a.DeployRole
	switch {
	case v == "":
		r.add(path, "name the IAM role Terraform assumes in this account, e.g. OrganizationAccountAccessRole", "missing")
	case isARN(v):
		m := roleARNRe.FindStringSubmatch(v)
		if m == nil {
			r.add(path, "write arn:aws:iam::ACCOUNT_ID:role/NAME, or just the role name", "%q is not an IAM role ARN", clip(v))
		} else if m[1] != a.ID {
			r.add(path, "use a role in this account, or just the role name", "the role is in account %s, not %s", m[1], a.ID)
		}
	case !roleRe.MatchString(v):
		r.add(path, "use the role's name: letters, digits and +=,.@_- only, up to 64", "%q is not an IAM role name", clip(v))
	}
}

func validateVPC(r *reporter, path string, v *VPC) {
	p, ok := validateCIDR(r, path+".cidr", v.CIDR)
	validateAZs(r, path+".azs", v.AZs)
	oneOf(r, path+".nat", v.NAT, NATSingle, NATPerAZ)
	if !slices.Contains(retentionDays, v.FlowLogRetentionDays) {
		r.add(path+".flow_log_retention_days", fmt.Sprintf("use one of %v", retentionDays), "%d is not a retention CloudWatch Logs accepts", v.FlowLogRetentionDays)
	}
	if !ok {
		return
	}
	sizesOK := true
	for i, tier := range []string{"public", "private_app", "private_persistence"} {
		l := v.Subnets.Lengths()[i]
		if l <= p.Bits() || l > maxSubnetBits {
			r.add(path+".subnets."+tier, fmt.Sprintf("use a prefix length from %d to %d", p.Bits()+1, maxSubnetBits), "/%d does not fit a /%d VPC", l, p.Bits())
			sizesOK = false
		}
	}
	if sizesOK && len(v.AZs) > 0 {
		if _, err := cidr.Layout(p, len(v.AZs), v.Subnets.Lengths()); err != nil {
			r.add(path+".cidr", "use a larger VPC range, fewer AZs, or smaller subnets under "+path+".subnets",
				"too small for %d AZs of subnets: %v", len(v.AZs), err)
		}
	}
}

func validateCIDR(r *reporter, path, s string) (netip.Prefix, bool) {
	if s == "" {
		r.add(path, "set the VPC's IPv4 range, e.g. 10.20.0.0/16", "missing")
		return netip.Prefix{}, false
	}
	p, err := cidr.Parse(s)
	if err != nil {
		r.add(path, "write the range as a.b.c.d/n with no host bits, e.g. 10.20.0.0/16", "%v", err)
		return netip.Prefix{}, false
	}
	if p.Bits() < minVPCBits || p.Bits() > maxVPCBits {
		r.add(path, fmt.Sprintf("use a prefix length from /%d to /%d", minVPCBits, maxVPCBits), "/%d is outside what a VPC allows here", p.Bits())
		return netip.Prefix{}, false
	}
	return p, true
}

// validateAZs checks the count and uniqueness; region membership is checked
// by validateOverlaps' caller, which knows the region.
func validateAZs(r *reporter, path string, azs []string) {
	if len(azs) < minAZs || len(azs) > maxAZs {
		r.add(path, fmt.Sprintf("list %d to %d availability zones; load balancers need at least two", minAZs, maxAZs), "has %d", len(azs))
	}
	seen := map[string]bool{}
	for i, az := range azs {
		if seen[az] {
			r.add(fmt.Sprintf("%s[%d]", path, i), "list each AZ once", "%q is listed twice", clip(az))
		}
		seen[az] = true
	}
}

// validateOverlaps checks what needs the whole config: AZs against the
// region (when the region itself is valid: a wrong region is one problem,
// not one per AZ), and every pair of VPC ranges.
func validateOverlaps(r *reporter, c *Config, regionOK bool) {
	type vpcAt struct {
		name string
		p    netip.Prefix
	}
	var vpcs []vpcAt
	for _, name := range c.AccountNames() {
		a := c.Accounts[name]
		if a == nil || a.VPC == nil {
			continue
		}
		path := "accounts." + name + ".vpc"
		for i, az := range a.VPC.AZs {
			if regionOK && !isAZOf(az, c.Region) {
				r.add(fmt.Sprintf("%s.azs[%d]", path, i), fmt.Sprintf("use a zone of %s, e.g. %sa", c.Region, c.Region), "%q is not an availability zone of region %s", clip(az), c.Region)
			}
		}
		if p, err := cidr.Parse(a.VPC.CIDR); err == nil {
			for _, o := range vpcs {
				if cidr.Overlaps(p, o.p) {
					r.add(path+".cidr", "pick a range outside "+o.p.String()+"; peered VPCs must not overlap",
						"%s overlaps accounts.%s.vpc.cidr %s", p, o.name, o.p)
				}
			}
			vpcs = append(vpcs, vpcAt{name, p})
		}
	}
}

func isAZOf(az, region string) bool {
	rest, ok := strings.CutPrefix(az, region)
	return ok && len(rest) == 1 && rest[0] >= 'a' && rest[0] <= 'z'
}

// vpcBits returns the prefix length of a valid VPC CIDR, or 0.
func vpcBits(s string) int {
	p, err := cidr.Parse(s)
	if err != nil {
		return 0
	}
	return p.Bits()
}
