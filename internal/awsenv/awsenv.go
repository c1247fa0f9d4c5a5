// Package awsenv is where a stack deploys (account, region, partition) and
// how ARNs are built there. Every ARN the product writes goes through a
// Partition, so that the partition comes from the region in one place. It
// imports no jsii, so that config and the proofs can use it; stacks record
// an Env on the stack node with tf.SetEnv and constructs read it with
// tf.EnvOf.
package awsenv

import "strings"

// Partition is an AWS partition: "aws", "aws-us-gov" or "aws-cn".
type Partition string

// The partitions AWS has today.
const (
	Commercial Partition = "aws"
	GovCloud   Partition = "aws-us-gov"
	China      Partition = "aws-cn"
)

// PartitionOf returns the partition a region belongs to.
func PartitionOf(region string) Partition {
	switch {
	case strings.HasPrefix(region, "us-gov-"):
		return GovCloud
	case strings.HasPrefix(region, "cn-"):
		return China
	}
	return Commercial
}

// ARN builds arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE. Global services
// leave region (IAM, S3, Route 53) or account (S3, AWS-owned resources)
// empty.
func (p Partition) ARN(service, region, account, resource string) string {
	return "arn:" + string(p) + ":" + service + ":" + region + ":" + account + ":" + resource
}

// IAM is an IAM ARN in account: "role/NAME", "user/NAME", "root", ...
func (p Partition) IAM(account, resource string) string {
	return p.ARN("iam", "", account, resource)
}

// Role is the ARN of the IAM role name in account.
func (p Partition) Role(account, name string) string { return p.IAM(account, "role/"+name) }

// ManagedPolicy is the ARN of an AWS managed policy, e.g. "ReadOnlyAccess"
// or "service-role/AmazonRDSEnhancedMonitoringRole".
func (p Partition) ManagedPolicy(path string) string { return p.IAM("aws", "policy/"+path) }

// S3 is the ARN of a bucket, or of objects in it ("bucket/key*").
func (p Partition) S3(bucketPath string) string { return p.ARN("s3", "", "", bucketPath) }

// Env is where a stack deploys.
type Env struct {
	Account   string
	Region    string
	Partition Partition
}

// New returns the environment of account in region.
func New(account, region string) Env {
	return Env{Account: account, Region: region, Partition: PartitionOf(region)}
}

// ARN is an ARN of service in the environment's own account and region.
func (e Env) ARN(service, resource string) string {
	return e.Partition.ARN(service, e.Region, e.Account, resource)
}

// Role is the ARN of the IAM role name in the environment's account.
func (e Env) Role(name string) string { return e.Partition.Role(e.Account, name) }
