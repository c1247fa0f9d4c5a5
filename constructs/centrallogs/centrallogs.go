// Package centrallogs collects application logs from every app account in
// the logs account: a CloudWatch Logs destination that the app accounts may
// subscribe their log groups to, delivering through Kinesis Data Firehose
// into a KMS-encrypted, versioned bucket.
//
// It owns the destination and its policy, the delivery stream, both roles
// and the bucket. Subscriptions are made in the app accounts (Subscribe).
// Entry point: New.
package centrallogs

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchlogdestination"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchlogdestinationpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchlogsubscriptionfilter"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/kinesisfirehosedeliverystream"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/bucket"
	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/constructs/loggroup"
	"github.com/acme/landing-zone/constructs/role"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// Props configures the central destination, in the logs account the
// enclosing stack deploys to (tf.EnvOf).
type Props struct {
	// Name names the destination, stream, roles and bucket. Required.
	Name string
	// SourceAccounts may subscribe to the destination. Required.
	SourceAccounts []string
	// ExpireDays deletes delivered logs after this long. Required.
	ExpireDays int
}

// DestinationARN is the ARN of the destination name in the logs account
// and region (logs), which app accounts subscribe to; it is known from
// config alone.
func DestinationARN(logs awsenv.Env, name string) string {
	return logs.ARN("logs", "destination:"+name)
}

// New creates the destination and the delivery to S3.
func New(scope constructs.Construct, id string, p Props) {
	env := tf.EnvOf(scope)
	s := constructs.NewConstruct(scope, tf.S(id))
	key := kms.New(s, "key", kms.Props{Alias: p.Name, Description: "Encrypts centralized application logs"})
	b := bucket.New(s, "bucket", bucket.Props{Name: p.Name + "-" + env.Account, Key: key, ExpireDays: p.ExpireDays})

	firehoseRole := serviceRole(s, "firehose-role", p.Name+"-firehose", "firehose.amazonaws.com", env.Account,
		iam.Allow("WriteLogs", []string{"s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:ListBucket", "s3:PutObject"}, b.ARN, b.ARN+"/*"),
		iam.Allow("EncryptLogs", []string{"kms:Decrypt", "kms:GenerateDataKey"}, *key.ARN),
	)
	stream := kinesisfirehosedeliverystream.NewKinesisFirehoseDeliveryStream(s, tf.S("stream"), &kinesisfirehosedeliverystream.KinesisFirehoseDeliveryStreamConfig{
		Name:        tf.S(p.Name),
		Destination: tf.S("extended_s3"),
		ExtendedS3Configuration: &kinesisfirehosedeliverystream.KinesisFirehoseDeliveryStreamExtendedS3Configuration{
			BucketArn: tf.S(b.ARN), RoleArn: firehoseRole.Arn(), KmsKeyArn: key.ARN,
			Prefix: tf.S("app-logs/"), ErrorOutputPrefix: tf.S("errors/"),
			BufferingInterval: tf.N(300), BufferingSize: tf.N(5),
			// CloudWatch Logs already gzips what it sends.
			CompressionFormat: tf.S("UNCOMPRESSED"),
		},
		ServerSideEncryption: &kinesisfirehosedeliverystream.KinesisFirehoseDeliveryStreamServerSideEncryption{
			Enabled: tf.B(true), KeyType: tf.S("CUSTOMER_MANAGED_CMK"), KeyArn: key.ARN,
		},
		Tags: tf.Name(p.Name),
	})
	logsRole := serviceRole(s, "logs-role", p.Name+"-logs", "logs."+env.Region+".amazonaws.com", env.Account,
		iam.Allow("Deliver", []string{"firehose:PutRecord", "firehose:PutRecordBatch"}, env.ARN("firehose", "deliverystream/"+p.Name)),
	)
	dest := cloudwatchlogdestination.NewCloudwatchLogDestination(s, tf.S("destination"), &cloudwatchlogdestination.CloudwatchLogDestinationConfig{
		Name: tf.S(p.Name), TargetArn: stream.Arn(), RoleArn: logsRole.Arn(), Tags: tf.Name(p.Name),
	})
	cloudwatchlogdestinationpolicy.NewCloudwatchLogDestinationPolicy(s, tf.S("destination-policy"), &cloudwatchlogdestinationpolicy.CloudwatchLogDestinationPolicyConfig{
		DestinationName: dest.Name(),
		AccessPolicy: tf.S(iam.Policy(iam.Allow("AppAccountsSubscribe", []string{"logs:PutSubscriptionFilter"}, DestinationARN(env, p.Name)).
			For("AWS", p.SourceAccounts...)).JSON()),
	})
}

// serviceRole makes a role for an AWS service in this account with one
// policy.
func serviceRole(s constructs.Construct, id, name, service, accountID string, statements ...iam.Statement) iamrole.IamRole {
	return role.New(s, id, role.Props{Name: name, Trust: iam.ServiceTrust(service, accountID), Statements: statements}).Role
}

// Subscribe sends a log group's events to the central destination.
func Subscribe(scope constructs.Construct, id string, group *loggroup.Group, destinationARN string) {
	cloudwatchlogsubscriptionfilter.NewCloudwatchLogSubscriptionFilter(scope, tf.S(id), &cloudwatchlogsubscriptionfilter.CloudwatchLogSubscriptionFilterConfig{
		Name: tf.S("central-logs"), LogGroupName: tf.S(group.Name), DestinationArn: tf.S(destinationARN), FilterPattern: tf.S(""),
		DependsOn: &[]cdktf.ITerraformDependable{group.Resource},
	})
}
