// Command floor is the smallest CDKTF Go app on the AWS provider: one stack,
// one provider, one VPC. The benchmark (../main.go) runs it to measure what
// every synth pays before any landing zone code runs: starting jsii's Node
// and loading cdktf and the provider. Like the app, it honors LZ_FASTLOAD.
package main

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpc"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/internal/fastload"
)

func main() {
	fastload.Enable()
	app := cdktf.NewApp(nil)
	stack := cdktf.NewTerraformStack(app, jsii.String("floor"))
	provider.NewAwsProvider(stack, jsii.String("aws"), &provider.AwsProviderConfig{Region: jsii.String("us-east-1")})
	vpc.NewVpc(stack, jsii.String("vpc"), &vpc.VpcConfig{CidrBlock: jsii.String("10.0.0.0/16")})
	app.Synth()
}
