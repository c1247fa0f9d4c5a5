// Package audit makes the audit and threat-detection baseline of one
// account: a multi-region CloudTrail trail delivered to the logs account and
// copied to a local log group; AWS Config recording every resource with a
// CIS subset of managed rules; a GuardDuty detector; Security Hub with the
// CIS and AWS Foundational Security Best Practices standards; and the
// account-wide settings (EBS encryption by default, the S3 account public
// access block, an IAM Access Analyzer and, where users live, the password
// policy). In the security account it also makes the AWS Config aggregator.
//
// It does not own the buckets or key the trail and recorder write to (see
// logarchive), the cross-account roles (see crossaccount) or the users (see
// iamusers). Entry point: New.
package audit

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/accessanalyzeranalyzer"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudtrail"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/configconfigurationaggregator"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/configconfigurationrecorder"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ebsencryptionbydefault"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/guarddutydetector"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/guarddutydetectorfeature"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamaccountpasswordpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3accountpublicaccessblock"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/securityhubaccount"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/securityhubstandardssubscription"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/constructs/logarchive"
	"github.com/acme/landing-zone/constructs/loggroup"
	"github.com/acme/landing-zone/constructs/role"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// DefaultLogRetentionDays keeps the local copy of the trail a year.
const DefaultLogRetentionDays = 365

// FindingFrequency is how often GuardDuty publishes updated findings: the
// shortest it allows, so alerts are not held back for hours.
const FindingFrequency = "FIFTEEN_MINUTES"

// Props configures the baseline of the account the enclosing stack deploys
// to (tf.EnvOf), in its region.
type Props struct {
	// Name is "<prefix>-<account>"; it names the trail, recorder, log group
	// and analyzer. Required.
	Name string
	// Archive names the logs account's buckets and key. Required.
	Archive logarchive.Names
	// LogKey encrypts the trail's local log group; its policy must admit
	// CloudWatch Logs (kms.LogsStatement). Required.
	LogKey *kms.Key
	// LogRetentionDays keeps the trail's local log group this long.
	// Default: 365.
	LogRetentionDays int
	// S3DataEvents also records S3 object-level events in every bucket but
	// the archive's. Default: false (management events only).
	S3DataEvents bool
	// SecondaryRegion stops recording global resources (IAM), which only the
	// primary region should record to avoid duplicates. Default: false.
	SecondaryRegion bool
	// PasswordPolicy sets the account's IAM password policy and checks it
	// with a Config rule. Default: nil, for accounts without IAM users.
	PasswordPolicy *PasswordPolicy
	// AggregateAccountIDs makes this account the AWS Config aggregator for
	// those accounts. Default: none.
	AggregateAccountIDs []string
	// AggregatorAccountID lets that account's aggregator collect this
	// account's Config data. Default: "", none.
	AggregatorAccountID string
	// DisableSecurityHub leaves Security Hub off. Default: false (on).
	DisableSecurityHub bool
	// After are resources the trail and Config delivery must wait for: the
	// logs account passes its archive's Ready(). Default: none.
	After []cdktf.ITerraformDependable
}

// PasswordPolicy is an IAM account password policy. Passwords always need
// upper and lower case letters, digits and symbols.
type PasswordPolicy struct {
	MinLength, ReusePrevention, MaxAgeDays int
}

// Audit is the created baseline.
type Audit struct {
	Trail         cloudtrail.Cloudtrail
	TrailARN      string
	TrailLogGroup *loggroup.Group
	Recorder      configconfigurationrecorder.ConfigConfigurationRecorder
	Detector      guarddutydetector.GuarddutyDetector
	// Aggregator is nil unless AggregateAccountIDs is set.
	Aggregator configconfigurationaggregator.ConfigConfigurationAggregator
	// SecurityHub is nil when DisableSecurityHub is set.
	SecurityHub securityhubaccount.SecurityhubAccount
}

// TrailARN is the ARN of the trail New makes for Name in the account and
// region env, known at synth time so that the logs account can admit
// exactly these trails.
func TrailARN(env awsenv.Env, name string) string {
	return env.ARN("cloudtrail", "trail/"+name)
}

// New creates the baseline under a scope named id.
func New(scope constructs.Construct, id string, p Props) *Audit {
	if p.Name == "" || p.LogKey == nil || p.Archive.TrailBucket == "" {
		panic("audit.New: Name, Archive and LogKey are required (" + id + ")")
	}
	env := tf.EnvOf(scope)
	if p.LogRetentionDays == 0 {
		p.LogRetentionDays = DefaultLogRetentionDays
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	out := &Audit{}
	out.trail(s, env, p)
	out.recorder(s, env, p)
	out.detector(s)
	if !p.DisableSecurityHub {
		out.securityHub(s, env)
	}
	accountSettings(s, env, p)
	return out
}

// trail records management events in every region to the logs account, and
// to a local log group for metric filters and quick searches.
func (a *Audit) trail(s constructs.Construct, env awsenv.Env, p Props) {
	group := loggroup.New(s, "trail-logs", loggroup.Props{
		Name: p.Name + "-cloudtrail", RetentionDays: p.LogRetentionDays, Key: p.LogKey,
	})
	writer := role.New(s, "trail-logs-role", role.Props{
		Name:  p.Name + "-cloudtrail-logs",
		Trust: iam.ServiceTrust("cloudtrail.amazonaws.com", env.Account),
		Statements: []iam.Statement{iam.Allow("WriteTrailLogs",
			[]string{"logs:CreateLogStream", "logs:PutLogEvents"}, group.StreamsARN)},
		PolicyName: "write-cloudtrail-logs", PolicyID: "trail-logs-policy",
	})
	selectors := []*cloudtrail.CloudtrailAdvancedEventSelector{{
		Name:          tf.S("Management events"),
		FieldSelector: fields(field{"eventCategory", "Management"}),
	}}
	if p.S3DataEvents {
		// Logging writes to the archive would log themselves in a loop.
		var archive []string
		for _, b := range []string{p.Archive.TrailBucket, p.Archive.ConfigBucket, p.Archive.AccessLogBucket} {
			archive = append(archive, env.Partition.S3(b+"/"))
		}
		f := fields(field{"eventCategory", "Data"}, field{"resources.type", "AWS::S3::Object"})
		*f = append(*f, &cloudtrail.CloudtrailAdvancedEventSelectorFieldSelector{Field: tf.S("resources.ARN"), NotStartsWith: tf.Strs(archive...)})
		selectors = append(selectors, &cloudtrail.CloudtrailAdvancedEventSelector{Name: tf.S("S3 data events"), FieldSelector: f})
	}
	a.TrailARN = TrailARN(env, p.Name)
	a.TrailLogGroup = group
	a.Trail = cloudtrail.NewCloudtrail(s, tf.S("trail"), &cloudtrail.CloudtrailConfig{
		Name:                       tf.S(p.Name),
		S3BucketName:               tf.S(p.Archive.TrailBucket),
		KmsKeyId:                   tf.S(p.Archive.KeyAliasARN),
		IsMultiRegionTrail:         tf.B(true),
		IncludeGlobalServiceEvents: tf.B(true),
		EnableLogFileValidation:    tf.B(true),
		EnableLogging:              tf.B(true),
		CloudWatchLogsGroupArn:     tf.S(group.StreamsARN),
		CloudWatchLogsRoleArn:      writer.Role.Arn(),
		AdvancedEventSelector:      &selectors,
		Tags:                       tf.Name(p.Name),
		DependsOn:                  dependsOn(p.After, group.Resource, writer.Policy),
		// CloudTrail stores the key's ARN in place of the alias ARN given
		// here (the key's own ARN is unknown outside the logs account), so
		// every plan would show a change. Removing the key is still caught:
		// the cloud-trail-encryption-enabled rule and Security Hub flag it.
		Lifecycle: &cdktf.TerraformResourceLifecycle{IgnoreChanges: &[]*string{tf.S("kms_key_id")}},
	})
}

type field struct{ name, equals string }

func fields(fs ...field) *[]*cloudtrail.CloudtrailAdvancedEventSelectorFieldSelector {
	out := []*cloudtrail.CloudtrailAdvancedEventSelectorFieldSelector{}
	for _, f := range fs {
		out = append(out, &cloudtrail.CloudtrailAdvancedEventSelectorFieldSelector{Field: tf.S(f.name), EqualTo: tf.Strs(f.equals)})
	}
	return &out
}

func dependsOn(after []cdktf.ITerraformDependable, more ...cdktf.ITerraformDependable) *[]cdktf.ITerraformDependable {
	all := append(append([]cdktf.ITerraformDependable{}, after...), more...)
	return &all
}

// detector turns on GuardDuty with S3 and EBS malware protection.
func (a *Audit) detector(s constructs.Construct) {
	a.Detector = guarddutydetector.NewGuarddutyDetector(s, tf.S("guardduty"), &guarddutydetector.GuarddutyDetectorConfig{
		Enable:                     tf.B(true),
		FindingPublishingFrequency: tf.S(FindingFrequency),
	})
	// Features rather than the detector's datasources block, which provider
	// 5.x deprecates.
	detector := a.Detector.Id()
	for _, f := range []string{"S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION"} {
		guarddutydetectorfeature.NewGuarddutyDetectorFeature(s, tf.S("guardduty-"+f), &guarddutydetectorfeature.GuarddutyDetectorFeatureConfig{
			DetectorId: detector, Name: tf.S(f), Status: tf.S("ENABLED"),
		})
	}
}

// Standards are the Security Hub standards subscribed to, by short name.
var Standards = map[string]string{
	"cis":  "standards/cis-aws-foundations-benchmark/v/1.4.0",
	"fsbp": "standards/aws-foundational-security-best-practices/v/1.0.0",
}

func (a *Audit) securityHub(s constructs.Construct, env awsenv.Env) {
	a.SecurityHub = securityhubaccount.NewSecurityhubAccount(s, tf.S("securityhub"), &securityhubaccount.SecurityhubAccountConfig{
		// The defaults include the older CIS 1.2; subscribe explicitly.
		EnableDefaultStandards:  tf.B(false),
		AutoEnableControls:      tf.B(true),
		ControlFindingGenerator: tf.S("SECURITY_CONTROL"),
	})
	for _, name := range []string{"cis", "fsbp"} {
		securityhubstandardssubscription.NewSecurityhubStandardsSubscription(s, tf.S("securityhub-"+name), &securityhubstandardssubscription.SecurityhubStandardsSubscriptionConfig{
			StandardsArn: tf.S(env.Partition.ARN("securityhub", env.Region, "", Standards[name])),
			DependsOn:    &[]cdktf.ITerraformDependable{a.SecurityHub},
		})
	}
}

func accountSettings(s constructs.Construct, env awsenv.Env, p Props) {
	ebsencryptionbydefault.NewEbsEncryptionByDefault(s, tf.S("ebs-encryption"), &ebsencryptionbydefault.EbsEncryptionByDefaultConfig{
		Enabled: tf.B(true),
	})
	s3accountpublicaccessblock.NewS3AccountPublicAccessBlock(s, tf.S("s3-public-access-block"), &s3accountpublicaccessblock.S3AccountPublicAccessBlockConfig{
		AccountId:             tf.S(env.Account),
		BlockPublicAcls:       tf.B(true),
		BlockPublicPolicy:     tf.B(true),
		IgnorePublicAcls:      tf.B(true),
		RestrictPublicBuckets: tf.B(true),
	})
	accessanalyzeranalyzer.NewAccessanalyzerAnalyzer(s, tf.S("access-analyzer"), &accessanalyzeranalyzer.AccessanalyzerAnalyzerConfig{
		AnalyzerName: tf.S(p.Name),
		Type:         tf.S("ACCOUNT"),
		Tags:         tf.Name(p.Name),
	})
	if pp := p.PasswordPolicy; pp != nil {
		iamaccountpasswordpolicy.NewIamAccountPasswordPolicy(s, tf.S("password-policy"), &iamaccountpasswordpolicy.IamAccountPasswordPolicyConfig{
			MinimumPasswordLength:      tf.N(pp.MinLength),
			PasswordReusePrevention:    tf.N(pp.ReusePrevention),
			MaxPasswordAge:             tf.N(pp.MaxAgeDays),
			RequireLowercaseCharacters: tf.B(true),
			RequireUppercaseCharacters: tf.B(true),
			RequireNumbers:             tf.B(true),
			RequireSymbols:             tf.B(true),
			AllowUsersToChangePassword: tf.B(true),
		})
	}
}
