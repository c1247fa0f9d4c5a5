// Package iamusers makes the security account's IAM users and groups. Each
// group lets its members assume roles in other accounts and nothing else;
// every user is also in the all-users group, whose policy lets them manage
// their own password, MFA device and access keys, and denies everything but
// setting up MFA until they sign in with MFA.
//
// It owns the users, groups, group memberships and those policies. It does
// not own the roles the groups point at (see crossaccount), the account
// password policy (see audit), or users' passwords, MFA devices and access
// keys, which people set up themselves. Entry point: New.
package iamusers

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamgroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamgrouppolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamgrouppolicyattachment"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iampolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamuser"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamusergroupmembership"

	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// AllUsers is the group every user is in.
const AllUsers = "all-users"

// Props configures the users and groups.
type Props struct {
	// Name names the MFA policy "<Name>-require-mfa". Required.
	Name string
	// Groups to create, in order. Required (may be empty).
	Groups []Group
	// Users to create, in order. Default: none.
	Users []User
}

// Group is a group whose members may assume the listed roles.
type Group struct {
	Name string
	// RoleARNs are the roles members may assume. Default: none.
	RoleARNs []string
	// Statements are further permissions of the members (with MFA already
	// required by all-users). Default: none.
	Statements []iam.Statement
}

// User is a user and the groups it is in (besides all-users).
type User struct {
	Name   string
	Groups []string
}

// Users are the created users and groups.
type Users struct {
	// Groups and Users are keyed by name; Groups includes all-users.
	Groups map[string]iamgroup.IamGroup
	Users  map[string]iamuser.IamUser
	// MFAPolicy is the all-users group's policy.
	MFAPolicy iampolicy.IamPolicy
}

// New creates the groups, then the users and their memberships.
func New(scope constructs.Construct, id string, p Props) *Users {
	if p.Name == "" {
		panic("iamusers.New: Name is required (" + id + ")")
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	out := &Users{Groups: map[string]iamgroup.IamGroup{}, Users: map[string]iamuser.IamUser{}}

	out.Groups[AllUsers] = iamgroup.NewIamGroup(s, tf.S("group-"+AllUsers), &iamgroup.IamGroupConfig{Name: tf.S(AllUsers)})
	out.MFAPolicy = iampolicy.NewIamPolicy(s, tf.S("require-mfa"), &iampolicy.IamPolicyConfig{
		Name:        tf.S(p.Name + "-require-mfa"),
		Description: tf.S("Lets users manage their own password, MFA device and access keys, and denies all else until they sign in with MFA"),
		Policy:      tf.S(RequireMFA(tf.EnvOf(scope).Partition).JSON()),
		Tags:        tf.Name(p.Name + "-require-mfa"),
	})
	iamgrouppolicyattachment.NewIamGroupPolicyAttachment(s, tf.S("group-"+AllUsers+"-mfa"), &iamgrouppolicyattachment.IamGroupPolicyAttachmentConfig{
		Group: out.Groups[AllUsers].Name(), PolicyArn: out.MFAPolicy.Arn(),
	})

	for _, g := range p.Groups {
		group := iamgroup.NewIamGroup(s, tf.S("group-"+g.Name), &iamgroup.IamGroupConfig{Name: tf.S(g.Name)})
		out.Groups[g.Name] = group
		if len(g.RoleARNs) == 0 && len(g.Statements) == 0 {
			continue
		}
		var st []iam.Statement
		if len(g.RoleARNs) > 0 {
			st = append(st, iam.Allow("AssumeRoles", []string{"sts:AssumeRole"}, g.RoleARNs...).WithMFA())
		}
		iamgrouppolicy.NewIamGroupPolicy(s, tf.S("group-"+g.Name+"-assume"), &iamgrouppolicy.IamGroupPolicyConfig{
			Group:  group.Name(),
			Name:   tf.S("assume-roles"),
			Policy: tf.S(iam.Policy(append(st, g.Statements...)...).JSON()),
		})
	}

	for _, u := range p.Users {
		user := iamuser.NewIamUser(s, tf.S("user-"+u.Name), &iamuser.IamUserConfig{
			Name: tf.S(u.Name),
			// Deleting a user from config must also remove the password, MFA
			// device and keys they made, or the delete fails and access stays.
			ForceDestroy: tf.B(true),
			Tags:         tf.Name(u.Name),
		})
		out.Users[u.Name] = user
		groups := []*string{out.Groups[AllUsers].Name()}
		for _, g := range u.Groups {
			group, ok := out.Groups[g]
			if !ok {
				panic("iamusers.New: user " + u.Name + " is in unknown group " + g + " (" + id + ")")
			}
			groups = append(groups, group.Name())
		}
		iamusergroupmembership.NewIamUserGroupMembership(s, tf.S("user-"+u.Name+"-groups"), &iamusergroupmembership.IamUserGroupMembershipConfig{
			User: user.Name(), Groups: tf.Ptrs(groups...),
		})
	}
	return out
}

// RequireMFA is the all-users policy, in partition p: users may see the
// password policy, change their own password, set up their own MFA device
// and, once signed in with MFA, manage their own access keys; everything
// else is denied until they sign in with MFA.
func RequireMFA(p awsenv.Partition) iam.Document {
	// The caller's own user. "$${" is Terraform's escape for a literal "${":
	// IAM, not Terraform, fills in aws:username.
	selfARN := p.IAM("*", "user/$${aws:username}")
	return iam.Policy(
		iam.Allow("ViewAccountInfo", []string{"iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"}, "*"),
		iam.Allow("ManageOwnPassword", []string{"iam:ChangePassword", "iam:GetUser"}, selfARN),
		iam.Allow("ManageOwnVirtualMFADevice", []string{"iam:CreateVirtualMFADevice"}, p.IAM("*", "mfa/*")),
		iam.Allow("ManageOwnMFA", []string{"iam:DeactivateMFADevice", "iam:EnableMFADevice", "iam:ListMFADevices", "iam:ResyncMFADevice"}, selfARN),
		// For the CLI; the deny below still requires MFA for these.
		iam.Allow("ManageOwnAccessKeys", []string{"iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:GetAccessKeyLastUsed", "iam:ListAccessKeys", "iam:UpdateAccessKey"}, selfARN),
		iam.DenyWithoutMFA("DenyAllExceptListedIfNoMFA", []string{
			"iam:ChangePassword", "iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser",
			"iam:GetAccountPasswordPolicy", "iam:ListMFADevices", "iam:ListVirtualMFADevices",
			"iam:ResyncMFADevice", "sts:GetSessionToken",
		}),
	)
}
