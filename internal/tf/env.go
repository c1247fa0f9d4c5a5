package tf

import (
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/acme/landing-zone/internal/awsenv"
)

const (
	accountKey = "landing-zone:account"
	regionKey  = "landing-zone:region"
)

// SetEnv records where stack deploys, on the stack node, so that constructs
// read account, region and partition from their scope (EnvOf), as AWS CDK's
// Stack.of(this).account does, instead of taking them as props. Call it
// right after creating the stack: a node takes context only before its
// first child.
func SetEnv(stack constructs.Construct, e awsenv.Env) {
	stack.Node().SetContext(S(accountKey), e.Account)
	stack.Node().SetContext(S(regionKey), e.Region)
}

// EnvOf returns the environment of the stack that scope is in. It panics
// when the stack has none: that is a programming error in the stacks
// package, not a config problem.
func EnvOf(scope constructs.Construct) awsenv.Env {
	account, _ := scope.Node().TryGetContext(S(accountKey)).(string)
	region, _ := scope.Node().TryGetContext(S(regionKey)).(string)
	if account == "" || region == "" {
		panic("tf: " + *scope.Node().Path() + " is in a stack without an environment (tf.SetEnv)")
	}
	return awsenv.New(account, region)
}

// InRegion returns a new construct under scope, named id, whose EnvOf is
// scope's account in region: constructs under it build that region's ARNs.
// Their resources still need the region's provider.
func InRegion(scope constructs.Construct, id, region string) constructs.Construct {
	c := constructs.NewConstruct(scope, S(id))
	SetEnv(c, awsenv.New(EnvOf(scope).Account, region))
	return c
}
