package stacks

import (
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/alarms"
	"github.com/acme/landing-zone/constructs/audit"
	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/constructs/statebackend"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/ci"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// ProviderConstraint admits the provider version the bindings were
// generated for (5.84) through the rest of major version 5.
const ProviderConstraint = ">= 5.84, < 6.0"

// ManagedBy is the value of every resource's ManagedBy tag.
const ManagedBy = "cdktf"

// Options select how stacks are synthesized.
type Options struct {
	// Offline makes stacks that plan with no AWS access: a local backend, no
	// assume_role, no allowed_account_ids (the provider cannot check the
	// account without credentials) and placeholder credentials. For tests
	// and contributors without AWS access; never deploy offline stacks.
	Offline bool
	// StateEndpoints, for tests only, points the S3 backend at local
	// stand-ins for S3 and DynamoDB. It needs Offline, which keeps the
	// provider off AWS; stacks whose real backend is S3 then keep it, with
	// the bucket, key, lock table and encryption settings exactly as
	// emitted, and only where and how to connect overridden.
	StateEndpoints *StateEndpoints
	// SkipReach leaves the reachability proof out of the synth (app/synth);
	// only `landing-zone reach` sets it, to show the whole table of a
	// config whose flows fail.
	SkipReach bool
	// CI is who runs Terraform (LZ_CI): a person (the zero value), whose
	// providers and backend assume each account's deploy_role, or a GitHub
	// Actions job signed in as github-plan or github-apply in the stack's
	// account, whose credentials the default provider and the backend use
	// as they are (internal/ci). Bootstrap stacks, which CI never runs,
	// always assume deploy_role. Ignored with Offline.
	CI ci.Mode
	// SkipAccess leaves the IAM proof out of the synth (app/synth);
	// only `landing-zone access` sets it, to show the whole table of a
	// config whose questions fail.
	SkipAccess bool
	// Retiring synthesizes one app account's stacks (its account stack and
	// bootstrap-<account>) for their last apply before destroy: protections
	// off, final snapshots on, secrets deleted at once, and with Empty,
	// buckets and zones emptied (stacks/retire.go, help/retire.md). The
	// zero value retires nothing; other accounts' stacks are unchanged.
	Retiring Retiring
	// Extend, for tests only, runs after every stack is built, to add
	// resources the product never makes (e.g. to prove a guardrail fires).
	Extend func(*Landing)
}

// StateEndpoints are the stand-in services and the static credentials they
// accept (s3rver wants S3RVER/S3RVER).
type StateEndpoints struct {
	S3, DynamoDB         string // URLs, e.g. http://127.0.0.1:4568
	AccessKey, SecretKey string
}

// Account is the part every stack shares: its stack, account and config.
type Account struct {
	Stack     cdktf.TerraformStack
	StackName string
	Name      string          // the account's name in config
	Spec      *config.Account // the account's settings in config
	Config    *config.Config
	Options   Options
	// Chain is who the stack's providers and backend run as (ci.ChainOf);
	// bootstrap stacks always use a person's chain.
	Chain ci.Chain
	// Topics are the account's alarm topics (addMonitoring).
	Topics *alarms.Topics
	// Audit is the account's security baseline (addBaseline).
	Audit  *audit.Audit
	logKey *kms.Key
	// regions are the providers RegionProvider made, by region.
	regions map[string]provider.AwsProvider
}

type backendKind int

const (
	remoteState backendKind = iota
	bootstrapState
)

func newAccount(app cdktf.App, cfg *config.Config, name, stackName string, backend backendKind, opts Options) *Account {
	a := &Account{
		Stack:     cdktf.NewTerraformStack(app, tf.S(stackName)),
		StackName: stackName, Name: name, Spec: cfg.Accounts[name], Config: cfg, Options: opts,
	}
	tf.SetEnv(a.Stack, a.Env())
	mode := opts.CI
	if backend == bootstrapState {
		mode = ci.Human
	}
	a.Chain = ci.ChainOf(cfg, name, mode)
	a.provider()
	a.backend(backend)
	a.Stack.AddOverride(tf.S("terraform.required_providers.aws.version"), tf.S(ProviderConstraint))
	a.Stack.AddOverride(tf.S("terraform.required_providers.aws.source"), tf.S("hashicorp/aws"))
	return a
}

// Env is where the stack deploys: the account, the config's region and its
// partition. Constructs read the same from the stack (tf.EnvOf).
func (a *Account) Env() awsenv.Env { return awsenv.New(a.Spec.ID, a.Config.Region) }

// Tags are applied to every resource through the provider's default_tags.
func (a *Account) Tags() map[string]string {
	return map[string]string{
		"Environment": a.Name,
		"Stack":       a.StackName,
		"ManagedBy":   ManagedBy,
		"SourceRepo":  a.Config.SourceRepo,
	}
}

// RegionProvider returns the stack's provider for another region of its
// account, aliased by the region's name and made on first use with the
// default provider's credentials and roles; nil for the home region, whose
// resources use the default provider. Resources there take it in their
// Provider field, or all at once with tf.UseProvider.
func (a *Account) RegionProvider(region string) provider.AwsProvider {
	if region == a.Config.Region {
		return nil
	}
	if p := a.regions[region]; p != nil {
		return p
	}
	if a.regions == nil {
		a.regions = map[string]provider.AwsProvider{}
	}
	p := a.newProvider("aws-"+region, region, a.Spec, a.Chain.Default)
	p.SetRegion(tf.S(region))
	a.regions[region] = p
	return p
}

func (a *Account) provider() {
	a.newProvider("aws", "", a.Spec, a.Chain.Default)
}

// newProvider configures the AWS provider for an account: pinned to it with
// allowed_account_ids and assuming the roles of chain in order (none: the
// environment's credentials as they are), or offline. alias is "" for the
// stack's default provider.
func (a *Account) newProvider(id, alias string, acct *config.Account, chain []string) provider.AwsProvider {
	pc := &provider.AwsProviderConfig{
		Region:      tf.S(a.Config.Region),
		DefaultTags: &[]*provider.AwsProviderDefaultTags{{Tags: tf.Tags(a.Tags())}},
	}
	if alias != "" {
		pc.Alias = tf.S(alias)
	}
	if a.Options.Offline {
		pc.AccessKey, pc.SecretKey = tf.S("offline"), tf.S("offline")
		pc.SkipCredentialsValidation = tf.B(true)
		pc.SkipRequestingAccountId = tf.B(true)
		pc.SkipMetadataApiCheck = tf.S("true")
		pc.SkipRegionValidation = tf.B(true)
	} else {
		pc.AllowedAccountIds = tf.Strs(acct.ID)
		// More than one assume_role block chains the roles (provider 5.68+).
		var roles []*provider.AwsProviderAssumeRole
		for _, arn := range chain {
			roles = append(roles, &provider.AwsProviderAssumeRole{RoleArn: tf.S(arn), SessionName: tf.S("landing-zone-" + a.StackName)})
		}
		if len(roles) > 0 {
			pc.AssumeRole = &roles
		}
	}
	return provider.NewAwsProvider(a.Stack, tf.S(id), pc)
}

// StateKey is the stack's state object in the account's state bucket.
func (a *Account) StateKey() string { return StateKey(a.StackName) }

// StateKey is a stack's state object in its account's state bucket.
func StateKey(stack string) string { return stack + "/terraform.tfstate" }

// StateNames returns the account's state bucket, lock table and key names.
func (a *Account) StateNames() statebackend.Names {
	return statebackend.NamesFor(a.Config.NamePrefix, a.Name, a.Spec.ID)
}

func (a *Account) backend(kind backendKind) {
	local := kind == bootstrapState && a.Config.State.BootstrapBackend == config.BackendLocal
	e := a.Options.StateEndpoints
	switch {
	case e != nil && !a.Options.Offline:
		// Without Offline the provider would assume the deploy role in AWS.
		panic("stacks: Options.StateEndpoints needs Options.Offline")
	case a.Options.Offline && (e == nil || local):
		cdktf.NewLocalBackend(a.Stack, &cdktf.LocalBackendConfig{Path: tf.S("terraform." + a.StackName + ".tfstate")})
	case local:
		// Outside the stack's folder, so that cleaning cdktf.out cannot lose
		// the only record of the state bucket before it is migrated.
		cdktf.NewLocalBackend(a.Stack, &cdktf.LocalBackendConfig{Path: tf.S("../../../bootstrap-state/" + a.StackName + ".tfstate")})
	default:
		n := a.StateNames()
		lock := a.Config.State
		c := &cdktf.S3BackendConfig{
			Bucket:   tf.S(n.Bucket),
			Key:      tf.S(a.StateKey()),
			Region:   tf.S(a.Config.Region),
			Encrypt:  tf.B(true),
			KmsKeyId: tf.S(a.Env().ARN("kms", "alias/"+n.KeyAlias)),
		}
		if lock.LocksWithDynamoDB() {
			c.DynamodbTable = tf.S(n.Table)
		}
		// The backend takes one role: CI's chains have none, people's one.
		if len(a.Chain.Backend) > 1 {
			panic("stacks: the S3 backend assumes one role at most (" + a.StackName + ")")
		}
		if len(a.Chain.Backend) == 1 {
			c.AssumeRole = &cdktf.S3BackendAssumeRoleConfig{RoleArn: tf.S(a.Chain.Backend[0])}
		}
		if e != nil {
			// The stand-ins have no STS, IAM roles, instance metadata or
			// region list, answer only path-style URLs, and s3rver knows
			// only its own static key.
			c.AssumeRole = nil
			c.Endpoints = &cdktf.S3BackendEndpointConfig{S3: tf.S(e.S3)}
			if lock.LocksWithDynamoDB() {
				c.Endpoints.Dynamodb = tf.S(e.DynamoDB)
			}
			c.AccessKey, c.SecretKey = tf.S(e.AccessKey), tf.S(e.SecretKey)
			c.UsePathStyle = tf.B(true)
			c.SkipCredentialsValidation = tf.B(true)
			c.SkipRequestingAccountId = tf.B(true)
			c.SkipMetadataApiCheck = tf.B(true)
			c.SkipRegionValidation = tf.B(true)
		}
		cdktf.NewS3Backend(a.Stack, c)
		if lock.LocksWithS3() {
			// S3 native locking (Terraform 1.10+): a conditional PUT of
			// "<key>.tflock". cdktf 0.20's S3BackendConfig has no field
			// for it.
			a.Stack.AddOverride(tf.S("terraform.backend.s3.use_lockfile"), true)
		}
	}
}

// LogKey returns the stack's key for CloudWatch log groups, creating it on
// first use so that stacks without log groups carry no idle key.
func (a *Account) LogKey() *kms.Key {
	if a.logKey == nil {
		a.logKey = kms.New(a.Stack, "logs-key", kms.Props{
			Alias:       a.Config.NamePrefix + "-" + a.Name + "-logs",
			Description: "Encrypts CloudWatch log groups in " + a.Name,
			Statements:  []iam.Statement{kms.LogsStatement(a.Env())},
		})
	}
	return a.logKey
}

// Output adds a Terraform output to the stack.
func (a *Account) Output(name, description string, value any) {
	tf.RawScopeOf(a.Stack).Output(name, description, value)
}
