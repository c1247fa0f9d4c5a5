// Package kms makes customer-managed KMS keys with rotation on and an alias.
//
// It owns the key, its alias and its key policy. It does not grant anything
// to IAM principals in other accounts unless a caller passes statements for
// that. Entry point: New.
package kms

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/kmsalias"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/kmskey"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// DefaultDeletionWindowDays is the longest wait AWS allows before a key
// scheduled for deletion is gone, to give the most time to notice a mistake.
const DefaultDeletionWindowDays = 30

// Props configures a key in the account and region of the enclosing stack
// (tf.EnvOf), whose root principal administers it.
type Props struct {
	// Alias names the key, without the "alias/" prefix. Required.
	Alias string
	// Description says what the key protects. Required.
	Description string
	// Statements are added to the key policy after the account-root
	// statement, e.g. a service grant from LogsStatement. Default: none.
	Statements []iam.Statement
	// DeletionWindowDays is the wait before deletion. Default: 30.
	DeletionWindowDays int
	// After are resources the key waits for, such as roles its policy
	// names: KMS rejects a policy naming a principal that does not exist.
	// Default: none.
	After []cdktf.ITerraformDependable
}

// Key is a KMS key and its alias.
type Key struct {
	Resource kmskey.KmsKey
	// ARN is the key's ARN, known only at apply time.
	ARN *string
	// AliasName is "alias/<Alias>".
	AliasName string
	// AliasARN is known at synth time and accepted wherever a key ARN is.
	AliasARN string
	// Alias is the alias resource, for users of AliasARN to depend on.
	Alias kmsalias.KmsAlias
}

// New creates a key with rotation on.
func New(scope constructs.Construct, id string, p Props) *Key {
	if p.Alias == "" {
		panic("kms.New: Alias is required (" + id + ")")
	}
	env := tf.EnvOf(scope)
	window := p.DeletionWindowDays
	if window == 0 {
		window = DefaultDeletionWindowDays
	}
	statements := append([]iam.Statement{
		iam.Allow("AccountAdministers", []string{"kms:*"}, "*").For("AWS", iam.AccountRoot(env.Partition, env.Account)),
	}, p.Statements...)
	key := kmskey.NewKmsKey(scope, tf.S(id), &kmskey.KmsKeyConfig{
		Description:          tf.S(p.Description),
		EnableKeyRotation:    tf.B(true),
		DeletionWindowInDays: tf.N(window),
		Policy:               tf.S(iam.Policy(statements...).JSON()),
		Tags:                 tf.Name(p.Alias),
		DependsOn:            after(p.After),
	})
	aliasName := "alias/" + p.Alias
	alias := kmsalias.NewKmsAlias(scope, tf.S(id+"-alias"), &kmsalias.KmsAliasConfig{
		Name:        tf.S(aliasName),
		TargetKeyId: key.KeyId(),
	})
	return &Key{
		Resource:  key,
		ARN:       key.Arn(),
		AliasName: aliasName,
		AliasARN:  env.ARN("kms", aliasName),
		Alias:     alias,
	}
}

// LogsStatement lets CloudWatch Logs in the key's account and region (env)
// use the key for log groups, and nothing else.
func LogsStatement(env awsenv.Env) iam.Statement {
	return iam.Allow("CloudWatchLogs",
		[]string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"}, "*").
		For("Service", "logs."+env.Region+".amazonaws.com").
		When("ArnLike", "kms:EncryptionContext:aws:logs:arn", env.ARN("logs", "log-group:*"))
}

// after keeps depends_on out of the JSON when there is nothing to wait for.
func after(deps []cdktf.ITerraformDependable) *[]cdktf.ITerraformDependable {
	if len(deps) == 0 {
		return nil
	}
	return &deps
}
