// Package bucket makes S3 buckets with every safeguard on: versioning,
// default encryption, a public access block, bucket-owner-enforced
// ownership, a TLS-only policy and lifecycle expiry of old versions.
//
// It owns the bucket and its configuration resources. It does not own the
// KMS key (pass one) or the access-log target bucket. Entry point: New.
package bucket

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucket"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketlifecycleconfiguration"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketlogging"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketownershipcontrols"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketpublicaccessblock"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketserversideencryptionconfiguration"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketversioning"

	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/internal/guardrails"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// DefaultStorageClass is the colder storage that TransitionDays moves
// objects to: cheap to keep, and retrievable within hours for an audit.
const DefaultStorageClass = "GLACIER"

// DefaultNoncurrentDays keeps replaced object versions this long: long
// enough to recover from a bad write, short enough not to pay for forever.
const DefaultNoncurrentDays = 90

// Props configures a bucket.
type Props struct {
	// Name is the globally unique bucket name. Required.
	Name string
	// Key encrypts objects with SSE-KMS. Default: nil, which means SSE-S3
	// (AES256) - the only option for ALB access logs and S3 server access
	// logs. Without a key, SSES3Reason must say why.
	Key *kms.Key
	// SSES3Reason justifies SSE-S3 when Key is nil; it is recorded as an
	// accepted security-scan finding. Required without Key.
	SSES3Reason string
	// Statements are added to the bucket policy after the TLS-only deny.
	// Default: none.
	Statements []iam.Statement
	// NoncurrentDays expires replaced versions. Default: 90.
	NoncurrentDays int
	// ExpireDays expires current objects. Default: 0, never.
	ExpireDays int
	// TransitionDays moves current objects to StorageClass this many days
	// after they are written: cheaper for data that is rarely read, such as
	// audit logs, but slower and dearer to read back. Default: 0, never.
	TransitionDays int
	// StorageClass is where TransitionDays moves objects: GLACIER_IR,
	// GLACIER, DEEP_ARCHIVE, STANDARD_IA, ... Default: GLACIER.
	StorageClass string
	// LogBucket receives S3 server access logs, under prefix "<Name>/".
	// Default: "", no access logging.
	LogBucket string
}

// Bucket is a bucket with its ARN known at synth time.
type Bucket struct {
	Resource s3bucket.S3Bucket
	Name     string
	ARN      string
	// Policy is the bucket policy resource; resources that need the policy
	// in place before they write (log delivery, trails) depend on it.
	Policy s3bucketpolicy.S3BucketPolicy
	// Versioning is the bucket's versioning resource; Object Lock needs
	// versioning on first.
	Versioning s3bucketversioning.S3BucketVersioningA
}

// New creates the bucket and its configuration.
func New(scope constructs.Construct, id string, p Props) *Bucket {
	if p.Name == "" || (p.Key == nil && p.SSES3Reason == "") {
		panic("bucket.New: Name, and Key or SSES3Reason, are required (" + id + ")")
	}
	b := s3bucket.NewS3Bucket(scope, tf.S(id), &s3bucket.S3BucketConfig{
		Bucket: tf.S(p.Name),
		Tags:   tf.Name(p.Name),
	})
	out := &Bucket{Resource: b, Name: p.Name, ARN: tf.EnvOf(scope).Partition.S3(p.Name)}
	bid := b.Id()

	s3bucketpublicaccessblock.NewS3BucketPublicAccessBlock(scope, tf.S(id+"-pab"), &s3bucketpublicaccessblock.S3BucketPublicAccessBlockConfig{
		Bucket:                bid,
		BlockPublicAcls:       tf.B(true),
		BlockPublicPolicy:     tf.B(true),
		IgnorePublicAcls:      tf.B(true),
		RestrictPublicBuckets: tf.B(true),
	})
	s3bucketownershipcontrols.NewS3BucketOwnershipControls(scope, tf.S(id+"-ownership"), &s3bucketownershipcontrols.S3BucketOwnershipControlsConfig{
		Bucket: bid,
		Rule:   &s3bucketownershipcontrols.S3BucketOwnershipControlsRule{ObjectOwnership: tf.S("BucketOwnerEnforced")},
	})
	out.Versioning = s3bucketversioning.NewS3BucketVersioningA(scope, tf.S(id+"-versioning"), &s3bucketversioning.S3BucketVersioningAConfig{
		Bucket:                  bid,
		VersioningConfiguration: &s3bucketversioning.S3BucketVersioningVersioningConfiguration{Status: tf.S("Enabled")},
	})
	encrypt(scope, id, bid, p)
	lifecycle(scope, id, bid, p)
	out.Policy = s3bucketpolicy.NewS3BucketPolicy(scope, tf.S(id+"-policy"), &s3bucketpolicy.S3BucketPolicyConfig{
		Bucket: bid,
		Policy: tf.S(iam.Policy(append([]iam.Statement{iam.DenyInsecureTransport(out.ARN)}, p.Statements...)...).JSON()),
	})
	if p.LogBucket != "" {
		s3bucketlogging.NewS3BucketLoggingA(scope, tf.S(id+"-logging"), &s3bucketlogging.S3BucketLoggingAConfig{
			Bucket:       bid,
			TargetBucket: tf.S(p.LogBucket),
			TargetPrefix: tf.S(p.Name + "/"),
		})
	}
	return out
}

func encrypt(scope constructs.Construct, id string, bucketID *string, p Props) {
	key := p.Key
	def := &s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA{
		SseAlgorithm: tf.S("AES256"),
	}
	if key != nil {
		def = &s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA{
			SseAlgorithm:   tf.S("aws:kms"),
			KmsMasterKeyId: key.ARN,
		}
	}
	sse := s3bucketserversideencryptionconfiguration.NewS3BucketServerSideEncryptionConfigurationA(scope, tf.S(id+"-sse"), &s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationAConfig{
		Bucket: bucketID,
		Rule: &[]*s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationRuleA{{
			ApplyServerSideEncryptionByDefault: def,
			BucketKeyEnabled:                   tf.B(key != nil),
		}},
	})
	if key == nil {
		guardrails.WaiveScan(sse, "AWS-0132", p.SSES3Reason)
	}
}

func lifecycle(scope constructs.Construct, id string, bucketID *string, p Props) {
	noncurrent := p.NoncurrentDays
	if noncurrent == 0 {
		noncurrent = DefaultNoncurrentDays
	}
	rule := &s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRule{
		Id:                             tf.S("expire-old-versions"),
		Status:                         tf.S("Enabled"),
		Filter:                         &s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleFilter{Prefix: tf.S("")},
		NoncurrentVersionExpiration:    &s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration{NoncurrentDays: tf.N(noncurrent)},
		AbortIncompleteMultipartUpload: &s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload{DaysAfterInitiation: tf.N(7)},
	}
	if p.TransitionDays > 0 {
		class := p.StorageClass
		if class == "" {
			class = DefaultStorageClass
		}
		rule.Transition = &[]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleTransition{{
			Days: tf.N(p.TransitionDays), StorageClass: tf.S(class),
		}}
	}
	if p.ExpireDays > 0 {
		rule.Expiration = &s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleExpiration{Days: tf.N(p.ExpireDays)}
	}
	s3bucketlifecycleconfiguration.NewS3BucketLifecycleConfiguration(scope, tf.S(id+"-lifecycle"), &s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationConfig{
		Bucket: bucketID,
		Rule:   &[]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRule{rule},
	})
}
