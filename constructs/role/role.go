// Package role makes an IAM role with its trust policy and, when it has
// statements, one inline policy: the shape of every role in the landing
// zone. Managed policy attachments stay with the caller, which knows why it
// needs them.
package role

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicyattachment"

	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// Props configure a role.
type Props struct {
	// Name is the role's name. Required.
	Name string
	// Tag is the Name tag. Default: Name.
	Tag string
	// Description. Default: none.
	Description string
	// Trust says who may assume the role. Required.
	Trust iam.Document
	// MaxSessionSeconds bounds a session. Default: 0, AWS's one hour.
	MaxSessionSeconds int
	// Statements make up the inline policy. Default: none, and no policy.
	Statements []iam.Statement
	// PolicyName names the inline policy. Default: Name.
	PolicyName string
	// PolicyID is the inline policy's construct ID. Default: the role's ID
	// followed by "-policy".
	PolicyID string
	// ManagedPolicies are AWS managed policies attached by name (e.g.
	// "AWSSupportAccess"), each with the construct ID "<id>-<name>".
	// Default: none.
	ManagedPolicies []string
}

// Role is what New made.
type Role struct {
	Role iamrole.IamRole
	// Policy is the inline policy, nil without statements. Depend on it
	// where the role must be able to act, not just exist.
	Policy iamrolepolicy.IamRolePolicy
}

// New makes the role, and its inline policy, in scope.
func New(scope constructs.Construct, id string, p Props) *Role {
	if p.Name == "" || len(p.Trust.Statement) == 0 {
		panic("role.New: Name and Trust are required (" + id + ")")
	}
	cfg := &iamrole.IamRoleConfig{
		Name:             tf.S(p.Name),
		AssumeRolePolicy: tf.S(p.Trust.JSON()),
		Tags:             tf.Name(or(p.Tag, p.Name)),
	}
	if p.Description != "" {
		cfg.Description = tf.S(p.Description)
	}
	if p.MaxSessionSeconds != 0 {
		cfg.MaxSessionDuration = tf.N(p.MaxSessionSeconds)
	}
	r := &Role{Role: iamrole.NewIamRole(scope, tf.S(id), cfg)}
	if len(p.Statements) > 0 {
		r.Policy = iamrolepolicy.NewIamRolePolicy(scope, tf.S(or(p.PolicyID, id+"-policy")), &iamrolepolicy.IamRolePolicyConfig{
			Role: r.Role.Id(), Name: tf.S(or(p.PolicyName, p.Name)), Policy: tf.S(iam.Policy(p.Statements...).JSON()),
		})
	}
	for _, name := range p.ManagedPolicies {
		env := tf.EnvOf(scope)
		iamrolepolicyattachment.NewIamRolePolicyAttachment(scope, tf.S(id+"-"+name), &iamrolepolicyattachment.IamRolePolicyAttachmentConfig{
			Role: r.Role.Name(), PolicyArn: tf.S(env.Partition.ManagedPolicy(name)),
		})
	}
	return r
}

func or(s, fallback string) string {
	if s != "" {
		return s
	}
	return fallback
}
