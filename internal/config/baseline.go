package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Access levels: what a cross-account role lets its holder do. Each account
// gets a role "allow-<access>" for every access a group grants in it.
const (
	AccessFullAccess = "full-access" // AdministratorAccess
	AccessReadOnly   = "read-only"   // ReadOnlyAccess
	AccessBilling    = "billing"     // job-function/Billing
	AccessDev        = "dev"         // PowerUserAccess: everything but IAM
	AccessVPN        = "vpn"         // nothing yet: the VPN layer grants it
	AccessSupport    = "support"     // AWSSupportAccess: AWS Support cases (CIS 1.17)
)

// SupportGroupName is the default group whose members assume the support
// role (AWSSupportAccess) in every account to open AWS Support cases.
const SupportGroupName = "support"

// Accesses lists every access level.
var Accesses = []string{AccessFullAccess, AccessReadOnly, AccessBilling, AccessDev, AccessVPN, AccessSupport}

// AllUsersGroup is the group every user is put in: it carries the policy that
// lets users manage their own MFA and denies everything else until MFA is on.
// It is not configured, and no configured group may take its name.
const AllUsersGroup = "all-users"

// Baseline defaults.
const (
	DefaultRoleMaxSessionHours  = 1
	DefaultPasswordMinLength    = 14
	DefaultPasswordReuse        = 24
	DefaultPasswordMaxAgeDays   = 90
	DefaultTrailRetentionDays   = 365
	DefaultLogTransitionDays    = 30
	DefaultLogStorageClass      = "GLACIER"
	DefaultLogExpireDays        = 365
	DefaultObjectLockMode       = "COMPLIANCE"
	DefaultObjectLockDays       = 365
	maxObjectLockDays           = 36500
	maxRoleSessionHours         = 12
	maxPasswordLength           = 128
	maxPasswordReuse            = 24
	maxPasswordAgeDays          = 1095
	minStandardIATransitionDays = 30
)

var logStorageClasses = []string{"STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"}

// IAM's own name rules; both exclude "$", "{" and quotes.
var (
	userRe  = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)
	groupRe = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,128}$`)
)

// Baseline is the security baseline (help/security-baseline.md): the IAM
// users and groups of the security account, the cross-account roles, audit
// logging and threat detection of every account, and the logs account's
// buckets. Every field is optional.
type Baseline struct {
	// Groups are IAM groups in the security account, keyed by group name.
	// Each lets its members assume one role in the listed accounts. Default
	// groups are always made: "<account>-full-access" and
	// "<account>-read-only" for every account, "billing" (billing access to
	// every account), "support" (the AWSSupportAccess role of every
	// account, to open AWS Support cases), "developers" (power-user access
	// to the dev-profile app accounts) and "vpn-users" (the VPN role in
	// shared-services). A group
	// listed here is added, or replaces the default of the same name.
	Groups map[string]*Group `yaml:"groups" json:"groups,omitempty"`
	// Users are IAM users in the security account, keyed by user name
	// (letters, digits and +=,.@_- only). Default: none.
	Users map[string]*User `yaml:"users" json:"users,omitempty"`
	// PasswordPolicy is every account's IAM password policy (CIS 1.8, 1.9).
	PasswordPolicy PasswordPolicy `yaml:"password_policy" json:"password_policy"`
	// RoleMaxSessionHours caps a session in a cross-account role, 1 to 12.
	// Longer sessions mean fewer MFA prompts but a longer-lived credential
	// if one leaks. Default: 1.
	RoleMaxSessionHours int `yaml:"role_max_session_hours" json:"role_max_session_hours,omitempty"`
	// CloudTrail configures every account's trail.
	CloudTrail CloudTrail `yaml:"cloudtrail" json:"cloudtrail"`
	// LogBuckets sets the lifecycle of the logs account's CloudTrail, AWS
	// Config and access-log buckets.
	LogBuckets LogBuckets `yaml:"log_buckets" json:"log_buckets"`
	// SecurityHub turns on Security Hub with the CIS and AWS Foundational
	// Security Best Practices standards in every account. It costs per check
	// and per finding. Default: true.
	SecurityHub *bool `yaml:"security_hub" json:"security_hub,omitempty"`
	// Macie turns on Amazon Macie (S3 sensitive-data discovery, CIS 2.1.3)
	// in every account, in the home region. It bills per bucket and per GB
	// inspected; off, `go run . cis` reports 2.1.3 as MANUAL ("baseline.macie
	// is off"). Default: false.
	Macie bool `yaml:"macie" json:"macie,omitempty"`
}

// Group is one IAM group of the security account.
type Group struct {
	// Access is the role its members may assume: full-access, read-only,
	// billing, dev, vpn or support. Required.
	Access string `yaml:"access" json:"access"`
	// Accounts are the account names the role is assumed in. Required.
	Accounts []string `yaml:"accounts" json:"accounts"`
}

// User is one IAM user of the security account.
type User struct {
	// Groups the user belongs to, by name; default groups count. Every user
	// is also in all-users. Default: none (the user can only set up MFA).
	Groups []string `yaml:"groups" json:"groups,omitempty"`
}

// PasswordPolicy is the IAM password policy of the accounts that hold users.
// Passwords always need upper and lower case letters, digits and symbols.
type PasswordPolicy struct {
	// MinLength is the shortest password, 14 (CIS) to 128. Default: 14.
	MinLength int `yaml:"min_length" json:"min_length,omitempty"`
	// ReusePrevention is how many previous passwords cannot be reused, 1 to
	// 24. Default: 24.
	ReusePrevention int `yaml:"reuse_prevention" json:"reuse_prevention,omitempty"`
	// MaxAgeDays is how long a password lasts, 1 to 1095. Default: 90.
	MaxAgeDays int `yaml:"max_age_days" json:"max_age_days,omitempty"`
}

// CloudTrail configures the trail of every account.
type CloudTrail struct {
	// S3DataEvents also records S3 object reads and writes (CIS 3.8, 3.9) in
	// every bucket of the account but the CloudTrail archive bucket, whose
	// own writes would log themselves in a loop. Useful for forensics,
	// billed per event. Default: true.
	S3DataEvents *bool `yaml:"s3_data_events" json:"s3_data_events,omitempty"`
	// LogRetentionDays keeps the copy of the trail in each account's
	// CloudWatch log group this long; a value CloudWatch Logs accepts. The
	// copy in the logs account follows log_buckets. Default: 365.
	LogRetentionDays int `yaml:"log_retention_days" json:"log_retention_days,omitempty"`
}

// LogBuckets sets the lifecycle of the central log buckets.
type LogBuckets struct {
	// TransitionDays moves logs to StorageClass after this many days; at
	// least 30 for STANDARD_IA. Default: 30.
	TransitionDays int `yaml:"transition_days" json:"transition_days,omitempty"`
	// StorageClass is the colder storage: STANDARD_IA, INTELLIGENT_TIERING,
	// GLACIER_IR, GLACIER or DEEP_ARCHIVE. Default: GLACIER.
	StorageClass string `yaml:"storage_class" json:"storage_class,omitempty"`
	// ExpireDays deletes logs after this many days; more than
	// TransitionDays, and at least ObjectLockDays. Default: 365.
	ExpireDays int `yaml:"expire_days" json:"expire_days,omitempty"`
	// ObjectLockMode is the Object Lock mode of the CloudTrail and AWS
	// Config buckets: COMPLIANCE (nobody, not even the root user, deletes
	// or overwrites a log version before ObjectLockDays) or GOVERNANCE
	// (principals allowed s3:BypassGovernanceRetention may). Enabling it is
	// one-way: S3 never turns Object Lock off. Default: COMPLIANCE.
	ObjectLockMode string `yaml:"object_lock_mode" json:"object_lock_mode,omitempty"`
	// ObjectLockDays is the default retention of every log version, 1 to
	// 36500. Default: 365.
	ObjectLockDays int `yaml:"object_lock_days" json:"object_lock_days,omitempty"`
}

// SecurityHubOn reports whether Security Hub is switched on.
func (b *Baseline) SecurityHubOn() bool { return b.SecurityHub == nil || *b.SecurityHub }

// S3DataEventsOn reports whether the trails record S3 object-level events.
func (c *CloudTrail) S3DataEventsOn() bool { return c.S3DataEvents == nil || *c.S3DataEvents }

// RoleAccesses returns, for every account name, the access levels that some
// group grants in it, in the order of Accesses.
func (b *Baseline) RoleAccesses() map[string][]string {
	out := map[string][]string{}
	for _, access := range Accesses {
		for _, name := range namesOf(b.Groups) {
			g := b.Groups[name]
			if g == nil {
				continue
			}
			for _, acct := range g.Accounts {
				if g.Access == access && !slices.Contains(out[acct], access) {
					out[acct] = append(out[acct], access)
				}
			}
		}
	}
	return out
}

func defaultBaseline(c *Config) {
	b := &c.Baseline
	groups := map[string]*Group{}
	var all, dev, shared []string
	for _, name := range c.AccountNames() {
		a := c.Accounts[name]
		if a == nil || a.Kind == KindManagement {
			continue // reported by validation; the management account has no cross-account roles
		}
		all = append(all, name)
		groups[name+"-full-access"] = &Group{Access: AccessFullAccess, Accounts: []string{name}}
		groups[name+"-read-only"] = &Group{Access: AccessReadOnly, Accounts: []string{name}}
		switch {
		case a.Kind == KindApp && a.Profile == ProfileDev:
			dev = append(dev, name)
		case a.Kind == KindShared:
			shared = append(shared, name)
		}
	}
	groups["billing"] = &Group{Access: AccessBilling, Accounts: all}
	groups[SupportGroupName] = &Group{Access: AccessSupport, Accounts: all}
	if len(dev) > 0 {
		groups["developers"] = &Group{Access: AccessDev, Accounts: dev}
	}
	if len(shared) > 0 {
		groups[VPNGroupName] = &Group{Access: AccessVPN, Accounts: shared}
	}
	for name, g := range b.Groups {
		groups[name] = g
	}
	b.Groups = groups

	p := &b.PasswordPolicy
	p.MinLength = orDefault(p.MinLength, DefaultPasswordMinLength)
	p.ReusePrevention = orDefault(p.ReusePrevention, DefaultPasswordReuse)
	p.MaxAgeDays = orDefault(p.MaxAgeDays, DefaultPasswordMaxAgeDays)
	b.RoleMaxSessionHours = orDefault(b.RoleMaxSessionHours, DefaultRoleMaxSessionHours)
	b.CloudTrail.LogRetentionDays = orDefault(b.CloudTrail.LogRetentionDays, DefaultTrailRetentionDays)
	l := &b.LogBuckets
	l.TransitionDays = orDefault(l.TransitionDays, DefaultLogTransitionDays)
	l.ExpireDays = orDefault(l.ExpireDays, DefaultLogExpireDays)
	if l.StorageClass == "" {
		l.StorageClass = DefaultLogStorageClass
	}
	if b.SecurityHub == nil {
		on := true
		b.SecurityHub = &on
	}
	if b.CloudTrail.S3DataEvents == nil {
		on := true
		b.CloudTrail.S3DataEvents = &on
	}
	if l.ObjectLockMode == "" {
		l.ObjectLockMode = DefaultObjectLockMode
	}
	l.ObjectLockDays = orDefault(l.ObjectLockDays, DefaultObjectLockDays)
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func validateBaseline(r *reporter, c *Config) {
	b := &c.Baseline
	for _, name := range namesOf(b.Groups) {
		validateGroup(r, c, name, b.Groups[name])
	}
	for _, name := range namesOf(b.Users) {
		path := "baseline.users." + name
		if !userRe.MatchString(name) {
			r.add(path, "use up to 64 letters, digits and +=,.@_- characters", "%q is not a valid IAM user name", clip(name))
		}
		u := b.Users[name]
		if u == nil {
			continue // a user with no groups, written as "name:"
		}
		seen := map[string]bool{}
		for i, g := range u.Groups {
			gp := fmt.Sprintf("%s.groups[%d]", path, i)
			switch {
			case g == AllUsersGroup:
				r.add(gp, "remove it: every user is in "+AllUsersGroup, "%q is implied", g)
			case b.Groups[g] == nil:
				r.add(gp, "use one of: "+strings.Join(namesOf(b.Groups), ", "), "no group %q", clip(g))
			case seen[g]:
				r.add(gp, "list each group once", "%q is listed twice", g)
			}
			seen[g] = true
		}
	}
	p, pp := b.PasswordPolicy, "baseline.password_policy."
	checkRange(r, pp+"min_length", p.MinLength, DefaultPasswordMinLength, maxPasswordLength, "CIS asks for at least 14")
	checkRange(r, pp+"reuse_prevention", p.ReusePrevention, 1, maxPasswordReuse, "IAM remembers at most 24")
	checkRange(r, pp+"max_age_days", p.MaxAgeDays, 1, maxPasswordAgeDays, "IAM allows up to 1095")
	checkRange(r, "baseline.role_max_session_hours", b.RoleMaxSessionHours, 1, maxRoleSessionHours, "IAM allows 1 to 12 hours")
	if !slices.Contains(retentionDays, b.CloudTrail.LogRetentionDays) {
		r.add("baseline.cloudtrail.log_retention_days", fmt.Sprintf("use one of %v", retentionDays), "%d is not a retention CloudWatch Logs accepts", b.CloudTrail.LogRetentionDays)
	}
	validateLogBuckets(r, b.LogBuckets)
}

func validateGroup(r *reporter, c *Config, name string, g *Group) {
	path := "baseline.groups." + name
	switch {
	case name == AllUsersGroup:
		r.add(path, "rename the group", "%q is reserved for the group every user is in", name)
	case !groupRe.MatchString(name):
		r.add(path, "use up to 128 letters, digits and +=,.@_- characters", "%q is not a valid IAM group name", clip(name))
	}
	if g == nil {
		r.add(path, "give the group an access and a list of accounts", "is empty")
		return
	}
	if g.Access == "" {
		r.add(path+".access", "set it to one of: "+strings.Join(Accesses, ", "), "missing")
	} else {
		oneOf(r, path+".access", g.Access, Accesses...)
	}
	if len(g.Accounts) == 0 {
		r.add(path+".accounts", "list the accounts the group's role is assumed in", "missing")
	}
	for i, a := range g.Accounts {
		if c.Accounts[a] == nil {
			r.add(fmt.Sprintf("%s.accounts[%d]", path, i), "use one of: "+strings.Join(c.AccountNames(), ", "), "no account %q", clip(a))
		}
	}
}

func validateLogBuckets(r *reporter, l LogBuckets) {
	path := "baseline.log_buckets."
	oneOf(r, path+"storage_class", l.StorageClass, logStorageClasses...)
	if l.StorageClass == "STANDARD_IA" && l.TransitionDays < minStandardIATransitionDays {
		r.add(path+"transition_days", "use 30 or more, or another storage_class", "S3 moves objects to STANDARD_IA after 30 days at the earliest, not %d", l.TransitionDays)
	} else if l.TransitionDays < 1 {
		r.add(path+"transition_days", "use a positive number of days", "%d is not a number of days", l.TransitionDays)
	}
	if l.ExpireDays <= l.TransitionDays {
		r.add(path+"expire_days", fmt.Sprintf("use more than transition_days (%d)", l.TransitionDays), "%d deletes logs before they move to colder storage", l.ExpireDays)
	}
	oneOf(r, path+"object_lock_mode", l.ObjectLockMode, "COMPLIANCE", "GOVERNANCE")
	checkRange(r, path+"object_lock_days", l.ObjectLockDays, 1, maxObjectLockDays, "S3 Object Lock retains up to 100 years")
	if l.ExpireDays < l.ObjectLockDays {
		r.add(path+"expire_days", fmt.Sprintf("use object_lock_days (%d) or more, or shorten object_lock_days", l.ObjectLockDays), "%d expires logs that Object Lock still retains: S3 cannot delete them and the lifecycle rule silently fails", l.ExpireDays)
	}
}

func checkRange(r *reporter, path string, v, lo, hi int, why string) {
	if v < lo || v > hi {
		r.add(path, fmt.Sprintf("use %d to %d; %s", lo, hi, why), "%d is out of range", v)
	}
}

func namesOf[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
