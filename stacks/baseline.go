package stacks

import (
	"maps"
	"slices"

	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/audit"
	"github.com/acme/landing-zone/constructs/crossaccount"
	"github.com/acme/landing-zone/constructs/ecscluster"
	"github.com/acme/landing-zone/constructs/iamusers"
	"github.com/acme/landing-zone/constructs/logarchive"
	"github.com/acme/landing-zone/constructs/loggroup"
	"github.com/acme/landing-zone/constructs/macie"
	"github.com/acme/landing-zone/constructs/role"
	"github.com/acme/landing-zone/constructs/vpn"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/iam"
)

// ExecAssumeSid is the statement of a group's policy that lets its members
// assume the ECS Exec roles of the environments that name the group.
const ExecAssumeSid = "AssumeECSExecRoles"

// addBaseline gives every account stack the security baseline (see
// help/security-baseline.md) and orders the stacks so that `cdktf deploy
// '*'` deploys logs first (everyone writes there), then security (where
// users assume roles from), then the rest. Everything one account needs to
// know about another (IDs, bucket and trail names, ARNs) is computed from
// config here, never read from another stack's state. It returns each
// account's local copy of its trail, which addMonitoring watches.
func (l *Landing) addBaseline() map[*Account]*loggroup.Group {
	accounts := l.accountStacks()
	cfg := l.Logs.Config
	archive := logarchive.NamesFor(cfg.NamePrefix, l.Logs.Name, l.Logs.Env())
	var sources []logarchive.Source
	var ids []string
	for _, a := range l.auditedStacks() {
		sources = append(sources, logarchive.Source{AccountID: a.Spec.ID, TrailARN: audit.TrailARN(a.Env(), a.baselineName())})
		ids = append(ids, a.Spec.ID)
	}

	accesses := cfg.Baseline.RoleAccesses()
	roles := map[string]*crossaccount.Roles{}
	for _, a := range accounts {
		var deny []iam.Statement
		if a.Spec.Kind == config.KindApp {
			// ECS Exec only through the exec role (help/ecs-exec.md).
			deny = ecscluster.DirectAccessDenies(a.Env())
		}
		roles[a.Name] = crossaccount.New(a.Stack, "cross-account", crossaccount.Props{
			TrustedAccountID: l.Security.Spec.ID,
			Accesses:         accesses[a.Name], MaxSessionHours: cfg.Baseline.RoleMaxSessionHours,
			Deny: deny,
		})
		var arns []string
		for _, access := range accesses[a.Name] {
			arns = append(arns, roles[a.Name].ByAccess[access].ARN)
		}
		a.Output("cross_account_role_arns", "Roles assumable with MFA from the security account", arns)
	}

	if m := l.ManagementBaseline; m != nil {
		m.addSupportRole()
		m.Stack.AddDependency(l.Organization.Stack)
	}

	logArchive := l.Logs.addLogArchive(archive, sources, roles[l.Logs.Name])
	l.Security.addIAMUsers()
	trails := map[*Account]*loggroup.Group{}
	for _, a := range l.auditedStacks() {
		var after []cdktf.ITerraformDependable
		if a == l.Logs {
			after = logArchive.Ready() // the same stack: wait for the policies
		}
		trails[a] = a.addAudit(archive, ids, l.Security.Spec.ID, after, a == l.Security)
		if a != l.Logs {
			a.Stack.AddDependency(l.Logs.Stack)
		}
		if a != l.Logs && a != l.Security {
			a.Stack.AddDependency(l.Security.Stack)
		}
	}
	return trails
}

// accountStacks lists the account stacks (not the bootstrap stacks) in
// deploy order.
func (l *Landing) accountStacks() []*Account {
	out := []*Account{l.Logs, l.Security, l.Shared.Account}
	for _, app := range l.Apps {
		out = append(out, app.Account)
	}
	return out
}

// auditedStacks are the stacks that make an account's security baseline:
// the account stacks, then the management account's baseline stack.
func (l *Landing) auditedStacks() []*Account {
	out := l.accountStacks()
	if l.ManagementBaseline != nil {
		out = append(out, l.ManagementBaseline)
	}
	return out
}

func (a *Account) baselineName() string { return a.Config.NamePrefix + "-" + a.Name }

// addSupportRole gives the management account its support role (CIS
// 1.17). It is not an allow-* role: nothing in the management account
// trusts the security account, whose administrators would otherwise reach
// the organization. The account's own people assume it, with MFA.
func (a *Account) addSupportRole() {
	role.New(a.Stack, "support-role", role.Props{
		Name:              crossaccount.SupportRoleName(a.baselineName()),
		Description:       "AWS Support cases, assumed with MFA by this account's people",
		Trust:             iam.MFATrust(a.Env().Partition, a.Spec.ID),
		MaxSessionSeconds: a.Config.Baseline.RoleMaxSessionHours * 3600,
		ManagedPolicies:   []string{crossaccount.Policies[config.AccessSupport]},
	})
}

// addLogArchive makes the central log buckets in the logs account. The
// account's read-only role, assumed from the security account with MFA, is
// the auditors' way in: it alone, besides the account's administrators, may
// decrypt the logs.
func (a *Account) addLogArchive(names logarchive.Names, sources []logarchive.Source, roles *crossaccount.Roles) *logarchive.Archive {
	var auditors []*crossaccount.Role
	if r := roles.ByAccess[config.AccessReadOnly]; r != nil {
		auditors = append(auditors, r)
	}
	l := a.Config.Baseline.LogBuckets
	archive := logarchive.New(a.Stack, "log-archive", logarchive.Props{
		Names: names, Sources: sources, Auditors: auditors,
		TransitionDays: l.TransitionDays, StorageClass: l.StorageClass, ExpireDays: l.ExpireDays,
		ObjectLockMode: l.ObjectLockMode, ObjectLockDays: l.ObjectLockDays,
		DeployRoleARN: a.Spec.DeployRoleARN(a.Env().Partition),
	})
	a.Output("cloudtrail_bucket", "Bucket receiving every account's CloudTrail logs", names.TrailBucket)
	a.Output("config_bucket", "Bucket receiving every account's AWS Config history", names.ConfigBucket)
	a.Output("access_log_bucket", "Bucket receiving the log buckets' S3 access logs", names.AccessLogBucket)
	a.Output("log_archive_key_arn", "KMS key encrypting the CloudTrail and Config logs", archive.Key.ARN)
	return archive
}

// addIAMUsers makes the security account's users and groups. Each group may
// assume its access level's role in each of its accounts.
func (a *Account) addIAMUsers() {
	b := a.Config.Baseline
	var groups []iamusers.Group
	for _, name := range slices.Sorted(maps.Keys(b.Groups)) {
		g := b.Groups[name]
		var arns []string
		for _, acct := range g.Accounts {
			arns = append(arns, crossaccount.RoleARN(a.Env().Partition, a.Config.Accounts[acct].ID, g.Access))
		}
		group := iamusers.Group{Name: name, RoleARNs: arns}
		if execs := a.Config.ExecAccounts(name); len(execs) > 0 {
			// The ECS Exec roles of the environments whose ecs.exec_groups
			// name the group (help/ecs-exec.md).
			var roles []string
			for _, acct := range execs {
				roles = append(roles, a.Env().Partition.Role(a.Config.Accounts[acct].ID, ecscluster.ExecRoleName(envName(a.Config, acct))))
			}
			group.Statements = append(group.Statements, iam.Allow(ExecAssumeSid, []string{"sts:AssumeRole"}, roles...).WithMFA())
		}
		if name == config.VPNGroupName {
			_, shared := a.Config.AccountOfKind(config.KindShared)
			group.Statements = vpn.DownloadOwnProfile(vpnProfileBucket(a.Config), a.Config.Region, shared.ID)
		}
		groups = append(groups, group)
	}
	var users []iamusers.User
	for _, name := range slices.Sorted(maps.Keys(b.Users)) {
		u := iamusers.User{Name: name}
		if b.Users[name] != nil {
			u.Groups = b.Users[name].Groups
		}
		users = append(users, u)
	}
	iamusers.New(a.Stack, "iam-users", iamusers.Props{Name: a.baselineName(), Groups: groups, Users: users})
	var names []string
	for _, g := range groups {
		names = append(names, g.Name)
	}
	a.Output("iam_group_names", "IAM groups users can be put in (besides all-users)", names)
}

// addAudit makes the account's trail, Config recorder, GuardDuty, Security
// Hub and account settings (the password policy included), and returns the
// trail's local log group.
func (a *Account) addAudit(archive logarchive.Names, accountIDs []string, securityID string, after []cdktf.ITerraformDependable, isSecurity bool) *loggroup.Group {
	b := a.Config.Baseline
	p := audit.Props{
		Name: a.baselineName(), Archive: archive, LogKey: a.LogKey(),
		LogRetentionDays:    b.CloudTrail.LogRetentionDays,
		S3DataEvents:        b.CloudTrail.S3DataEventsOn(),
		AggregatorAccountID: securityID,
		// The management account's Security Hub is the organization
		// stack's (organization.New).
		DisableSecurityHub: !b.SecurityHubOn() || a.Spec.Kind == config.KindManagement,
		After:              after,
	}
	// The password policy in every account (CIS 1.8, 1.9): users live in
	// the security account, but an administrator can create one anywhere.
	pp := b.PasswordPolicy
	p.PasswordPolicy = &audit.PasswordPolicy{MinLength: pp.MinLength, ReusePrevention: pp.ReusePrevention, MaxAgeDays: pp.MaxAgeDays}
	// The regional baseline in every watched region (help/regions.md).
	for _, r := range a.Config.OtherWatchedRegions() {
		p.Regions = append(p.Regions, audit.Region{Name: r, Provider: a.RegionProvider(r)})
	}
	if isSecurity {
		p.AggregateAccountIDs = accountIDs
		p.AggregateRegions = a.Config.WatchedRegions()
	}
	au := audit.New(a.Stack, "audit", p)
	if b.Macie {
		macie.New(a.Stack, "macie", macie.Props{})
	}
	a.Audit = au
	a.Output("cloudtrail_arn", "This account's multi-region trail", au.TrailARN)
	a.Output("cloudtrail_log_group_name", "Local CloudWatch copy of the trail", au.TrailLogGroup.Name)
	a.Output("guardduty_detector_id", "GuardDuty detector", au.Detector.Ref("id"))
	return au.TrailLogGroup
}
