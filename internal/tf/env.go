package tf

import (
	"reflect"
	"sync"

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
	node := stack.Node()
	node.SetContext(S(accountKey), e.Account)
	node.SetContext(S(regionKey), e.Region)
	envs.forget(stack)
	if e.Account != "" && e.Region != "" {
		// What EnvOf(stack) now reads.
		envs.remember(stack, awsenv.New(e.Account, e.Region))
	}
}

// EnvOf returns the environment of the stack that scope is in. It panics
// when the stack has none: that is a programming error in the stacks
// package, not a config problem.
//
// The answer is cached per scope: the example synth asks ~600 times about
// ~60 scopes, and each answer costs three jsii calls. See envCache for why
// it cannot go stale.
func EnvOf(scope constructs.Construct) awsenv.Env {
	if e, ok := envs.lookup(scope); ok {
		return e
	}
	node := scope.Node()
	account, _ := node.TryGetContext(S(accountKey)).(string)
	region, _ := node.TryGetContext(S(regionKey)).(string)
	if account == "" || region == "" {
		panic("tf: " + *node.Path() + " is in a stack without an environment (tf.SetEnv)")
	}
	e := awsenv.New(account, region)
	envs.remember(scope, e)
	return e
}

// envs caches EnvOf's answers.
var envs = envCache{m: map[constructs.Construct]awsenv.Env{}}

// envCache maps a scope, as a Go value, to its environment.
//
// A scope's environment is the context of the nearest node, from the scope
// up to the root, that has the two keys (TryGetContext walks up the tree),
// and it cannot change once read, except through SetEnv on the scope
// itself:
//   - constructs refuses context on a node that has children, and every
//     strict ancestor of the scope has one (the path to the scope), so only
//     the scope's own context can still change;
//   - only SetEnv sets the keys (they are this package's), the App's
//     context being set before any node exists; and SetEnv replaces the
//     cached entry of the value it is given.
//
// A second Go value for the same node (jsii-runtime-go hands back the Go
// value it registered for an object, but makes another proxy when the
// object comes back as another type, and a Go wrapper is another value)
// has its own entry: only a cache miss. It could go stale only if it were
// read before SetEnv on the node, which SetEnv's contract (right after
// creating the node, before anything is built under it) rules out.
//
// Only pointers are keys: they are comparable (an interface holding an
// uncomparable type would panic as a map key) and name one object. The
// cache holds them, so no key's address is reused by another object (jsii
// holds every proxy for the process's life anyway); a scope from another
// app or test is another key. jsii calls are not goroutine-safe, but the
// map is guarded for callers that only read Go values.
type envCache struct {
	mu sync.Mutex
	m  map[constructs.Construct]awsenv.Env
}

func cacheable(scope constructs.Construct) bool {
	t := reflect.TypeOf(scope)
	return t != nil && t.Kind() == reflect.Pointer
}

func (c *envCache) lookup(scope constructs.Construct) (awsenv.Env, bool) {
	if !cacheable(scope) {
		return awsenv.Env{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[scope]
	return e, ok
}

func (c *envCache) remember(scope constructs.Construct, e awsenv.Env) {
	if !cacheable(scope) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[scope] = e
}

func (c *envCache) forget(scope constructs.Construct) {
	if !cacheable(scope) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, scope)
}

// InRegion returns a new construct under scope, named id, whose EnvOf is
// scope's account in region: constructs under it build that region's ARNs.
// Their resources still need the region's provider.
func InRegion(scope constructs.Construct, id, region string) constructs.Construct {
	c := constructs.NewConstruct(scope, S(id))
	SetEnv(c, awsenv.New(EnvOf(scope).Account, region))
	return c
}
