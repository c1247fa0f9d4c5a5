// Package secrets makes empty Secrets Manager secrets, encrypted with a
// customer-managed key, for operators to fill in out of band. Values never
// pass through config, Terraform or its state.
//
// It owns the secret containers, not their values or the key. Entry point:
// New; grant reading with ReadStatements.
package secrets

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/secretsmanagersecret"

	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// DefaultRecoveryDays keeps a deleted secret restorable for a week.
const DefaultRecoveryDays = 7

// Props configures a set of secrets in the account and region of the
// enclosing stack (tf.EnvOf).
type Props struct {
	// Prefix starts every secret name: "<Prefix>/<name>". Required.
	Prefix string
	// Names of the secrets. Required.
	Names []string
	// Key encrypts them. Required.
	Key *kms.Key
}

// Secret is one secret.
type Secret struct {
	Name string
	// ARN is the full ARN (with AWS's random suffix), known at apply time.
	ARN *string
	// Pattern matches the ARN in IAM policies, known at synth time.
	Pattern string
}

// Set is the created secrets, in Names order.
type Set struct {
	Secrets []Secret
	Key     *kms.Key
}

// New creates the secrets.
func New(scope constructs.Construct, id string, p Props) *Set {
	if p.Prefix == "" || p.Key == nil {
		panic("secrets.New: Prefix and Key are required (" + id + ")")
	}
	env := tf.EnvOf(scope)
	set := &Set{Key: p.Key}
	for _, n := range p.Names {
		name := p.Prefix + "/" + n
		sec := secretsmanagersecret.NewSecretsmanagerSecret(scope, tf.S(id+"-"+n), &secretsmanagersecret.SecretsmanagerSecretConfig{
			Name:                 tf.S(name),
			Description:          tf.S("Set its value with aws secretsmanager put-secret-value; see help/secrets.md"),
			KmsKeyId:             p.Key.ARN,
			RecoveryWindowInDays: tf.N(DefaultRecoveryDays),
			Tags:                 tf.Name(name),
		})
		// Secrets Manager appends a hyphen and six random characters.
		pattern := env.ARN("secretsmanager", "secret:"+name+"-??????")
		set.Secrets = append(set.Secrets, Secret{Name: n, ARN: sec.Arn(), Pattern: pattern})
	}
	return set
}

// ReadStatements grant reading exactly these secrets.
func (s *Set) ReadStatements() []iam.Statement {
	if len(s.Secrets) == 0 {
		return nil
	}
	var patterns []string
	for _, sec := range s.Secrets {
		patterns = append(patterns, sec.Pattern)
	}
	return []iam.Statement{
		iam.Allow("ReadSecrets", []string{"secretsmanager:GetSecretValue"}, patterns...),
		iam.Allow("DecryptSecrets", []string{"kms:Decrypt"}, *s.Key.ARN),
	}
}
