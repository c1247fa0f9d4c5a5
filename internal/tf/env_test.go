package tf

import (
	"testing"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/internal/awsenv"
)

func TestEnvOfReadsTheEnclosingStack(t *testing.T) {
	app := cdktf.NewApp(nil)
	stack := cdktf.NewTerraformStack(app, S("s"))
	SetEnv(stack, awsenv.New("333333333333", "eu-west-1"))
	inner := constructs.NewConstruct(constructs.NewConstruct(stack, S("a")), S("b"))
	if got, want := EnvOf(inner), awsenv.New("333333333333", "eu-west-1"); got != want {
		t.Fatalf("Of = %+v, want %+v", got, want)
	}
	bare := cdktf.NewTerraformStack(app, S("bare"))
	defer func() {
		if recover() == nil {
			t.Fatal("Of on a stack without an environment did not panic")
		}
	}()
	EnvOf(bare)
}
