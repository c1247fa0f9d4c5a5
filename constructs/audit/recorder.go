package audit

import (
	"encoding/json"
	"strconv"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/configaggregateauthorization"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/configconfigrule"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/configconfigurationaggregator"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/configconfigurationrecorder"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/configconfigurationrecorderstatus"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/configdeliverychannel"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamservicelinkedrole"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/tf"
)

// Rule is an AWS Config managed rule.
type Rule struct {
	Name, Identifier string
	Params           map[string]string
}

// Rules is the CIS subset every account checks. The password policy rule is
// added only where the policy is managed (see Props.PasswordPolicy).
var Rules = []Rule{
	{"root-account-mfa-enabled", "ROOT_ACCOUNT_MFA_ENABLED", nil},
	{"iam-root-access-key-check", "IAM_ROOT_ACCESS_KEY_CHECK", nil},
	{"mfa-enabled-for-iam-console-access", "MFA_ENABLED_FOR_IAM_CONSOLE_ACCESS", nil},
	{"iam-user-unused-credentials-check", "IAM_USER_UNUSED_CREDENTIALS_CHECK", map[string]string{"maxCredentialUsageAge": "45"}},
	{"cloudtrail-enabled", "CLOUD_TRAIL_ENABLED", nil},
	{"multi-region-cloudtrail-enabled", "MULTI_REGION_CLOUD_TRAIL_ENABLED", nil},
	{"cloud-trail-log-file-validation-enabled", "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED", nil},
	{"cloud-trail-encryption-enabled", "CLOUD_TRAIL_ENCRYPTION_ENABLED", nil},
	{"encrypted-volumes", "ENCRYPTED_VOLUMES", nil},
	{"ec2-ebs-encryption-by-default", "EC2_EBS_ENCRYPTION_BY_DEFAULT", nil},
	{"s3-account-level-public-access-blocks-periodic", "S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC", nil},
	{"s3-bucket-public-read-prohibited", "S3_BUCKET_PUBLIC_READ_PROHIBITED", nil},
	{"s3-bucket-ssl-requests-only", "S3_BUCKET_SSL_REQUESTS_ONLY", nil},
	{"restricted-ssh", "INCOMING_SSH_DISABLED", nil},
	{"vpc-default-security-group-closed", "VPC_DEFAULT_SECURITY_GROUP_CLOSED", nil},
	{"vpc-flow-logs-enabled", "VPC_FLOW_LOGS_ENABLED", nil},
	{"guardduty-enabled-centralized", "GUARDDUTY_ENABLED_CENTRALIZED", nil},
}

// configSLR is AWS Config's service-linked role. With it, Config delivers
// to the logs account as the config.amazonaws.com service, which is what
// the archive's bucket and key policies admit.
const configSLR = "config.amazonaws.com"

// recorder records every resource type, delivers to the logs account, and
// evaluates the rules.
func (a *Audit) recorder(s constructs.Construct, env awsenv.Env, p Props) {
	slr := iamservicelinkedrole.NewIamServiceLinkedRole(s, tf.S("config-role"), &iamservicelinkedrole.IamServiceLinkedRoleConfig{
		AwsServiceName: tf.S(configSLR),
	})
	a.Recorder = configconfigurationrecorder.NewConfigConfigurationRecorder(s, tf.S("config-recorder"), &configconfigurationrecorder.ConfigConfigurationRecorderConfig{
		Name:    tf.S(p.Name),
		RoleArn: slr.Arn(),
		RecordingGroup: &configconfigurationrecorder.ConfigConfigurationRecorderRecordingGroup{
			AllSupported:               tf.B(true),
			IncludeGlobalResourceTypes: tf.B(!p.SecondaryRegion),
		},
	})
	// No s3_kms_key_arn: the bucket's default encryption applies the
	// archive key, and Config would store the alias ARN as given.
	channel := configdeliverychannel.NewConfigDeliveryChannel(s, tf.S("config-channel"), &configdeliverychannel.ConfigDeliveryChannelConfig{
		Name:                       tf.S(p.Name),
		S3BucketName:               tf.S(p.Archive.ConfigBucket),
		SnapshotDeliveryProperties: &configdeliverychannel.ConfigDeliveryChannelSnapshotDeliveryProperties{DeliveryFrequency: tf.S("TwentyFour_Hours")},
		DependsOn:                  dependsOn(p.After, a.Recorder),
	})
	status := configconfigurationrecorderstatus.NewConfigConfigurationRecorderStatus(s, tf.S("config-recorder-status"), &configconfigurationrecorderstatus.ConfigConfigurationRecorderStatusConfig{
		Name:      a.Recorder.Name(),
		IsEnabled: tf.B(true),
		DependsOn: &[]cdktf.ITerraformDependable{channel},
	})

	rules := Rules
	if pp := p.PasswordPolicy; pp != nil {
		rules = append(append([]Rule{}, Rules...), Rule{"iam-password-policy", "IAM_PASSWORD_POLICY", map[string]string{
			"RequireUppercaseCharacters": "true", "RequireLowercaseCharacters": "true",
			"RequireSymbols": "true", "RequireNumbers": "true",
			"MinimumPasswordLength":   strconv.Itoa(pp.MinLength),
			"PasswordReusePrevention": strconv.Itoa(pp.ReusePrevention),
			"MaxPasswordAge":          strconv.Itoa(pp.MaxAgeDays),
		}})
	}
	for _, r := range rules {
		c := &configconfigrule.ConfigConfigRuleConfig{
			Name:      tf.S(r.Name),
			Source:    &configconfigrule.ConfigConfigRuleSource{Owner: tf.S("AWS"), SourceIdentifier: tf.S(r.Identifier)},
			Tags:      tf.Name(r.Name),
			DependsOn: &[]cdktf.ITerraformDependable{status},
		}
		if r.Params != nil {
			b, _ := json.Marshal(r.Params) // a string map always marshals, with sorted keys
			c.InputParameters = tf.S(string(b))
		}
		configconfigrule.NewConfigConfigRule(s, tf.S("rule-"+r.Name), c)
	}

	if len(p.AggregateAccountIDs) > 0 {
		a.Aggregator = configconfigurationaggregator.NewConfigConfigurationAggregator(s, tf.S("config-aggregator"), &configconfigurationaggregator.ConfigConfigurationAggregatorConfig{
			Name: tf.S(p.Name + "-all-accounts"),
			AccountAggregationSource: &configconfigurationaggregator.ConfigConfigurationAggregatorAccountAggregationSource{
				AccountIds: tf.Strs(p.AggregateAccountIDs...),
				// All regions, so that resources created outside the primary
				// region are inventoried too.
				AllRegions: tf.B(true),
			},
			Tags: tf.Name(p.Name + "-all-accounts"),
		})
	}
	if p.AggregatorAccountID != "" && p.AggregatorAccountID != env.Account {
		configaggregateauthorization.NewConfigAggregateAuthorization(s, tf.S("config-aggregator-authorization"), &configaggregateauthorization.ConfigAggregateAuthorizationConfig{
			AccountId: tf.S(p.AggregatorAccountID),
			Region:    tf.S(env.Region),
		})
	}
}
