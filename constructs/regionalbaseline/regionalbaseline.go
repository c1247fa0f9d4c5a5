// Package regionalbaseline makes the part of an account's security
// baseline that AWS scopes to one region: a GuardDuty detector with its
// protection plans (S3, EBS malware, RDS login, Lambda network and runtime
// monitoring of ECS Fargate and EC2), an AWS Config recorder delivering to
// the logs account, Security Hub with the CIS v3.0.0 and AWS Foundational
// Security Best Practices standards, an IAM Access Analyzer, EBS encryption
// by default, and the region's default VPC locked (no security group
// rules, no network ACL rules). An attacker works where nobody watches, so
// the stacks make one per watched region in every account (help/regions.md).
//
// It does not make what is global or made once per account: the trail, the
// Config service-linked role and rules, the aggregator, the S3 account
// public access block or the password policy (see audit, which also makes
// the home region's instance). Entry point: New.
package regionalbaseline

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/accessanalyzeranalyzer"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/configaggregateauthorization"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/configconfigurationrecorder"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/configconfigurationrecorderstatus"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/configdeliverychannel"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/defaultnetworkacl"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/defaultsecuritygroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/defaultvpc"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ebsencryptionbydefault"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/guarddutydetector"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/guarddutydetectorfeature"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/securityhubaccount"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/securityhubstandardssubscription"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/internal/guardrails"
	"github.com/acme/landing-zone/internal/tf"
)

// FindingFrequency is how often GuardDuty publishes updated findings: the
// shortest it allows, so alerts are not held back for hours.
const FindingFrequency = "FIFTEEN_MINUTES"

// Feature is a GuardDuty protection plan turned on in every region, with
// the agents GuardDuty manages for it.
type Feature struct {
	Name   string
	Agents []string
}

// Features are the GuardDuty protection plans every detector turns on.
// Runtime monitoring lets GuardDuty manage its agent on ECS Fargate tasks
// and EC2 instances (the ECS hosts): both are supported in every region
// enabled by default. EKS add-on management stays off: there is no EKS.
var Features = []Feature{
	{Name: "S3_DATA_EVENTS"},
	{Name: "EBS_MALWARE_PROTECTION"},
	{Name: "RDS_LOGIN_EVENTS"},
	{Name: "LAMBDA_NETWORK_LOGS"},
	{Name: "RUNTIME_MONITORING", Agents: []string{"ECS_FARGATE_AGENT_MANAGEMENT", "EC2_AGENT_MANAGEMENT"}},
}

// Standards are the Security Hub standards subscribed to, by short name
// (the resource ID is "securityhub-<name>").
var Standards = map[string]string{
	"cis":  "standards/cis-aws-foundations-benchmark/v/3.0.0",
	"fsbp": "standards/aws-foundational-security-best-practices/v/1.0.0",
}

// Props configures the baseline of the enclosing stack's account in the
// region of scope (tf.EnvOf; tf.InRegion makes a scope in another region).
type Props struct {
	// Name is "<prefix>-<account>"; it names the recorder, delivery
	// channel and analyzer (names are per region). Required.
	Name string
	// ConfigBucket is the logs account's AWS Config bucket, in the home
	// region; Config delivers there from every region. Required.
	ConfigBucket string
	// ConfigRoleARN is AWS Config's service-linked role (IAM is global:
	// one role serves every region). Required.
	ConfigRoleARN *string
	// Provider is the AWS provider of scope's region. Default: nil, the
	// stack's default provider (the home region).
	Provider cdktf.TerraformProvider
	// Home records global resource types (IAM) in this region's recorder;
	// exactly one region, the home region, must, to avoid duplicates.
	// Default: false.
	Home bool
	// DisableSecurityHub leaves Security Hub off. Default: false (on).
	DisableSecurityHub bool
	// AggregatorAccountID and AggregatorRegion let that account's
	// aggregator, in that region, collect this region's Config data.
	// Default: "", none (also when it is this account).
	AggregatorAccountID, AggregatorRegion string
	// KeepDefaultVPC leaves the region's default VPC unmanaged. Default:
	// false: the default VPC is adopted (or created where it was deleted)
	// and locked: its default security group and network ACL lose every
	// rule.
	KeepDefaultVPC bool
	// After are resources Config delivery must wait for: the logs account
	// passes its archive's Ready(). Default: none.
	After []cdktf.ITerraformDependable
}

// Baseline is one region's baseline.
type Baseline struct {
	Region   string
	Detector guarddutydetector.GuarddutyDetector
	Recorder configconfigurationrecorder.ConfigConfigurationRecorder
	// RecorderStatus is what Config rules must wait for.
	RecorderStatus configconfigurationrecorderstatus.ConfigConfigurationRecorderStatus
	// SecurityHub is nil when DisableSecurityHub is set.
	SecurityHub securityhubaccount.SecurityhubAccount
	Analyzer    accessanalyzeranalyzer.AccessanalyzerAnalyzer
}

// New adds the baseline to scope itself, not under a new construct, so
// that the home region's resources keep the addresses they had when audit
// made them (the resource IDs below are those).
func New(scope constructs.Construct, p Props) *Baseline {
	if p.Name == "" || p.ConfigBucket == "" || p.ConfigRoleARN == nil {
		panic("regionalbaseline.New: Name, ConfigBucket and ConfigRoleARN are required (" + *scope.Node().Path() + ")")
	}
	env := tf.EnvOf(scope)
	b := &Baseline{Region: env.Region}
	b.detector(scope, p)
	b.recorder(scope, p)
	if !p.DisableSecurityHub {
		b.securityHub(scope, p)
	}
	b.Analyzer = accessanalyzeranalyzer.NewAccessanalyzerAnalyzer(scope, tf.S("access-analyzer"), &accessanalyzeranalyzer.AccessanalyzerAnalyzerConfig{
		Provider:     p.Provider,
		AnalyzerName: tf.S(p.Name),
		Type:         tf.S("ACCOUNT"),
		Tags:         tf.Name(p.Name),
	})
	ebsencryptionbydefault.NewEbsEncryptionByDefault(scope, tf.S("ebs-encryption"), &ebsencryptionbydefault.EbsEncryptionByDefaultConfig{
		Provider: p.Provider,
		Enabled:  tf.B(true),
	})
	if !p.KeepDefaultVPC {
		lockDefaultVPC(scope, p)
	}
	return b
}

// detector turns on GuardDuty with the Features.
func (b *Baseline) detector(s constructs.Construct, p Props) {
	b.Detector = guarddutydetector.NewGuarddutyDetector(s, tf.S("guardduty"), &guarddutydetector.GuarddutyDetectorConfig{
		Provider:                   p.Provider,
		Enable:                     tf.B(true),
		FindingPublishingFrequency: tf.S(FindingFrequency),
	})
	// Features rather than the detector's datasources block, which provider
	// 5.x deprecates.
	for _, f := range Features {
		c := &guarddutydetectorfeature.GuarddutyDetectorFeatureConfig{
			Provider: p.Provider, DetectorId: b.Detector.Id(), Name: tf.S(f.Name), Status: tf.S("ENABLED"),
		}
		if len(f.Agents) > 0 {
			var agents []*guarddutydetectorfeature.GuarddutyDetectorFeatureAdditionalConfiguration
			for _, a := range f.Agents {
				agents = append(agents, &guarddutydetectorfeature.GuarddutyDetectorFeatureAdditionalConfiguration{Name: tf.S(a), Status: tf.S("ENABLED")})
			}
			c.AdditionalConfiguration = &agents
		}
		guarddutydetectorfeature.NewGuarddutyDetectorFeature(s, tf.S("guardduty-"+f.Name), c)
	}
}

// recorder records every resource type (global ones only at home) and
// delivers to the logs account.
func (b *Baseline) recorder(s constructs.Construct, p Props) {
	env := tf.EnvOf(s)
	b.Recorder = configconfigurationrecorder.NewConfigConfigurationRecorder(s, tf.S("config-recorder"), &configconfigurationrecorder.ConfigConfigurationRecorderConfig{
		Provider: p.Provider,
		Name:     tf.S(p.Name),
		RoleArn:  p.ConfigRoleARN,
		RecordingGroup: &configconfigurationrecorder.ConfigConfigurationRecorderRecordingGroup{
			AllSupported:               tf.B(true),
			IncludeGlobalResourceTypes: tf.B(p.Home),
		},
	})
	// No s3_kms_key_arn: the bucket's default encryption applies the
	// archive key, and Config would store the alias ARN as given.
	channel := configdeliverychannel.NewConfigDeliveryChannel(s, tf.S("config-channel"), &configdeliverychannel.ConfigDeliveryChannelConfig{
		Provider:                   p.Provider,
		Name:                       tf.S(p.Name),
		S3BucketName:               tf.S(p.ConfigBucket),
		SnapshotDeliveryProperties: &configdeliverychannel.ConfigDeliveryChannelSnapshotDeliveryProperties{DeliveryFrequency: tf.S("TwentyFour_Hours")},
		DependsOn:                  dependsOn(p.After, b.Recorder),
	})
	b.RecorderStatus = configconfigurationrecorderstatus.NewConfigConfigurationRecorderStatus(s, tf.S("config-recorder-status"), &configconfigurationrecorderstatus.ConfigConfigurationRecorderStatusConfig{
		Provider:  p.Provider,
		Name:      b.Recorder.Name(),
		IsEnabled: tf.B(true),
		DependsOn: &[]cdktf.ITerraformDependable{channel},
	})
	if p.AggregatorAccountID != "" && p.AggregatorAccountID != env.Account {
		// The authorization lives in the source region and names the
		// aggregator's region.
		configaggregateauthorization.NewConfigAggregateAuthorization(s, tf.S("config-aggregator-authorization"), &configaggregateauthorization.ConfigAggregateAuthorizationConfig{
			Provider:  p.Provider,
			AccountId: tf.S(p.AggregatorAccountID),
			Region:    tf.S(p.AggregatorRegion),
		})
	}
}

func (b *Baseline) securityHub(s constructs.Construct, p Props) {
	b.SecurityHub = SecurityHub(s, p.Provider)
}

// SecurityHub turns Security Hub on in scope's region, through provider
// (nil: the stack's default), subscribed to Standards. The organization
// stack uses it for the management account, whose Security Hub must be on
// before it designates the delegated administrator in that region.
func SecurityHub(s constructs.Construct, provider cdktf.TerraformProvider) securityhubaccount.SecurityhubAccount {
	env := tf.EnvOf(s)
	hub := securityhubaccount.NewSecurityhubAccount(s, tf.S("securityhub"), &securityhubaccount.SecurityhubAccountConfig{
		Provider: provider,
		// The defaults include the older CIS 1.2; subscribe explicitly.
		EnableDefaultStandards:  tf.B(false),
		AutoEnableControls:      tf.B(true),
		ControlFindingGenerator: tf.S("SECURITY_CONTROL"),
	})
	for _, name := range []string{"cis", "fsbp"} {
		securityhubstandardssubscription.NewSecurityhubStandardsSubscription(s, tf.S("securityhub-"+name), &securityhubstandardssubscription.SecurityhubStandardsSubscriptionConfig{
			Provider:     provider,
			StandardsArn: tf.S(env.Partition.ARN("securityhub", env.Region, "", Standards[name])),
			DependsOn:    &[]cdktf.ITerraformDependable{hub},
		})
	}
	return hub
}

// lockDefaultVPC strips the region's default VPC: the landing zone never
// uses it, and a default VPC has public subnets and a security group that
// admits its own members, which is where an instance launched by mistake
// (or by an attacker) lands. aws_default_vpc adopts it without a lookup,
// so the stacks plan without AWS access (a data source would be read at
// plan time); where it was deleted, AWS recreates it, locked. Emptying
// the security group (CIS 5.4, Security Hub EC2.2) and the network ACL
// leaves it inert.
func lockDefaultVPC(s constructs.Construct, p Props) {
	vpc := defaultvpc.NewDefaultVpc(s, tf.S("default-vpc"), &defaultvpc.DefaultVpcConfig{
		Provider: p.Provider,
		Tags:     tf.Name(p.Name + "-default-vpc-locked"),
	})
	guardrails.WaiveScan(vpc, "AWS-0101",
		"adopted only to lock it: its security group and network ACL are emptied below and nothing is created in it")
	defaultsecuritygroup.NewDefaultSecurityGroup(s, tf.S("default-vpc-sg"), &defaultsecuritygroup.DefaultSecurityGroupConfig{
		Provider: p.Provider,
		VpcId:    vpc.Id(),
		Tags:     tf.Name(p.Name + "-default-vpc-no-rules"),
	})
	defaultnetworkacl.NewDefaultNetworkAcl(s, tf.S("default-vpc-nacl"), &defaultnetworkacl.DefaultNetworkAclConfig{
		Provider:            p.Provider,
		DefaultNetworkAclId: vpc.DefaultNetworkAclId(),
		Tags:                tf.Name(p.Name + "-default-vpc-no-rules"),
		// The default subnets stay associated; listing them would need a
		// lookup.
		Lifecycle: &cdktf.TerraformResourceLifecycle{IgnoreChanges: &[]*string{tf.S("subnet_ids")}},
	})
}

func dependsOn(after []cdktf.ITerraformDependable, more ...cdktf.ITerraformDependable) *[]cdktf.ITerraformDependable {
	all := append(append([]cdktf.ITerraformDependable{}, after...), more...)
	return &all
}
