package stacks

import (
	"strings"

	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/crossaccount"
	"github.com/acme/landing-zone/constructs/logarchive"
	"github.com/acme/landing-zone/constructs/organization"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/ci"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/tf"
)

// Organizational units: the logs and security accounts in Security,
// shared-services in Infrastructure, the app accounts in Workloads' Prod
// (the prod profile) or NonProd.
const (
	OUSecurity       = "Security"
	OUInfrastructure = "Infrastructure"
	OUWorkloads      = "Workloads"
	OUProd           = "Prod"
	OUNonProd        = "NonProd"
)

// NewOrganization makes the management account's stack, when the config
// has one (help/organization.md): the organization, its OUs, the member
// accounts adopted into them, the service control policies and the
// delegated administrators. It deploys first: logs waits for it. People
// deploy it with the management account's deploy_role, never CI (there is
// no CI role in the management account), so its chain is a person's in
// every mode. It returns nil without a management account.
func NewOrganization(app cdktf.App, cfg *config.Config, opts Options) *Account {
	a := newManagementStack(app, cfg, func(name string) string { return name }, opts)
	if a == nil {
		return nil
	}
	_, sec := cfg.AccountOfKind(config.KindSecurity)
	o := organization.New(a.Stack, "organization", organization.Props{
		OUs: []organization.OU{
			{Name: OUSecurity}, {Name: OUInfrastructure}, {Name: OUWorkloads},
			{Name: OUProd, Parent: OUWorkloads}, {Name: OUNonProd, Parent: OUWorkloads},
		},
		Accounts:         memberAccounts(cfg),
		Policies:         ServiceControlPolicies(cfg),
		DelegatedAdminID: sec.ID,
		Regions:          a.otherRegions(),
		// Import reads AWS: an offline plan has no AWS to read, and plans
		// the same resources as created instead (help/organization.md).
		Adopt: !opts.Offline,
	})
	a.Output("organization_id", "The organization", o.Org.Id())
	a.Output("root_id", "The organization's root", o.Org.Roots().Get(tf.N(0)).Id())
	return a
}

// NewManagementBaseline makes the management account's second stack, when
// the config has one: the security baseline every other account has (a
// trail into the log archive with its metric filters, Config, GuardDuty,
// Access Analyzer, EBS encryption and the locked default VPC in every
// watched region, the password policy, a support role, the finding rules
// and alarm topics). Security Hub is the organization stack's, which turns
// it on before designating the administrator. It deploys after logs and
// security, by a person, like the organization stack.
func NewManagementBaseline(app cdktf.App, cfg *config.Config, opts Options) *Account {
	return newManagementStack(app, cfg, config.ManagementBaselineStack, opts)
}

// newManagementStack makes a stack of the management account named
// stackName(account), deployed by a person in every mode (there is no CI
// role in the management account); nil without a management account.
func newManagementStack(app cdktf.App, cfg *config.Config, stackName func(string) string, opts Options) *Account {
	name, _ := cfg.Management()
	if name == "" {
		return nil
	}
	human := opts
	human.CI = ci.Human
	return newAccount(app, cfg, name, stackName(name), remoteState, human)
}

// otherRegions are the watched regions besides the home region, each with
// the stack's provider there.
func (a *Account) otherRegions() []organization.Region {
	var out []organization.Region
	for _, r := range a.Config.OtherWatchedRegions() {
		out = append(out, organization.Region{Name: r, Provider: a.RegionProvider(r)})
	}
	return out
}

// memberAccounts places every account of the config but the management
// account in its OU.
func memberAccounts(cfg *config.Config) []organization.Account {
	var out []organization.Account
	for _, name := range cfg.MemberAccountNames() {
		a := cfg.Accounts[name]
		out = append(out, organization.Account{Key: name, ID: a.ID, Name: cfg.NamePrefix + "-" + name, Email: a.Email, OU: OUOf(a)})
	}
	return out
}

// OUOf is the OU a member account is moved into.
func OUOf(a *config.Account) string {
	switch {
	case a.Kind == config.KindLogs || a.Kind == config.KindSecurity:
		return OUSecurity
	case a.Kind == config.KindShared:
		return OUInfrastructure
	case a.Profile == config.ProfileProd:
		return OUProd
	}
	return OUNonProd
}

// Guardrails are the inputs of the SCPs: the deploy roles are every member
// account's deploy_role and CI's github-apply.
func Guardrails(cfg *config.Config) organization.Guardrails {
	part := awsenv.PartitionOf(cfg.Region)
	deploy := []string{ci.ApplyRole}
	for _, name := range cfg.MemberAccountNames() {
		arn := cfg.Accounts[name].DeployRoleARN(part)
		deploy = append(deploy, arn[strings.Index(arn, ":role/")+len(":role/"):])
	}
	logsName, logs := cfg.AccountOfKind(config.KindLogs)
	archive := logarchive.NamesFor(cfg.NamePrefix, logsName, awsenv.New(logs.ID, cfg.Region))
	return organization.Guardrails{
		Partition: part, Regions: cfg.RegionsInUse(), DeployRoles: deploy, ReadRoles: []string{ci.PlanRole},
		ProtectedRoles: []string{crossaccount.RoleName("*"), "github-*", cfg.NamePrefix + "-*"},
		ArchiveBuckets: []string{archive.TrailBucket, archive.ConfigBucket, archive.AccessLogBucket},
	}
}

// ServiceControlPolicies are the landing zone's SCPs and where they are
// attached: the guardrails, the audit services and the regions at the
// root (every member account), the log archive's on the Security OU.
func ServiceControlPolicies(cfg *config.Config) []organization.Policy {
	g, p := Guardrails(cfg), cfg.NamePrefix+"-"
	root := []string{organization.Root}
	return []organization.Policy{
		{Name: p + organization.GuardrailsPolicy, Description: "Deny leaving the organization, the root user, and changes to the landing zone's roles", Document: g.Guardrails(), Targets: root},
		{Name: p + organization.AuditPolicy, Description: "Deny stopping CloudTrail, Config, GuardDuty, Security Hub and Access Analyzer", Document: g.Audit(), Targets: root},
		{Name: p + organization.RegionsPolicy, Description: "Deny regional services outside the regions in use", Document: g.RegionsDoc(), Targets: root},
		{Name: p + organization.ArchivePolicy, Description: "Deny deleting or reconfiguring the log archive", Document: g.Archive(), Targets: []string{OUSecurity}},
	}
}
