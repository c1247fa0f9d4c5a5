// Package macie turns on Amazon Macie in one account and region: automated
// discovery of sensitive data in the account's S3 buckets (CIS v3.0.0
// 2.1.3). It is an option (baseline.macie), billed per bucket monitored and
// per GB inspected. It owns the Macie account resource only: no custom data
// identifiers, classification jobs or member accounts. Entry point: New.
package macie

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/macie2account"

	"github.com/acme/landing-zone/internal/tf"
)

// FindingFrequency is how often Macie publishes updated findings: the
// shortest it allows, so that findings are not held back for hours.
const FindingFrequency = "FIFTEEN_MINUTES"

// Props configures Macie in the account and region the enclosing stack
// deploys to (tf.EnvOf).
type Props struct {
	// Paused leaves Macie's account resource in place but stops its jobs
	// and discovery (status PAUSED); the CIS report then fails 2.1.3.
	// Default: false (ENABLED).
	Paused bool
}

// Macie is the created Macie account.
type Macie struct {
	Account macie2account.Macie2Account
}

// New enables Macie under a scope named id.
func New(scope constructs.Construct, id string, p Props) *Macie {
	status := "ENABLED"
	if p.Paused {
		status = "PAUSED"
	}
	return &Macie{Account: macie2account.NewMacie2Account(scope, tf.S(id), &macie2account.Macie2AccountConfig{
		FindingPublishingFrequency: tf.S(FindingFrequency),
		Status:                     tf.S(status),
	})}
}
