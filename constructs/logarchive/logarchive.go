// Package logarchive makes the logs account's central log storage: a
// bucket for every account's CloudTrail logs, one for every account's AWS
// Config history, the KMS key that encrypts both, and a bucket for the S3
// access logs of those two.
//
// The bucket and key policies admit CloudTrail and AWS Config only on
// behalf of the configured accounts (each writes under its own prefix), and
// only the named auditor roles may decrypt. The CloudTrail and AWS Config
// buckets are under S3 Object Lock (default retention, COMPLIANCE 365 days
// unless configured), which only the deploy role may reconfigure; the
// access-log bucket cannot be (S3 delivers no server access logs to a bucket
// with Object Lock). It does not own the trails or
// recorders that write here (see audit), nor the auditor roles (see
// crossaccount). Names come from NamesFor, so that every account can name
// the buckets and key at synth time. Entry point: New.
package logarchive

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketobjectlockconfiguration"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/bucket"
	"github.com/acme/landing-zone/constructs/crossaccount"
	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// Lifecycle defaults: a month in standard storage for investigations, then
// colder storage, deleted after the year CIS and most audits ask for.
const (
	DefaultTransitionDays = 30
	DefaultExpireDays     = 365
	// Object Lock: no log version is deleted or overwritten for a year, by
	// anyone.
	DefaultObjectLockMode = "COMPLIANCE"
	DefaultObjectLockDays = 365
)

// ObjectLockActions reconfigure or bypass Object Lock; the bucket policy
// denies them to everyone but the deploy role.
var ObjectLockActions = []string{"s3:PutBucketObjectLockConfiguration", "s3:BypassGovernanceRetention"}

// Names are the archive's resource names, derived from config alone.
type Names struct {
	TrailBucket     string // <prefix>-<logs account>-cloudtrail-<id>
	ConfigBucket    string // <prefix>-<logs account>-config-<id>
	AccessLogBucket string // <prefix>-<logs account>-access-logs-<id>
	KeyAlias        string // <prefix>-<logs account>-log-archive
	// KeyAliasARN names the key for trails in other accounts, to whom the
	// key's own ARN is unknown until it exists.
	KeyAliasARN string
}

// NamesFor returns the archive's names for the logs account, named account
// in config, which deploys to logs.
func NamesFor(prefix, account string, logs awsenv.Env) Names {
	base := prefix + "-" + account
	alias := base + "-log-archive"
	return Names{
		TrailBucket:     base + "-cloudtrail-" + logs.Account,
		ConfigBucket:    base + "-config-" + logs.Account,
		AccessLogBucket: base + "-access-logs-" + logs.Account,
		KeyAlias:        alias,
		KeyAliasARN:     logs.ARN("kms", "alias/"+alias),
	}
}

// Source is an account that writes to the archive.
type Source struct {
	AccountID string
	// TrailARN is the account's trail, the only one that may write its logs.
	TrailARN string
}

// Props configures the archive, in the logs account the enclosing stack
// deploys to (tf.EnvOf).
type Props struct {
	// Names are the archive's names, from NamesFor. Required.
	Names Names
	// Sources are every account that delivers here, the logs account
	// included. Required.
	Sources []Source
	// Auditors are the roles in the logs account that may decrypt the logs.
	// Default: none (the account's administrators only).
	Auditors []*crossaccount.Role
	// TransitionDays, StorageClass and ExpireDays set every bucket's
	// lifecycle. Defaults: 30, GLACIER and 365.
	TransitionDays int
	StorageClass   string
	ExpireDays     int
	// ObjectLockMode and ObjectLockDays are the default retention of every
	// version written to the CloudTrail and AWS Config buckets; ExpireDays
	// should be at least ObjectLockDays (config validation checks it).
	// Defaults: COMPLIANCE and 365.
	ObjectLockMode string
	ObjectLockDays int
	// DeployRoleARN is the role Terraform deploys the logs account with, the
	// only principal the bucket policies let change or bypass Object Lock.
	// Required.
	DeployRoleARN string
}

// Archive is the created storage.
type Archive struct {
	Names                                 Names
	Key                                   *kms.Key
	TrailBucket, ConfigBucket, AccessLogs *bucket.Bucket
}

// New creates the key and the three buckets.
func New(scope constructs.Construct, id string, p Props) *Archive {
	if len(p.Sources) == 0 || p.Names.TrailBucket == "" || p.DeployRoleARN == "" {
		panic("logarchive.New: Names, Sources and DeployRoleARN are required (" + id + ")")
	}
	if p.ObjectLockMode == "" {
		p.ObjectLockMode = DefaultObjectLockMode
	}
	if p.ObjectLockDays == 0 {
		p.ObjectLockDays = DefaultObjectLockDays
	}
	env := tf.EnvOf(scope)
	if p.TransitionDays == 0 {
		p.TransitionDays = DefaultTransitionDays
	}
	if p.ExpireDays == 0 {
		p.ExpireDays = DefaultExpireDays
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	n := p.Names
	out := &Archive{Names: n}

	var auditors []cdktf.ITerraformDependable
	for _, r := range p.Auditors {
		auditors = append(auditors, r.Resource)
	}
	out.Key = kms.New(s, "key", kms.Props{
		Alias: n.KeyAlias, Description: "Encrypts the CloudTrail and AWS Config logs of every account",
		Statements: keyStatements(p), After: auditors,
	})

	newBucket := func(name string, key *kms.Key, statements []iam.Statement, logTo string) *bucket.Bucket {
		return bucket.New(s, name, bucket.Props{
			Name: name, Key: key, Statements: statements, LogBucket: logTo,
			SSES3Reason:    "S3 server access logs can only be delivered to SSE-S3 buckets",
			TransitionDays: p.TransitionDays, StorageClass: p.StorageClass, ExpireDays: p.ExpireDays,
		})
	}
	trailARN, configARN := env.Partition.S3(n.TrailBucket), env.Partition.S3(n.ConfigBucket)
	// S3 server access logs can only be written to an SSE-S3 bucket.
	out.AccessLogs = newBucket(n.AccessLogBucket, nil, []iam.Statement{
		iam.Allow("S3ServerAccessLogs", []string{"s3:PutObject"}, env.Partition.S3(n.AccessLogBucket+"/*")).
			For("Service", "logging.s3.amazonaws.com").
			When("ArnLike", "aws:SourceArn", trailARN, configARN).
			When("StringEquals", "aws:SourceAccount", env.Account),
	}, "")
	out.TrailBucket = newBucket(n.TrailBucket, out.Key, append(trailStatements(trailARN, p.Sources), protectLock(trailARN, p.DeployRoleARN)), n.AccessLogBucket)
	out.ConfigBucket = newBucket(n.ConfigBucket, out.Key, append(configStatements(configARN, p.Sources), protectLock(configARN, p.DeployRoleARN)), n.AccessLogBucket)
	for _, b := range []*bucket.Bucket{out.TrailBucket, out.ConfigBucket} {
		lockBucket(s, b, p)
	}
	return out
}

// lockBucket turns on Object Lock with a default retention on a versioned
// bucket. Only the lock configuration resource, never the bucket's
// object_lock_enabled (which replaces an existing bucket): S3 enables
// Object Lock on an existing versioned bucket through
// PutObjectLockConfiguration. Once on, S3 never turns it off.
func lockBucket(s constructs.Construct, b *bucket.Bucket, p Props) {
	s3bucketobjectlockconfiguration.NewS3BucketObjectLockConfigurationA(s, tf.S(b.Name+"-object-lock"), &s3bucketobjectlockconfiguration.S3BucketObjectLockConfigurationAConfig{
		Bucket:            b.Resource.Id(),
		ObjectLockEnabled: tf.S("Enabled"),
		Rule: &s3bucketobjectlockconfiguration.S3BucketObjectLockConfigurationRuleA{
			DefaultRetention: &s3bucketobjectlockconfiguration.S3BucketObjectLockConfigurationRuleDefaultRetentionA{
				Mode: tf.S(p.ObjectLockMode), Days: tf.N(p.ObjectLockDays),
			},
		},
		DependsOn: &[]cdktf.ITerraformDependable{b.Versioning},
	})
}

// protectLock denies changing or bypassing the bucket's Object Lock to
// everyone but the deploy role (in COMPLIANCE mode no one bypasses it
// anyway; in GOVERNANCE mode this keeps the logs account's administrators
// from it).
func protectLock(bucketARN, deployRole string) iam.Statement {
	return iam.Deny("ProtectObjectLock", ObjectLockActions, bucketARN, bucketARN+"/*").
		For("AWS", "*").
		When("ArnNotEquals", "aws:PrincipalArn", deployRole)
}

// Ready lists what a writer in the logs account's own stack must wait for:
// CloudTrail and AWS Config check the bucket policy and key when they start.
func (a *Archive) Ready() []cdktf.ITerraformDependable {
	return []cdktf.ITerraformDependable{a.Key.Resource, a.Key.Alias, a.TrailBucket.Policy, a.ConfigBucket.Policy}
}

func trailARNs(sources []Source) []string {
	var arns []string
	for _, s := range sources {
		arns = append(arns, s.TrailARN)
	}
	return arns
}

func accountIDs(sources []Source) []string {
	var ids []string
	for _, s := range sources {
		ids = append(ids, s.AccountID)
	}
	return ids
}

// keyStatements let CloudTrail encrypt for the listed trails only, AWS
// Config for the listed accounts only, and the auditors decrypt.
func keyStatements(p Props) []iam.Statement {
	trails, ids := trailARNs(p.Sources), accountIDs(p.Sources)
	st := []iam.Statement{
		iam.Allow("CloudTrailEncrypt", []string{"kms:GenerateDataKey*"}, "*").
			For("Service", "cloudtrail.amazonaws.com").
			When("StringLike", "kms:EncryptionContext:aws:cloudtrail:arn", trails...).
			When("StringEquals", "aws:SourceArn", trails...),
		iam.Allow("CloudTrailDescribeKey", []string{"kms:DescribeKey"}, "*").
			For("Service", "cloudtrail.amazonaws.com").
			When("StringEquals", "aws:SourceArn", trails...),
		iam.Allow("ConfigDelivery", []string{"kms:Decrypt", "kms:GenerateDataKey"}, "*").
			For("Service", "config.amazonaws.com").
			When("StringEquals", "aws:SourceAccount", ids...),
	}
	if len(p.Auditors) > 0 {
		var arns []string
		for _, r := range p.Auditors {
			arns = append(arns, r.ARN)
		}
		st = append(st, iam.Allow("AuditorsDecrypt", []string{"kms:Decrypt", "kms:DescribeKey"}, "*").For("AWS", arns...))
	}
	return st
}

// trailStatements follow CloudTrail's documented bucket policy, with one
// write statement per account so that a trail writes only its own prefix.
func trailStatements(bucketARN string, sources []Source) []iam.Statement {
	st := []iam.Statement{
		iam.Allow("CloudTrailAclCheck", []string{"s3:GetBucketAcl"}, bucketARN).
			For("Service", "cloudtrail.amazonaws.com").
			When("StringEquals", "aws:SourceArn", trailARNs(sources)...),
	}
	for _, s := range sources {
		st = append(st, iam.Allow("CloudTrailWrite"+s.AccountID, []string{"s3:PutObject"}, bucketARN+"/AWSLogs/"+s.AccountID+"/*").
			For("Service", "cloudtrail.amazonaws.com").
			When("StringEquals", "aws:SourceArn", s.TrailARN).
			When("StringEquals", "s3:x-amz-acl", "bucket-owner-full-control"))
	}
	return st
}

// configStatements follow AWS Config's documented bucket policy for
// delivery through its service-linked role, one write statement per account.
func configStatements(bucketARN string, sources []Source) []iam.Statement {
	ids := accountIDs(sources)
	st := []iam.Statement{
		iam.Allow("ConfigAclCheck", []string{"s3:GetBucketAcl", "s3:ListBucket"}, bucketARN).
			For("Service", "config.amazonaws.com").
			When("StringEquals", "aws:SourceAccount", ids...),
	}
	for _, s := range sources {
		st = append(st, iam.Allow("ConfigWrite"+s.AccountID, []string{"s3:PutObject"}, bucketARN+"/AWSLogs/"+s.AccountID+"/Config/*").
			For("Service", "config.amazonaws.com").
			When("StringEquals", "aws:SourceAccount", s.AccountID).
			When("StringEquals", "s3:x-amz-acl", "bucket-owner-full-control"))
	}
	return st
}
