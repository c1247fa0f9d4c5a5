// Package statebackend makes one account's Terraform state store: a KMS key,
// a state bucket and a DynamoDB lock table. The bootstrap stacks use it; the
// names come from Names, which the account stacks' S3 backends use too.
//
// It does not configure any backend itself. Entry point: New.
package statebackend

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dynamodbtable"

	"github.com/acme/landing-zone/constructs/bucket"
	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/internal/tf"
)

// Names are the state store's resource names, derived from config alone so
// that the backend blocks of other stacks can name them at synth time.
type Names struct {
	Bucket   string // <prefix>-<account>-tfstate-<account id>
	Table    string // <prefix>-<account>-tflock
	KeyAlias string // <prefix>-<account>-tfstate
}

// NamesFor returns the state store names of an account.
func NamesFor(prefix, account, accountID string) Names {
	base := prefix + "-" + account
	return Names{Bucket: base + "-tfstate-" + accountID, Table: base + "-tflock", KeyAlias: base + "-tfstate"}
}

// Props configures a state store, in the account and region of the
// enclosing stack (tf.EnvOf).
type Props struct {
	// Names are the store's names, from NamesFor. Required.
	Names Names
	// NoncurrentDays keeps old state versions for recovery. Default: 90.
	NoncurrentDays int
}

// Backend is the created state store.
type Backend struct {
	Key    *kms.Key
	Bucket *bucket.Bucket
	Table  dynamodbtable.DynamodbTable
}

// New creates the key, bucket and lock table.
func New(scope constructs.Construct, id string, p Props) *Backend {
	key := kms.New(scope, id+"-key", kms.Props{
		Alias: p.Names.KeyAlias, Description: "Encrypts Terraform state and locks",
	})
	b := bucket.New(scope, id+"-bucket", bucket.Props{Name: p.Names.Bucket, Key: key, NoncurrentDays: p.NoncurrentDays})
	table := dynamodbtable.NewDynamodbTable(scope, tf.S(id+"-lock"), &dynamodbtable.DynamodbTableConfig{
		Name:                      tf.S(p.Names.Table),
		BillingMode:               tf.S("PAY_PER_REQUEST"),
		HashKey:                   tf.S("LockID"),
		Attribute:                 &[]*dynamodbtable.DynamodbTableAttribute{{Name: tf.S("LockID"), Type: tf.S("S")}},
		PointInTimeRecovery:       &dynamodbtable.DynamodbTablePointInTimeRecovery{Enabled: tf.B(true)},
		ServerSideEncryption:      &dynamodbtable.DynamodbTableServerSideEncryption{Enabled: tf.B(true), KmsKeyArn: key.ARN},
		DeletionProtectionEnabled: tf.B(true),
		Tags:                      tf.Name(p.Names.Table),
	})
	return &Backend{Key: key, Bucket: b, Table: table}
}
