// Package organization makes the AWS Organizations layer in the management
// account: the organization itself (all features, trusted access for the
// baseline's services, service control policies on), its organizational
// units, the member accounts moved into them, the service control policies
// and their attachments, and the security account registered as the
// delegated administrator of the baseline's services.
//
// The organization and the member accounts already exist when a landing
// zone adopts them: with Adopt, each gets a Terraform import block, so the
// first apply takes them under management instead of creating them, and
// every one is prevent_destroy (removing it from the stack must never
// close an account or dissolve the organization). What the guardrails say
// is guardrails.go; this file only places them. Entry point: New.
package organization

import (
	"fmt"
	"slices"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawsorganizationsorganization"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/guarddutyorganizationadminaccount"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/organizationsaccount"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/organizationsdelegatedadministrator"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/organizationsorganization"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/organizationsorganizationalunit"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/organizationspolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/organizationspolicyattachment"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/securityhuborganizationadminaccount"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/regionalbaseline"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// Root names the organization's root as an attachment target or a parent.
const Root = ""

// MaxPolicyChars is the largest service control policy AWS accepts.
const MaxPolicyChars = 5120

// maxPoliciesPerTarget is how many SCPs one root, OU or account may have,
// FullAWSAccess (which AWS attaches everywhere) included.
const maxPoliciesPerTarget = 5

// DefaultServicePrincipals are the services given trusted access: the
// baseline's (CloudTrail, AWS Config and its multi-account setup,
// GuardDuty, Security Hub, IAM Access Analyzer), AWS Backup, and IAM
// Identity Center (sso). The list is authoritative: a service left out has
// its trusted access disabled on apply. Identity Center is in it because
// most organizations that adopt the landing zone already sign people in
// with it, and disabling its trusted access would cut them off; trusted
// access alone grants nothing.
var DefaultServicePrincipals = []string{
	"access-analyzer.amazonaws.com",
	"backup.amazonaws.com",
	"cloudtrail.amazonaws.com",
	"config-multiaccountsetup.amazonaws.com",
	"config.amazonaws.com",
	"guardduty.amazonaws.com",
	"securityhub.amazonaws.com",
	"sso.amazonaws.com",
}

// DelegatedServices are registered, through AWS Organizations, with the
// delegated administrator (GuardDuty and Security Hub register through
// their own APIs, below).
var DelegatedServices = []string{"access-analyzer.amazonaws.com", "config.amazonaws.com"}

// OU is an organizational unit.
type OU struct {
	// Name is the OU's name, unique in the organization. Required.
	Name string
	// Parent is the parent OU's Name. Default: Root.
	Parent string
}

// Account is a member account.
type Account struct {
	// Key names the account's resources ("dev"). Required.
	Key string
	// ID is the 12-digit account ID; with Adopt, the import ID. Required.
	ID string
	// Name and Email are the account's as AWS Organizations knows them;
	// both are ignored after import (changing them in AWS needs the root
	// user). Required.
	Name, Email string
	// OU is the Name of the OU the account is moved into. Default: Root.
	OU string
}

// Policy is a service control policy.
type Policy struct {
	// Name is the policy's name. Required.
	Name, Description string
	// Document is the policy. Required; at most MaxPolicyChars once
	// rendered.
	Document iam.Document
	// Targets are the OU Names (or Root) the policy is attached to.
	// Required.
	Targets []string
}

// Props configures the organization.
type Props struct {
	// ServicePrincipals get trusted access. Default: DefaultServicePrincipals.
	ServicePrincipals []string
	// OUs are created in order (a parent before its children). Default: none.
	OUs []OU
	// Accounts are the member accounts. Default: none.
	Accounts []Account
	// Policies are the service control policies. Default: none.
	Policies []Policy
	// DelegatedAdminID is the account registered as delegated administrator
	// of GuardDuty, Security Hub and DelegatedServices. Required.
	DelegatedAdminID string
	// Regions are the other watched regions. GuardDuty and Security Hub
	// designate their delegated administrator per region, so each gets
	// its own designation, and the management account's Security Hub
	// there. Default: none, the stack's region only.
	Regions []Region
	// Adopt imports the existing organization and the member accounts
	// (Terraform import blocks) rather than creating them. Off only for
	// offline plans, where import would have to read AWS. Default: false.
	Adopt bool
}

// Region is another region and the AWS provider that deploys there.
type Region struct {
	Name     string
	Provider cdktf.TerraformProvider
}

// Organization is what New made.
type Organization struct {
	Org organizationsorganization.OrganizationsOrganization
	// OUs are the OU IDs by name.
	OUs map[string]*string
	// Policies are the SCP IDs by name.
	Policies map[string]*string
}

// New makes the organization, its OUs, member accounts, SCPs and delegated
// administrators.
func New(scope constructs.Construct, id string, p Props) *Organization {
	if p.DelegatedAdminID == "" {
		panic("organization.New: DelegatedAdminID is required (" + id + ")")
	}
	if p.ServicePrincipals == nil {
		p.ServicePrincipals = DefaultServicePrincipals
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	org := organizationsorganization.NewOrganizationsOrganization(s, tf.S("organization"), &organizationsorganization.OrganizationsOrganizationConfig{
		FeatureSet:                 tf.S("ALL"),
		AwsServiceAccessPrincipals: tf.Strs(slices.Sorted(slices.Values(p.ServicePrincipals))...),
		EnabledPolicyTypes:         tf.Strs("SERVICE_CONTROL_POLICY"),
		Lifecycle:                  &cdktf.TerraformResourceLifecycle{PreventDestroy: tf.B(true)},
	})
	if p.Adopt {
		current := dataawsorganizationsorganization.NewDataAwsOrganizationsOrganization(s, tf.S("current"), &dataawsorganizationsorganization.DataAwsOrganizationsOrganizationConfig{})
		org.ImportFrom(current.Id(), nil)
	}
	o := &Organization{Org: org, OUs: map[string]*string{}, Policies: map[string]*string{}}
	root := org.Roots().Get(tf.N(0)).Id()
	parent := func(name string) *string {
		if name == Root {
			return root
		}
		if id := o.OUs[name]; id != nil {
			return id
		}
		panic(fmt.Sprintf("organization.New: no OU %q (OUs are made in order, parents first)", name))
	}
	for _, ou := range p.OUs {
		u := organizationsorganizationalunit.NewOrganizationsOrganizationalUnit(s, tf.S("ou-"+ou.Name), &organizationsorganizationalunit.OrganizationsOrganizationalUnitConfig{
			Name: tf.S(ou.Name), ParentId: parent(ou.Parent),
		})
		o.OUs[ou.Name] = u.Id()
	}
	for _, a := range p.Accounts {
		acct := organizationsaccount.NewOrganizationsAccount(s, tf.S("account-"+a.Key), &organizationsaccount.OrganizationsAccountConfig{
			Name: tf.S(a.Name), Email: tf.S(a.Email), ParentId: parent(a.OU),
			// Never close an account by removing it from config: the
			// provider would close it (CloseAccount) on destroy.
			CloseOnDeletion: tf.B(false),
			Lifecycle: &cdktf.TerraformResourceLifecycle{
				PreventDestroy: tf.B(true),
				IgnoreChanges:  &[]*string{tf.S("name"), tf.S("email"), tf.S("role_name"), tf.S("iam_user_access_to_billing")},
			},
		})
		if p.Adopt {
			acct.ImportFrom(tf.S(a.ID), nil)
		}
	}
	attached := map[string]int{}
	for _, pol := range p.Policies {
		content := pol.Document.JSON()
		if len(content) > MaxPolicyChars {
			panic(fmt.Sprintf("organization.New: SCP %s is %d characters, over AWS's %d", pol.Name, len(content), MaxPolicyChars))
		}
		scp := organizationspolicy.NewOrganizationsPolicy(s, tf.S("scp-"+pol.Name), &organizationspolicy.OrganizationsPolicyConfig{
			Name: tf.S(pol.Name), Description: tf.S(pol.Description), Type: tf.S("SERVICE_CONTROL_POLICY"), Content: tf.S(content),
		})
		o.Policies[pol.Name] = scp.Id()
		for _, target := range pol.Targets {
			if attached[target]++; attached[target] >= maxPoliciesPerTarget {
				panic(fmt.Sprintf("organization.New: more than %d SCPs on %q with FullAWSAccess", maxPoliciesPerTarget, target))
			}
			name := target
			if name == Root {
				name = "root"
			}
			organizationspolicyattachment.NewOrganizationsPolicyAttachment(s, tf.S("scp-"+pol.Name+"-"+name), &organizationspolicyattachment.OrganizationsPolicyAttachmentConfig{
				PolicyId: scp.Id(), TargetId: parent(target),
			})
		}
	}
	after := []cdktf.ITerraformDependable{org}
	delegate(s, p.DelegatedAdminID, nil, after)
	for _, r := range p.Regions {
		delegate(tf.InRegion(s, "region-"+r.Name, r.Name), p.DelegatedAdminID, r.Provider, after)
	}
	admin := tf.S(p.DelegatedAdminID)
	for _, svc := range DelegatedServices {
		organizationsdelegatedadministrator.NewOrganizationsDelegatedAdministrator(s, tf.S("delegated-"+svc[:len(svc)-len(".amazonaws.com")]), &organizationsdelegatedadministrator.OrganizationsDelegatedAdministratorConfig{
			AccountId: admin, ServicePrincipal: tf.S(svc), DependsOn: &after,
		})
	}
	return o
}

// delegate designates admin as GuardDuty's and Security Hub's delegated
// administrator in scope's region. Security Hub designates its
// administrator from an account where it is on: the management account's
// hub, with the same standards as every other account's (CIS v3.0.0).
func delegate(s constructs.Construct, admin string, provider cdktf.TerraformProvider, after []cdktf.ITerraformDependable) {
	guarddutyorganizationadminaccount.NewGuarddutyOrganizationAdminAccount(s, tf.S("guardduty-admin"), &guarddutyorganizationadminaccount.GuarddutyOrganizationAdminAccountConfig{
		Provider: provider, AdminAccountId: tf.S(admin), DependsOn: &after,
	})
	hub := regionalbaseline.SecurityHub(s, provider)
	tf.DependOn(securityhuborganizationadminaccount.NewSecurityhubOrganizationAdminAccount(s, tf.S("securityhub-admin"), &securityhuborganizationadminaccount.SecurityhubOrganizationAdminAccountConfig{
		Provider: provider, AdminAccountId: tf.S(admin),
	}), append(tf.DependsOn(after[0]), hub.FQN())...)
}
