// Package alarms makes an account's alarm topics (critical and warning:
// KMS-encrypted SNS topics that only CloudWatch, EventBridge and AWS's cost
// services may publish to, with the configured subscribers) and the alarms
// that notify them.
//
// It owns the topics, their key, policies and subscriptions, and every alarm
// made through Add. What to watch is decided by the callers
// (constructs/monitoring). Entry point: NewTopics.
package alarms

import (
	"fmt"
	"maps"
	"slices"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopic"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopicpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopicsubscription"

	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// Publishers are the services allowed to publish: CloudWatch alarms,
// EventBridge rules, AWS Budgets and Cost Anomaly Detection (part of AWS's
// cost management, which Budgets alerts come from too).
var Publishers = []string{"budgets.amazonaws.com", "cloudwatch.amazonaws.com", "costalerts.amazonaws.com", "events.amazonaws.com"}

// Severity picks the topic an alarm notifies.
type Severity int

// Severities.
const (
	Warning Severity = iota
	Critical
)

// TopicsProps configures the topics, in the account and region of the
// enclosing stack (tf.EnvOf).
type TopicsProps struct {
	// Prefix names the topics "<Prefix>-critical" and "<Prefix>-warning".
	// Required.
	Prefix string
	// Emails and Webhooks (HTTPS) subscribe to both topics. Default: none.
	Emails, Webhooks []string
}

// Topics are the account's alarm topics.
type Topics struct {
	// CriticalARN and WarningARN reference the topics (tokens, so that
	// alarms depend on them).
	CriticalARN, WarningARN *string
	Key                     *kms.Key
	scope                   constructs.Construct
}

// NewTopics creates the key, the two topics and their subscriptions.
func NewTopics(scope constructs.Construct, id string, p TopicsProps) *Topics {
	env := tf.EnvOf(scope)
	s := constructs.NewConstruct(scope, tf.S(id))
	key := kms.New(s, "key", kms.Props{
		Alias: p.Prefix + "-alarms", Description: "Encrypts the alarm topics",
		Statements: []iam.Statement{iam.Allow("PublishersEncrypt", []string{"kms:Decrypt", "kms:GenerateDataKey*"}, "*").
			For("Service", Publishers...).When("StringEquals", "aws:SourceAccount", env.Account)},
	})
	t := &Topics{Key: key, scope: s}
	t.CriticalARN = topic(s, "critical", env, p, key)
	t.WarningARN = topic(s, "warning", env, p, key)
	return t
}

func topic(s constructs.Construct, sev string, env awsenv.Env, p TopicsProps, key *kms.Key) *string {
	name := p.Prefix + "-" + sev
	arn := env.ARN("sns", name)
	t := snstopic.NewSnsTopic(s, tf.S(sev), &snstopic.SnsTopicConfig{Name: tf.S(name), KmsMasterKeyId: key.ARN, Tags: tf.Name(name)})
	topicARN := t.Arn()
	snstopicpolicy.NewSnsTopicPolicy(s, tf.S(sev+"-policy"), &snstopicpolicy.SnsTopicPolicyConfig{
		Arn: topicARN,
		Policy: tf.S(iam.Policy(
			iam.Allow("OwnerManages", []string{"SNS:GetTopicAttributes", "SNS:ListSubscriptionsByTopic", "SNS:SetTopicAttributes", "SNS:Subscribe"}, arn).
				For("AWS", iam.AccountRoot(env.Partition, env.Account)),
			iam.Allow("ServicesPublish", []string{"SNS:Publish"}, arn).
				For("Service", Publishers...).When("StringEquals", "aws:SourceAccount", env.Account),
		).JSON()),
	})
	for i, e := range p.Emails {
		snstopicsubscription.NewSnsTopicSubscription(s, tf.S(fmt.Sprintf("%s-email-%d", sev, i)), &snstopicsubscription.SnsTopicSubscriptionConfig{
			TopicArn: topicARN, Protocol: tf.S("email"), Endpoint: tf.S(e),
		})
	}
	for i, u := range p.Webhooks {
		snstopicsubscription.NewSnsTopicSubscription(s, tf.S(fmt.Sprintf("%s-https-%d", sev, i)), &snstopicsubscription.SnsTopicSubscriptionConfig{
			TopicArn: topicARN, Protocol: tf.S("https"), Endpoint: tf.S(u), EndpointAutoConfirms: tf.B(true),
		})
	}
	return topicARN
}

// Missing-data treatments. Every alarm picks one on purpose.
const (
	// MissingOK: no data means nothing is wrong (no errors were counted).
	MissingOK = "notBreaching"
	// MissingBad: no data means the thing is gone (a health or status signal).
	MissingBad = "breaching"
	// MissingKeep: no data keeps the current state (sparse utilisation data).
	MissingKeep = "missing"
)

// Alarm describes one alarm on one metric, or on a metric math expression
// when Expression is set (Metrics then names its inputs).
type Alarm struct {
	// ID is the construct ID; Name the alarm name. Required.
	ID, Name    string
	Description string
	Namespace   string
	Metric      string
	Dimensions  map[string]*string
	// Statistic such as Average or Sum, or a percentile such as p95.
	Statistic string
	// Expression and Metrics make a metric math alarm.
	Expression string
	Metrics    map[string]Metric
	Period     int
	// Periods to evaluate, and how many of them must breach.
	Periods, Breaching int
	// Comparison such as GreaterThanThreshold.
	Comparison   string
	Threshold    float64
	TreatMissing string
	Severity     Severity
}

// Metric is one input of a metric math alarm.
type Metric struct {
	Namespace, Name, Statistic string
	Dimensions                 map[string]*string
}

// Add creates the alarm, notifying its topic on alarm and on recovery.
// Alarms are raw resources (tf.RawScope): an account has dozens.
func (t *Topics) Add(scope constructs.Construct, a Alarm) {
	if a.TreatMissing == "" || a.Name == "" {
		panic("alarms.Add: Name and TreatMissing are required (" + a.ID + ")")
	}
	topic := *t.WarningARN
	if a.Severity == Critical {
		topic = *t.CriticalARN
	}
	if a.Period == 0 {
		a.Period = 300
	}
	if a.Periods == 0 {
		a.Periods = 3
	}
	if a.Breaching == 0 {
		a.Breaching = a.Periods
	}
	body := map[string]any{
		"alarm_name": a.Name, "alarm_description": a.Description,
		"comparison_operator": a.Comparison, "threshold": a.Threshold,
		"evaluation_periods": a.Periods, "datapoints_to_alarm": a.Breaching,
		"treat_missing_data": a.TreatMissing,
		"alarm_actions":      []string{topic}, "ok_actions": []string{topic},
		"tags": tf.NameTag(a.Name),
	}
	if a.Expression != "" {
		body["metric_query"] = metricQuery(a)
	} else {
		body["namespace"], body["metric_name"], body["period"], body["dimensions"] = a.Namespace, a.Metric, a.Period, dimensions(a.Dimensions)
		if len(a.Statistic) > 1 && a.Statistic[0] == 'p' {
			body["extended_statistic"] = a.Statistic
		} else {
			body["statistic"] = a.Statistic
		}
	}
	tf.RawScopeOf(scope).Add("aws_cloudwatch_metric_alarm", a.ID, body)
}

func metricQuery(a Alarm) []any {
	q := []any{map[string]any{"id": "e1", "expression": a.Expression, "label": a.Name, "return_data": true}}
	for _, id := range slices.Sorted(maps.Keys(a.Metrics)) {
		m := a.Metrics[id]
		q = append(q, map[string]any{"id": id, "metric": map[string]any{
			"namespace": m.Namespace, "metric_name": m.Name, "stat": m.Statistic, "period": a.Period,
			"dimensions": dimensions(m.Dimensions),
		}})
	}
	return q
}

// dimensions is always an object, empty if need be, as CDKTF wrote it.
func dimensions(d map[string]*string) map[string]any {
	out := map[string]any{}
	for k, v := range d {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}
