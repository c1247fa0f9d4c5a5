module github.com/acme/landing-zone

go 1.24

require (
	github.com/aws/constructs-go/constructs/v10 v10.4.2
	github.com/cdktf/cdktf-provider-aws-go/aws/v19 v19.50.0
	github.com/hashicorp/terraform-cdk-go/cdktf v0.20.11
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/Masterminds/semver/v3 v3.3.1 // indirect
	github.com/aws/jsii-runtime-go v1.106.0 // indirect
)
