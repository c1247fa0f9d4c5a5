// Package crossaccount makes the roles that people assume into an account
// from the security account, where their IAM users live: one role per access
// level ("allow-full-access", "allow-read-only", ...), each trusting only the
// security account and only with MFA.
//
// It owns the roles and their managed-policy attachments. It does not own
// the users or groups that may assume them (see iamusers), nor any policy a
// later layer adds to a role (the VPN layer adds the vpn role's). Entry
// point: New.
package crossaccount

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicyattachment"

	"github.com/acme/landing-zone/constructs/role"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// DefaultMaxSessionHours is IAM's own default: an hour between MFA prompts.
const DefaultMaxSessionHours = 1

// Policies maps each access level to the AWS managed policy its role gets,
// by its path in every partition (awsenv.Partition.ManagedPolicy). The vpn
// role starts with none: the VPN layer grants it what it needs.
var Policies = map[string]string{
	"full-access": "AdministratorAccess",
	"read-only":   "ReadOnlyAccess",
	"billing":     "job-function/Billing",
	"dev":         "PowerUserAccess",
	"vpn":         "",
	"support":     "AWSSupportAccess",
}

// RoleName is the role of an access level, e.g. "allow-full-access".
func RoleName(access string) string { return "allow-" + access }

// SupportRoleName names the management account's support role (CIS 1.17),
// "<prefix>-<account>-support": not an allow-* role, because it trusts the
// account's own people, not the security account.
func SupportRoleName(baselineName string) string { return baselineName + "-support" }

// RoleARN is the ARN of an access level's role in an account of partition
// p, known at synth time so that other accounts can name it.
func RoleARN(p awsenv.Partition, accountID, access string) string {
	return p.Role(accountID, RoleName(access))
}

// Props configures the roles of the account the enclosing stack deploys to
// (tf.EnvOf).
type Props struct {
	// TrustedAccountID is the security account, the only one whose
	// principals may assume the roles. Required.
	TrustedAccountID string
	// Accesses are the access levels to make roles for, keys of Policies.
	// Default: none.
	Accesses []string
	// MaxSessionHours caps a role session, 1 to 12. Default: 1.
	MaxSessionHours int
	// Deny are denied to every role, whatever its managed policy allows,
	// in an inline policy "deny" (the app accounts deny ECS Exec to all but
	// their exec role). Default: none.
	Deny []iam.Statement
}

// Role is one cross-account role.
type Role struct {
	Resource iamrole.IamRole
	Access   string
	Name     string
	ARN      string
}

// Roles are an account's cross-account roles.
type Roles struct {
	// ByAccess holds the roles keyed by access level.
	ByAccess map[string]*Role
}

// New creates one role per access level.
func New(scope constructs.Construct, id string, p Props) *Roles {
	if p.TrustedAccountID == "" {
		panic("crossaccount.New: TrustedAccountID is required (" + id + ")")
	}
	env := tf.EnvOf(scope)
	hours := p.MaxSessionHours
	if hours == 0 {
		hours = DefaultMaxSessionHours
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	out := &Roles{ByAccess: map[string]*Role{}}
	for _, access := range p.Accesses {
		policy, ok := Policies[access]
		if !ok {
			panic(fmt.Sprintf("crossaccount.New: unknown access %q (%s)", access, id))
		}
		name := RoleName(access)
		r := role.New(s, name, role.Props{
			Name:              name,
			Description:       "Assumed with MFA from account " + p.TrustedAccountID + " for " + access + " access",
			Trust:             iam.MFATrust(env.Partition, p.TrustedAccountID),
			MaxSessionSeconds: hours * 3600,
			Statements:        p.Deny, PolicyName: "deny", PolicyID: name + "-deny",
		}).Role
		if policy != "" {
			iamrolepolicyattachment.NewIamRolePolicyAttachment(s, tf.S(name+"-policy"), &iamrolepolicyattachment.IamRolePolicyAttachmentConfig{
				Role: r.Name(), PolicyArn: tf.S(env.Partition.ManagedPolicy(policy)),
			})
		}
		out.ByAccess[access] = &Role{Resource: r, Access: access, Name: name, ARN: RoleARN(env.Partition, env.Account, access)}
	}
	return out
}

// CustomProps configures one role that people assume from the trusted
// account with MFA, with its own inline permissions rather than an access
// level's managed policy (the app accounts' ECS Exec role).
type CustomProps struct {
	// Name of the role; not allow-*, which names the access levels' roles.
	// Required.
	Name string
	// TrustedAccountID is the security account. Required.
	TrustedAccountID string
	// Description says who assumes it, for what. Required.
	Description string
	// Statements are the role's whole permissions, in the inline policy
	// PolicyName. Required.
	Statements []iam.Statement
	PolicyName string
	// MaxSessionHours caps a role session, 1 to 12. Default: 1.
	MaxSessionHours int
}

// NewCustom creates a role assumable only with MFA from the trusted
// account, by the principals there whose policies let them (the groups
// that name it).
func NewCustom(scope constructs.Construct, id string, p CustomProps) *Role {
	if p.Name == "" || p.TrustedAccountID == "" || len(p.Statements) == 0 || p.Description == "" {
		panic("crossaccount.NewCustom: Name, TrustedAccountID, Description and Statements are required (" + id + ")")
	}
	env := tf.EnvOf(scope)
	hours := p.MaxSessionHours
	if hours == 0 {
		hours = DefaultMaxSessionHours
	}
	r := role.New(scope, id, role.Props{
		Name: p.Name, Description: p.Description,
		Trust:             iam.MFATrust(env.Partition, p.TrustedAccountID),
		MaxSessionSeconds: hours * 3600,
		Statements:        p.Statements, PolicyName: p.PolicyName,
	}).Role
	return &Role{Resource: r, Name: p.Name, ARN: env.Role(p.Name)}
}
