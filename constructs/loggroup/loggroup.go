// Package loggroup makes CloudWatch log groups that are always encrypted with
// a customer-managed key and always expire. It does not own the key: callers
// pass one whose policy admits CloudWatch Logs (kms.LogsStatement).
// Entry point: New.
package loggroup

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchloggroup"

	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/internal/tf"
)

// Props configures a log group in the account and region of the enclosing
// stack (tf.EnvOf).
type Props struct {
	// Name is the log group name. Required.
	Name string
	// RetentionDays must be a value CloudWatch accepts; config validates it.
	// Required: there is no never-expire default.
	RetentionDays int
	// Key encrypts the group. Required.
	Key *kms.Key
}

// Group is a log group with its ARNs known at synth time.
type Group struct {
	Resource cloudwatchloggroup.CloudwatchLogGroup
	Name     string
	// ARN is the group's ARN; StreamsARN covers its log streams.
	ARN, StreamsARN string
}

// New creates the log group.
func New(scope constructs.Construct, id string, p Props) *Group {
	if p.Name == "" || p.RetentionDays == 0 || p.Key == nil {
		panic("loggroup.New: Name, RetentionDays and Key are required (" + id + ")")
	}
	g := cloudwatchloggroup.NewCloudwatchLogGroup(scope, tf.S(id), &cloudwatchloggroup.CloudwatchLogGroupConfig{
		Name:            tf.S(p.Name),
		RetentionInDays: tf.N(p.RetentionDays),
		KmsKeyId:        p.Key.ARN,
		Tags:            tf.Name(p.Name),
	})
	arn := tf.EnvOf(scope).ARN("logs", "log-group:"+p.Name)
	return &Group{Resource: g, Name: p.Name, ARN: arn, StreamsARN: arn + ":*"}
}
