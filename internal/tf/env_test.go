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

// countingNode counts the Node() calls (each a jsii round trip) made
// through a construct.
type countingNode struct {
	constructs.Construct
	calls *int
}

func (c *countingNode) Node() constructs.Node {
	*c.calls++
	return c.Construct.Node()
}

func TestEnvOfIsCachedPerScope(t *testing.T) {
	app := cdktf.NewApp(nil)
	stack := cdktf.NewTerraformStack(app, S("s"))
	SetEnv(stack, awsenv.New("333333333333", "eu-west-1"))
	calls := 0
	inner := &countingNode{constructs.NewConstruct(stack, S("a")), &calls}
	want := awsenv.New("333333333333", "eu-west-1")
	for range 3 {
		if got := EnvOf(inner); got != want {
			t.Fatalf("EnvOf = %+v, want %+v", got, want)
		}
	}
	if calls != 1 {
		t.Errorf("three EnvOf made %d Node() calls, want 1 (the first EnvOf only)", calls)
	}

	// A region under the stack: its own environment, the stack's unchanged,
	// whatever was read before.
	regional := InRegion(inner.Construct, "r", "us-east-1")
	if got, want := EnvOf(regional), awsenv.New("333333333333", "us-east-1"); got != want {
		t.Errorf("EnvOf(InRegion) = %+v, want %+v", got, want)
	}
	if got := EnvOf(constructs.NewConstruct(regional, S("x"))); got.Region != "us-east-1" {
		t.Errorf("EnvOf under InRegion = %+v, want us-east-1", got)
	}
	if got := EnvOf(inner); got != want {
		t.Errorf("EnvOf(stack child) after InRegion = %+v, want %+v", got, want)
	}

	// A node read before SetEnv (legal while it has no children) reads the
	// new environment after it.
	early := constructs.NewConstruct(stack, S("early"))
	if got := EnvOf(early); got != want {
		t.Fatalf("EnvOf before SetEnv = %+v, want %+v", got, want)
	}
	SetEnv(early, awsenv.New("444444444444", "us-gov-west-1"))
	if got, want := EnvOf(early), awsenv.New("444444444444", "us-gov-west-1"); got != want {
		t.Errorf("EnvOf after SetEnv = %+v, want %+v", got, want)
	}

	// The same stack id in another app is another scope.
	other := cdktf.NewTerraformStack(cdktf.NewApp(nil), S("s"))
	SetEnv(other, awsenv.New("555555555555", "eu-west-1"))
	if got := EnvOf(other); got.Account != "555555555555" {
		t.Errorf("EnvOf of another app's stack = %+v", got)
	}
}

// uncomparable is a construct that cannot be a map key.
type uncomparable struct {
	constructs.Construct
	tags []string
}

func TestEnvOfTakesUncomparableScopes(t *testing.T) {
	app := cdktf.NewApp(nil)
	stack := cdktf.NewTerraformStack(app, S("s"))
	SetEnv(stack, awsenv.New("333333333333", "eu-west-1"))
	scope := uncomparable{constructs.NewConstruct(stack, S("a")), nil}
	for range 2 {
		if got := EnvOf(scope); got.Account != "333333333333" {
			t.Fatalf("EnvOf = %+v", got)
		}
	}
}
