package audit

import (
	"encoding/json"
	"strconv"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/configconfigurationaggregator"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamservicelinkedrole"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/regionalbaseline"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/guardrails"
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

// recorder makes AWS Config's service-linked role, the regional baseline
// (whose recorder delivers to the logs account) in the stack's region and
// in every other region of p.Regions, and the rules, in the stack's region.
func (a *Audit) recorder(s constructs.Construct, env awsenv.Env, p Props) {
	slr := iamservicelinkedrole.NewIamServiceLinkedRole(s, tf.S("config-role"), &iamservicelinkedrole.IamServiceLinkedRoleConfig{
		AwsServiceName: tf.S(configSLR),
	})
	props := func(provider cdktf.TerraformProvider, home bool) regionalbaseline.Props {
		return regionalbaseline.Props{
			Name: p.Name, ConfigBucket: p.Archive.ConfigBucket, ConfigRoleARN: slr.Arn(),
			Provider: provider, Home: home, DisableSecurityHub: p.DisableSecurityHub,
			AggregatorAccountID: p.AggregatorAccountID, AggregatorRegion: env.Region,
			KeepDefaultVPC: p.KeepDefaultVPC, After: p.After,
		}
	}
	// The stack's region's resources are the construct's own children, at
	// the addresses they had before the baseline covered other regions.
	home := regionalbaseline.New(s, props(nil, !p.SecondaryRegion))
	a.Regions = map[string]*regionalbaseline.Baseline{env.Region: home}
	a.Recorder, a.Detector, a.SecurityHub = home.Recorder, home.Detector, home.SecurityHub
	raw := tf.RawScopeOf(s)
	for _, r := range p.Regions {
		if r.Name == env.Region || a.Regions[r.Name] != nil || r.Provider == nil {
			panic("audit.New: Regions must be other regions than the stack's, each once, each with its provider (" + r.Name + ")")
		}
		// Under "region-<name>", where a construct of that name put them
		// before they were raw (tf.InRegion).
		a.Regions[r.Name] = regionalbaseline.NewIn(raw.Child("region-"+r.Name), awsenv.New(env.Account, r.Name), props(r.Provider, false))
	}
	status := home.RecorderStatus

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
	// Raw, like the baseline they need: an account has a dozen.
	for _, r := range rules {
		body := map[string]any{
			"name":       r.Name,
			"source":     map[string]any{"owner": "AWS", "source_identifier": r.Identifier},
			"tags":       tf.NameTag(r.Name),
			"depends_on": []string{status.FQN()},
		}
		if r.Params != nil {
			b, _ := json.Marshal(r.Params) // a string map always marshals, with sorted keys
			body["input_parameters"] = string(b)
		}
		raw.Add("aws_config_config_rule", "rule-"+r.Name, body)
	}

	if len(p.AggregateAccountIDs) > 0 {
		source := &configconfigurationaggregator.ConfigConfigurationAggregatorAccountAggregationSource{
			AccountIds: tf.Strs(p.AggregateAccountIDs...),
		}
		if len(p.AggregateRegions) > 0 {
			// The regions the baseline records in, each authorized by
			// every source account (regionalbaseline).
			source.Regions = tf.Strs(p.AggregateRegions...)
		} else {
			source.AllRegions = tf.B(true)
		}
		a.Aggregator = configconfigurationaggregator.NewConfigConfigurationAggregator(s, tf.S("config-aggregator"), &configconfigurationaggregator.ConfigConfigurationAggregatorConfig{
			Name:                     tf.S(p.Name + "-all-accounts"),
			AccountAggregationSource: source,
			Tags:                     tf.Name(p.Name + "-all-accounts"),
		})
		if source.Regions != nil {
			guardrails.WaiveScan(a.Aggregator, "AWS-0019",
				"aggregates the watched regions (regions.watched), every region with a recorder; a region outside them has no recorder to aggregate")
		}
	}
}
