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
// the home region's instance). Entry points: New, NewIn, SecurityHub.
//
// Its resources are raw (tf.RawScope): written as Terraform JSON by Go, at
// the addresses CDKTF would give them as constructs. There are about 20
// per account and watched region, 1,900 in the example config, and as
// jsii constructs they cost most of the synth time budget.
package regionalbaseline

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/internal/awsenv"
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
// region of scope (tf.EnvOf), or of NewIn's env.
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

// Baseline is one region's baseline: the addresses of what other
// resources refer to or wait for.
type Baseline struct {
	Region   string
	Detector tf.Resource
	Recorder tf.Resource
	// RecorderStatus is what Config rules must wait for.
	RecorderStatus tf.Resource
	// SecurityHub is nil when DisableSecurityHub is set.
	SecurityHub *tf.Resource
	Analyzer    tf.Resource
}

// New adds the baseline to scope itself, not under a new construct, so
// that the home region's resources keep the addresses they had when audit
// made them (the resource IDs below are those).
func New(scope constructs.Construct, p Props) *Baseline {
	return NewIn(tf.RawScopeOf(scope), tf.EnvOf(scope), p)
}

// NewIn adds the baseline at raw scope s, which need not be a construct
// (audit names each other region's by one), for env's account and
// region. p.Provider must be that region's.
func NewIn(s *tf.RawScope, env awsenv.Env, p Props) *Baseline {
	if p.Name == "" || p.ConfigBucket == "" || p.ConfigRoleARN == nil {
		panic("regionalbaseline.New: Name, ConfigBucket and ConfigRoleARN are required (" + p.Name + " in " + env.Region + ")")
	}
	r := s.Using(p.Provider)
	b := &Baseline{Region: env.Region}
	b.detector(r)
	b.recorder(r, env.Account, p)
	if !p.DisableSecurityHub {
		hub := securityHub(r, env)
		b.SecurityHub = &hub
	}
	b.Analyzer = r.Add("aws_accessanalyzer_analyzer", "access-analyzer", map[string]any{
		"analyzer_name": p.Name, "type": "ACCOUNT", "tags": tf.NameTag(p.Name),
	})
	r.Add("aws_ebs_encryption_by_default", "ebs-encryption", map[string]any{"enabled": true})
	if !p.KeepDefaultVPC {
		lockDefaultVPC(r, p)
	}
	return b
}

// detector turns on GuardDuty with the Features.
func (b *Baseline) detector(r *tf.RawScope) {
	b.Detector = r.Add("aws_guardduty_detector", "guardduty", map[string]any{
		"enable": true, "finding_publishing_frequency": FindingFrequency,
	})
	// Features rather than the detector's datasources block, which provider
	// 5.x deprecates.
	for _, f := range Features {
		body := map[string]any{"detector_id": *b.Detector.Ref("id"), "name": f.Name, "status": "ENABLED"}
		if len(f.Agents) > 0 {
			var agents []any
			for _, a := range f.Agents {
				agents = append(agents, map[string]any{"name": a, "status": "ENABLED"})
			}
			body["additional_configuration"] = agents
		}
		r.Add("aws_guardduty_detector_feature", "guardduty-"+f.Name, body)
	}
}

// recorder records every resource type (global ones only at home) and
// delivers to the logs account.
func (b *Baseline) recorder(r *tf.RawScope, account string, p Props) {
	b.Recorder = r.Add("aws_config_configuration_recorder", "config-recorder", map[string]any{
		"name": p.Name, "role_arn": *p.ConfigRoleARN,
		"recording_group": map[string]any{"all_supported": true, "include_global_resource_types": p.Home},
	})
	// No s3_kms_key_arn: the bucket's default encryption applies the
	// archive key, and Config would store the alias ARN as given.
	channel := r.Add("aws_config_delivery_channel", "config-channel", map[string]any{
		"name": p.Name, "s3_bucket_name": p.ConfigBucket,
		"snapshot_delivery_properties": map[string]any{"delivery_frequency": "TwentyFour_Hours"},
		"depends_on":                   append(tf.DependsOn(p.After...), b.Recorder.FQN()),
	})
	b.RecorderStatus = r.Add("aws_config_configuration_recorder_status", "config-recorder-status", map[string]any{
		"name": *b.Recorder.Ref("name"), "is_enabled": true, "depends_on": []string{channel.FQN()},
	})
	if p.AggregatorAccountID != "" && p.AggregatorAccountID != account {
		// The authorization lives in the source region and names the
		// aggregator's region.
		r.Add("aws_config_aggregate_authorization", "config-aggregator-authorization", map[string]any{
			"account_id": p.AggregatorAccountID, "region": p.AggregatorRegion,
		})
	}
}

// SecurityHub turns Security Hub on in scope's region, through provider
// (nil: the stack's default), subscribed to Standards. The organization
// stack uses it for the management account, whose Security Hub must be on
// before it designates the delegated administrator in that region.
func SecurityHub(s constructs.Construct, provider cdktf.TerraformProvider) tf.Resource {
	return securityHub(tf.RawScopeOf(s).Using(provider), tf.EnvOf(s))
}

func securityHub(r *tf.RawScope, env awsenv.Env) tf.Resource {
	hub := r.Add("aws_securityhub_account", "securityhub", map[string]any{
		// The defaults include the older CIS 1.2; subscribe explicitly.
		"enable_default_standards": false, "auto_enable_controls": true,
		"control_finding_generator": "SECURITY_CONTROL",
	})
	for _, name := range []string{"cis", "fsbp"} {
		r.Add("aws_securityhub_standards_subscription", "securityhub-"+name, map[string]any{
			"standards_arn": env.Partition.ARN("securityhub", env.Region, "", Standards[name]), "depends_on": []string{hub.FQN()},
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
func lockDefaultVPC(r *tf.RawScope, p Props) {
	vpc := r.Add("aws_default_vpc", "default-vpc", map[string]any{
		"tags": tf.NameTag(p.Name + "-default-vpc-locked"),
		"//": guardrails.RawScanWaiver("AWS-0101",
			"adopted only to lock it: its security group and network ACL are emptied below and nothing is created in it"),
	})
	r.Add("aws_default_security_group", "default-vpc-sg", map[string]any{
		"vpc_id": *vpc.Ref("id"), "tags": tf.NameTag(p.Name + "-default-vpc-no-rules"),
	})
	r.Add("aws_default_network_acl", "default-vpc-nacl", map[string]any{
		"default_network_acl_id": *vpc.Ref("default_network_acl_id"),
		"tags":                   tf.NameTag(p.Name + "-default-vpc-no-rules"),
		// The default subnets stay associated; listing them would need a
		// lookup.
		"lifecycle": map[string]any{"ignore_changes": []string{"subnet_ids"}},
	})
}
