package awsenv

import (
	"testing"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

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

func TestOfReadsTheEnclosingStack(t *testing.T) {
	app := cdktf.NewApp(nil)
	stack := cdktf.NewTerraformStack(app, strPtr("s"))
	Set(stack, New("333333333333", "eu-west-1"))
	inner := constructs.NewConstruct(constructs.NewConstruct(stack, strPtr("a")), strPtr("b"))
	if got, want := Of(inner), New("333333333333", "eu-west-1"); got != want {
		t.Fatalf("Of = %+v, want %+v", got, want)
	}
	bare := cdktf.NewTerraformStack(app, strPtr("bare"))
	defer func() {
		if recover() == nil {
			t.Fatal("Of on a stack without an environment did not panic")
		}
	}()
	Of(bare)
}
