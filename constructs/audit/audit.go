// Package audit makes the audit and threat-detection baseline of one
// account: a multi-region CloudTrail trail delivered to the logs account and
// copied to a local log group; AWS Config's CIS subset of managed rules;
// the regional baseline (regionalbaseline: GuardDuty, the Config recorder,
// Security Hub, an IAM Access Analyzer, EBS encryption by default, the
// locked default VPC) in the stack's region and every other watched
// region; and the account-wide settings (the S3 account public access block
// and the IAM password policy). In the security account it
// also makes the AWS Config aggregator.
//
// It does not own the buckets or key the trail and recorder write to (see
// logarchive), the cross-account roles (see crossaccount) or the users (see
// iamusers). Entry point: New.
package audit

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudtrail"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/configconfigurationaggregator"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamaccountpasswordpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3accountpublicaccessblock"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/constructs/logarchive"
	"github.com/acme/landing-zone/constructs/loggroup"
	"github.com/acme/landing-zone/constructs/regionalbaseline"
	"github.com/acme/landing-zone/constructs/role"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// DefaultLogRetentionDays keeps the local copy of the trail a year.
const DefaultLogRetentionDays = 365

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
	// S3DataEvents also records S3 object-level reads and writes in every
	// bucket but the trail bucket of Archive. Default: false (management
	// events only).
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
	// AggregateRegions are the regions the aggregator collects from.
	// Default: none, every region (all_regions).
	AggregateRegions []string
	// AggregatorAccountID lets that account's aggregator (in the stack's
	// region) collect this account's Config data from every region of the
	// baseline. Default: "", none.
	AggregatorAccountID string
	// Regions are the regions besides the stack's own where the regional
	// baseline (regionalbaseline: GuardDuty, Config recorder, Security
	// Hub, Access Analyzer, EBS encryption, locked default VPC) is made,
	// each through its provider. Default: none, the stack's region only.
	Regions []Region
	// KeepDefaultVPC leaves every region's default VPC unmanaged. Default:
	// false (locked; see regionalbaseline).
	KeepDefaultVPC bool
	// DisableSecurityHub leaves Security Hub off. Default: false (on).
	DisableSecurityHub bool
	// After are resources the trail and Config delivery must wait for: the
	// logs account passes its archive's Ready(). Default: none.
	After []cdktf.ITerraformDependable
}

// Region is a region of the regional baseline and the AWS provider that
// deploys there.
type Region struct {
	Name     string
	Provider cdktf.TerraformProvider
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
	// Recorder, Detector and SecurityHub are the stack's region's (the
	// home region's); Regions has every region's, the home region's too.
	Recorder tf.Resource
	Detector tf.Resource
	Regions  map[string]*regionalbaseline.Baseline
	// Aggregator is nil unless AggregateAccountIDs is set.
	Aggregator configconfigurationaggregator.ConfigConfigurationAggregator
	// SecurityHub is nil when DisableSecurityHub is set.
	SecurityHub *tf.Resource
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
		// Every bucket but the one the trails deliver to, whose delivery
		// writes would log themselves in a loop (AWS's warning); reads and
		// writes (CIS 3.8, 3.9). The Config and access-log buckets are
		// logged: their writes land in the trail bucket, which is not.
		f := fields(field{"eventCategory", "Data"}, field{"resources.type", "AWS::S3::Object"})
		*f = append(*f, &cloudtrail.CloudtrailAdvancedEventSelectorFieldSelector{Field: tf.S("resources.ARN"), NotStartsWith: tf.Strs(env.Partition.S3(p.Archive.TrailBucket + "/"))})
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

func accountSettings(s constructs.Construct, env awsenv.Env, p Props) {
	s3accountpublicaccessblock.NewS3AccountPublicAccessBlock(s, tf.S("s3-public-access-block"), &s3accountpublicaccessblock.S3AccountPublicAccessBlockConfig{
		AccountId:             tf.S(env.Account),
		BlockPublicAcls:       tf.B(true),
		BlockPublicPolicy:     tf.B(true),
		IgnorePublicAcls:      tf.B(true),
		RestrictPublicBuckets: tf.B(true),
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
