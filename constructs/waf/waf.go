// Package waf puts an AWS WAF web ACL in front of a regional resource (an
// internet-facing ALB): AWS managed rule groups (IP reputation, the common
// rule set, known bad inputs, SQL injection) and a rate limit per client
// IP, in count or block mode, with CloudWatch metrics and sampled requests
// on, and every request logged to a KMS-encrypted log group with the
// Authorization and Cookie headers redacted.
//
// It owns the web ACL, its association, its log group, the log group's
// resource policy for the log delivery service and the logging
// configuration. It does not own the load balancer or the log key (callers
// pass a key whose policy admits CloudWatch Logs: kms.LogsStatement), nor
// the alarms (constructs/monitoring). Entry point: New.
package waf

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchlogresourcepolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/wafv2webacl"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/wafv2webaclassociation"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/wafv2webaclloggingconfiguration"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/constructs/loggroup"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// LogGroupPrefix starts the name of every log group AWS WAF logs to: WAF
// accepts no other.
const LogGroupPrefix = "aws-waf-logs-"

// ManagedRuleGroups are the AWS managed rule groups every web ACL runs, in
// priority order (cheapest first: the IP reputation list rejects known bad
// sources before the body is inspected). Together with the rate rule they
// use about 1,127 of the 1,500 web ACL capacity units that the base price
// includes.
var ManagedRuleGroups = []string{
	"AWSManagedRulesAmazonIpReputationList",
	"AWSManagedRulesCommonRuleSet",
	"AWSManagedRulesKnownBadInputsRuleSet",
	"AWSManagedRulesSQLiRuleSet",
}

// RateRuleName names the rate-based rule (and its metric).
const RateRuleName = "rate-limit-per-ip"

// RedactedHeaders are kept out of the logs: credentials and sessions.
var RedactedHeaders = []string{"authorization", "cookie"}

// Props configures the web ACL, in the account and region of the enclosing
// stack (tf.EnvOf).
type Props struct {
	// Name names the web ACL, its metrics and, after LogGroupPrefix, its log
	// group. Required.
	Name string
	// ResourceARN is the regional resource the ACL protects (an ALB).
	// Required.
	ResourceARN *string
	// Block makes the rules block what they match (403). Default: false,
	// count mode: they only count and log it.
	Block bool
	// RateLimit is the most requests one client IP may send in any 5
	// minutes before the rate rule acts. Required (config defaults it).
	RateLimit int
	// LogKey encrypts the log group. Required.
	LogKey *kms.Key
	// LogRetentionDays keeps the request logs. Required.
	LogRetentionDays int
}

// WAF is a web ACL and its logging.
type WAF struct {
	Name string
	ARN  *string
	// RuleMetrics are the CloudWatch metric names of the ACL's rules.
	RuleMetrics []string
	// Block is whether the rules block (else they count).
	Block    bool
	LogGroup *loggroup.Group
}

// New creates the web ACL, associates it with the resource and turns its
// logging on.
func New(scope constructs.Construct, id string, p Props) *WAF {
	if p.Name == "" || p.ResourceARN == nil || p.RateLimit == 0 || p.LogKey == nil || p.LogRetentionDays == 0 {
		panic("waf.New: Name, ResourceARN, RateLimit, LogKey and LogRetentionDays are required (" + id + ")")
	}
	env := tf.EnvOf(scope)
	s := constructs.NewConstruct(scope, tf.S(id))
	w := &WAF{Name: p.Name, Block: p.Block}
	var rules []map[string]any
	visibility := func(metric string) map[string]any {
		w.RuleMetrics = append(w.RuleMetrics, metric)
		return map[string]any{"cloudwatch_metrics_enabled": true, "metric_name": metric, "sampled_requests_enabled": true}
	}
	override := map[string]any{"count": []any{map[string]any{}}}
	action := map[string]any{"count": []any{map[string]any{}}}
	if p.Block {
		override = map[string]any{"none": []any{map[string]any{}}}
		action = map[string]any{"block": []any{map[string]any{}}}
	}
	for i, g := range ManagedRuleGroups {
		rules = append(rules, map[string]any{
			"name": g, "priority": i,
			"override_action": []any{override},
			"statement": []any{map[string]any{"managed_rule_group_statement": []any{map[string]any{
				"name": g, "vendor_name": "AWS",
			}}}},
			"visibility_config": []any{visibility(p.Name + "-" + g)},
		})
	}
	rules = append(rules, map[string]any{
		"name": RateRuleName, "priority": len(ManagedRuleGroups),
		"action": []any{action},
		"statement": []any{map[string]any{"rate_based_statement": []any{map[string]any{
			"limit": p.RateLimit, "aggregate_key_type": "IP",
		}}}},
		"visibility_config": []any{visibility(p.Name + "-" + RateRuleName)},
	})
	acl := wafv2webacl.NewWafv2WebAcl(s, tf.S("acl"), &wafv2webacl.Wafv2WebAclConfig{
		Name: tf.S(p.Name), Scope: tf.S("REGIONAL"),
		Description:   tf.S("AWS managed rules and a per-IP rate limit in front of " + p.Name),
		DefaultAction: &wafv2webacl.Wafv2WebAclDefaultAction{Allow: &wafv2webacl.Wafv2WebAclDefaultActionAllow{}},
		VisibilityConfig: &wafv2webacl.Wafv2WebAclVisibilityConfig{
			CloudwatchMetricsEnabled: tf.B(true), MetricName: tf.S(p.Name), SampledRequestsEnabled: tf.B(true),
		},
		Tags: tf.Name(p.Name),
	})
	// The rule blocks are nested beyond what the bindings type; written
	// as the provider's schema has them.
	acl.AddOverride(tf.S("rule"), rules)
	w.ARN = acl.Arn()
	wafv2webaclassociation.NewWafv2WebAclAssociation(s, tf.S("association"), &wafv2webaclassociation.Wafv2WebAclAssociationConfigA{
		ResourceArn: p.ResourceARN, WebAclArn: w.ARN,
	})

	w.LogGroup = loggroup.New(s, "logs", loggroup.Props{
		Name: LogGroupPrefix + p.Name, RetentionDays: p.LogRetentionDays, Key: p.LogKey,
	})
	// WAF delivers its logs through the log delivery service; this policy
	// lets it write to this group only, for this account's web ACLs (WAF
	// would otherwise add a broader one itself).
	policy := cloudwatchlogresourcepolicy.NewCloudwatchLogResourcePolicy(s, tf.S("delivery-policy"), &cloudwatchlogresourcepolicy.CloudwatchLogResourcePolicyConfig{
		PolicyName: tf.S(LogGroupPrefix + p.Name),
		PolicyDocument: tf.S(iam.Policy(
			iam.Allow("WAFLogDelivery", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, w.LogGroup.StreamsARN).
				For("Service", "delivery.logs.amazonaws.com").
				When("StringEquals", "aws:SourceAccount", env.Account).
				When("ArnLike", "aws:SourceArn", env.ARN("logs", "*")),
		).JSON()),
	})
	var redacted []*wafv2webaclloggingconfiguration.Wafv2WebAclLoggingConfigurationRedactedFields
	for _, h := range RedactedHeaders {
		redacted = append(redacted, &wafv2webaclloggingconfiguration.Wafv2WebAclLoggingConfigurationRedactedFields{
			SingleHeader: &wafv2webaclloggingconfiguration.Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader{Name: tf.S(h)},
		})
	}
	wafv2webaclloggingconfiguration.NewWafv2WebAclLoggingConfiguration(s, tf.S("logging"), &wafv2webaclloggingconfiguration.Wafv2WebAclLoggingConfigurationConfig{
		ResourceArn: w.ARN, LogDestinationConfigs: tf.Strs(w.LogGroup.ARN), RedactedFields: &redacted,
		DependsOn: &[]cdktf.ITerraformDependable{w.LogGroup.Resource, policy},
	})
	return w
}
