package awsenv

import "testing"

func TestPartitionOf(t *testing.T) {
	for region, want := range map[string]Partition{
		"us-east-1": Commercial, "eu-central-1": Commercial, "us-gov-west-1": GovCloud,
		"us-gov-east-1": GovCloud, "cn-north-1": China, "cn-northwest-1": China,
	} {
		if got := PartitionOf(region); got != want {
			t.Errorf("PartitionOf(%q) = %q, want %q", region, got, want)
		}
	}
}

func TestARNs(t *testing.T) {
	gov := New("111111111111", "us-gov-west-1")
	for got, want := range map[string]string{
		gov.ARN("kms", "alias/x"):                          "arn:aws-us-gov:kms:us-gov-west-1:111111111111:alias/x",
		gov.Role("deploy"):                                 "arn:aws-us-gov:iam::111111111111:role/deploy",
		gov.Partition.S3("bucket/*"):                       "arn:aws-us-gov:s3:::bucket/*",
		gov.Partition.ManagedPolicy("ReadOnlyAccess"):      "arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess",
		Commercial.IAM("222222222222", "root"):             "arn:aws:iam::222222222222:root",
		Commercial.ARN("route53", "", "", "hostedzone/Z1"): "arn:aws:route53:::hostedzone/Z1",
	} {
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}
