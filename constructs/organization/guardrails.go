package organization

import (
	"slices"

	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/iam"
)

// Guardrails are the inputs of the landing zone's service control policies.
type Guardrails struct {
	// Partition is the organization's partition. Required.
	Partition awsenv.Partition
	// Regions are the regions in use; requests to regional services
	// anywhere else are denied. Required.
	Regions []string
	// DeployRoles are the names of the roles the landing zone deploys
	// through in every member account (each deploy_role and CI's
	// github-apply): they alone may reconfigure what the policies protect,
	// and they are themselves protected. Required.
	DeployRoles []string
	// ReadRoles may work outside Regions too, to read (CI's github-plan,
	// planning the regional baseline). Default: none.
	ReadRoles []string
	// ProtectedRoles are further role name patterns the landing zone makes
	// in every account (the cross-account roles "allow-*"), which only the
	// DeployRoles may change. Default: none.
	ProtectedRoles []string
	// ArchiveBuckets are the log archive's buckets. Required.
	ArchiveBuckets []string
}

// Policy names, without the config's prefix.
const (
	GuardrailsPolicy = "guardrails"
	AuditPolicy      = "protect-audit"
	RegionsPolicy    = "regions"
	ArchivePolicy    = "protect-log-archive"
)

// GlobalActions are the services and actions that AWS serves from one
// region (us-east-1) or globally whatever the caller's region, so that a
// region deny must not apply to them: AWS's documented example "Deny access
// to AWS based on the requested AWS Region" (SCP examples, AWS
// Organizations User Guide), as of 2025.
var GlobalActions = []string{
	"a4b:*", "access-analyzer:*", "account:*", "acm:*", "activate:*", "artifact:*",
	"aws-marketplace-management:*", "aws-marketplace:*", "aws-portal:*",
	"billing:*", "billingconductor:*", "budgets:*", "ce:*", "chatbot:*", "chime:*", "cloudfront:*",
	"cloudtrail:LookupEvents", "compute-optimizer:*", "config:*", "consoleapp:*", "consolidatedbilling:*", "cur:*",
	"datapipeline:GetAccountLimits", "devicefarm:*", "directconnect:*",
	"ec2:DescribeRegions", "ec2:DescribeTransitGateways", "ec2:DescribeVpnGateways", "ecr-public:*",
	"fms:*", "freetier:*", "globalaccelerator:*", "health:*", "iam:*", "importexport:*", "invoicing:*", "iq:*",
	"kms:*", "license-manager:ListReceivedLicenses", "lightsail:Get*", "mobileanalytics:*", "networkmanager:*",
	"notifications-contacts:*", "notifications:*", "organizations:*", "payments:*", "pricing:*",
	"quicksight:DescribeAccountSubscription", "resource-explorer-2:*",
	"route53-recovery-cluster:*", "route53-recovery-control-config:*", "route53-recovery-readiness:*", "route53:*", "route53domains:*",
	"s3:CreateMultiRegionAccessPoint", "s3:DeleteMultiRegionAccessPoint", "s3:DescribeMultiRegionAccessPointOperation",
	"s3:GetAccountPublicAccessBlock", "s3:GetBucketLocation", "s3:GetBucketPolicyStatus", "s3:GetBucketPublicAccessBlock",
	"s3:GetMultiRegionAccessPoint", "s3:GetMultiRegionAccessPointPolicy", "s3:GetMultiRegionAccessPointPolicyStatus",
	"s3:GetStorageLensConfiguration", "s3:GetStorageLensDashboard", "s3:ListAllMyBuckets", "s3:ListMultiRegionAccessPoints",
	"s3:ListStorageLensConfigurations", "s3:PutAccountPublicAccessBlock", "s3:PutMultiRegionAccessPointPolicy",
	"savingsplans:*", "shield:*", "sso:*", "sts:*", "support:*", "supportapp:*", "supportplans:*", "sustainability:*",
	"tag:GetResources", "tax:*", "trustedadvisor:*", "vendor-insights:ListEntitledSecurityProfiles",
	"waf-regional:*", "waf:*", "wafv2:*",
}

// AuditStops may never happen in a member account: turning off or
// deleting a trail, a Config recorder or its delivery, GuardDuty, Security
// Hub or Access Analyzer, or leaving their administrator. Removing the
// baseline means detaching AuditPolicy first (help/organization.md).
var AuditStops = []string{
	"access-analyzer:DeleteAnalyzer",
	"cloudtrail:DeleteTrail", "cloudtrail:StopLogging",
	"config:DeleteConfigurationRecorder", "config:DeleteDeliveryChannel", "config:DeleteRetentionConfiguration",
	"config:StopConfigurationRecorder",
	"guardduty:DeleteDetector", "guardduty:DeleteMembers", "guardduty:DisassociateFromAdministratorAccount",
	"guardduty:DisassociateFromMasterAccount", "guardduty:DisassociateMembers", "guardduty:StopMonitoringMembers",
	"securityhub:DeleteMembers", "securityhub:DisableSecurityHub", "securityhub:DisassociateFromAdministratorAccount",
	"securityhub:DisassociateFromMasterAccount", "securityhub:DisassociateMembers",
}

// AuditChanges reconfigure the audit services: only the deploy roles,
// which apply the baseline, may make them.
var AuditChanges = []string{
	"cloudtrail:PutEventSelectors", "cloudtrail:PutInsightSelectors", "cloudtrail:UpdateTrail",
	"config:PutConfigurationRecorder", "config:PutDeliveryChannel", "config:PutRetentionConfiguration",
	"guardduty:UpdateDetector", "guardduty:UpdateOrganizationConfiguration",
	"securityhub:BatchDisableStandards", "securityhub:UpdateOrganizationConfiguration",
}

// RoleChanges would let an account's administrator take over or remove a
// role the landing zone deploys through.
var RoleChanges = []string{
	"iam:AttachRolePolicy", "iam:CreateRole", "iam:DeleteRole", "iam:DeleteRolePermissionsBoundary", "iam:DeleteRolePolicy",
	"iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy",
	"iam:UpdateRole", "iam:UpdateRoleDescription",
}

// ArchiveDeletes may never happen to the log archive; S3 Lifecycle, which
// expires old logs, acts as the service and is not subject to SCPs.
var ArchiveDeletes = []string{"s3:DeleteBucket", "s3:DeleteObject", "s3:DeleteObjectVersion"}

// ArchiveChanges reconfigure the archive's buckets: only the deploy roles
// may.
var ArchiveChanges = []string{
	"s3:DeleteBucketPolicy", "s3:PutBucketObjectLockConfiguration", "s3:PutBucketPolicy", "s3:PutBucketPublicAccessBlock",
	"s3:PutBucketVersioning", "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration", "s3:PutReplicationConfiguration",
}

func (g Guardrails) roles(names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, g.Partition.Role("*", n))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// deployers matches the deploy roles' sessions.
func (g Guardrails) deployers() []string { return g.roles(g.DeployRoles) }

// Guardrails denies leaving the organization, everything the root user
// could do, and changes to the landing zone's own roles by anyone but
// those roles.
func (g Guardrails) Guardrails() iam.Document {
	protected := g.roles(append(slices.Clone(g.DeployRoles), append(slices.Clone(g.ReadRoles), g.ProtectedRoles...)...))
	return iam.Policy(
		iam.Deny("DenyLeaveOrganization", []string{"organizations:LeaveOrganization"}, "*"),
		iam.Deny("DenyRootUser", []string{"*"}, "*").When("ArnLike", "aws:PrincipalArn", g.Partition.IAM("*", "root")),
		iam.Deny("ProtectLandingZoneRoles", RoleChanges, protected...).When("ArnNotLike", "aws:PrincipalArn", g.deployers()...),
	)
}

// Audit denies stopping the audit services, and reconfiguring them to
// anyone but the deploy roles.
func (g Guardrails) Audit() iam.Document {
	return iam.Policy(
		iam.Deny("DenyAuditStops", AuditStops, "*"),
		iam.Deny("DenyAuditChanges", AuditChanges, "*").When("ArnNotLike", "aws:PrincipalArn", g.deployers()...),
	)
}

// RegionsDoc denies regional services outside Regions, except to the
// deploy and read roles (which deploy and plan the regional baseline in
// every region it watches).
func (g Guardrails) RegionsDoc() iam.Document {
	st := iam.Statement{Sid: "DenyOtherRegions", Effect: "Deny", NotAction: slices.Sorted(slices.Values(GlobalActions)), Resource: []string{"*"}}
	st = st.When("StringNotEquals", "aws:RequestedRegion", slices.Sorted(slices.Values(g.Regions))...).
		When("ArnNotLike", "aws:PrincipalArn", g.roles(append(slices.Clone(g.DeployRoles), g.ReadRoles...))...)
	return iam.Policy(st)
}

// Archive denies deleting the log archive, and reconfiguring its buckets
// to anyone but the deploy roles.
func (g Guardrails) Archive() iam.Document {
	var buckets, objects []string
	for _, b := range slices.Sorted(slices.Values(g.ArchiveBuckets)) {
		buckets = append(buckets, g.Partition.S3(b))
		objects = append(objects, g.Partition.S3(b), g.Partition.S3(b+"/*"))
	}
	return iam.Policy(
		iam.Deny("DenyArchiveDeletes", ArchiveDeletes, objects...),
		iam.Deny("DenyArchiveChanges", ArchiveChanges, buckets...).When("ArnNotLike", "aws:PrincipalArn", g.deployers()...),
	)
}
