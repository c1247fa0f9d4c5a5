// Package githuboidc lets GitHub Actions reach an account without stored
// keys: an IAM OIDC provider for GitHub's token issuer, a read-only plan
// role for pull requests of the landing zone's own repository, an apply role
// for its main branch, and narrow roles for application repositories.
//
// Trust is by the token's "sub" claim. The landing zone repository must use
// the subject template repo+context+ref (help/ci-cd.md sets it once), so
// that the apply role can require both the GitHub environment (the
// approval gate) and refs/heads/main. Entry point: New.
package githuboidc

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamopenidconnectprovider"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicyattachment"

	"github.com/acme/landing-zone/constructs/role"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// Issuer is GitHub Actions' OIDC token issuer.
const Issuer = "token.actions.githubusercontent.com"

// Role names, the same in every account so that workflows can build ARNs.
const (
	PlanRole  = "github-plan"
	ApplyRole = "github-apply"
)

// Props configures the provider and the landing zone's CI roles.
type Props struct {
	// Repo is the landing zone repository, "owner/name". Required.
	Repo string
	// Environment is the GitHub environment that deploys this account's
	// stack. Required.
	Environment string
	// StateBucket, LockTable and StateKeyAlias are the account's state
	// store, which plans read and lock. Required.
	StateBucket, LockTable, StateKeyAlias string
	// AccountID and Region build ARNs. Required.
	AccountID, Region string
	// MaxSessionSeconds bounds CI sessions. Default: 3600.
	MaxSessionSeconds int
}

// OIDC is the provider and its roles.
type OIDC struct {
	ProviderARN  string
	PlanRoleARN  string
	ApplyRoleARN string
	scope        constructs.Construct
	props        Props
}

// New creates the provider, the plan role and the apply role.
func New(scope constructs.Construct, id string, p Props) *OIDC {
	if p.Repo == "" || p.Environment == "" || p.AccountID == "" {
		panic("githuboidc.New: Repo, Environment and AccountID are required (" + id + ")")
	}
	if p.MaxSessionSeconds == 0 {
		p.MaxSessionSeconds = 3600
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	o := &OIDC{ProviderARN: "arn:aws:iam::" + p.AccountID + ":oidc-provider/" + Issuer, scope: s, props: p}
	iamopenidconnectprovider.NewIamOpenidConnectProvider(s, tf.S("provider"), &iamopenidconnectprovider.IamOpenidConnectProviderConfig{
		Url:          tf.S("https://" + Issuer),
		ClientIdList: tf.Strs("sts.amazonaws.com"),
		// GitHub's certificate thumbprints; AWS trusts its root CAs for this
		// issuer, but older provider versions require the list.
		ThumbprintList: tf.Strs("6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"),
		Tags:           tf.Name("github-actions"),
	})
	plan := o.role("plan", PlanRole, o.Trust("StringLike", "repo:"+p.Repo+":pull_request:ref:refs/pull/*/merge"),
		[]string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}, stateAccess(p))
	apply := o.role("apply", ApplyRole, o.Trust("StringEquals", ApplySubject(p.Repo, p.Environment)),
		// Deploying the landing zone creates IAM roles, key policies and
		// everything else: only an administrator can.
		[]string{"arn:aws:iam::aws:policy/AdministratorAccess"}, nil)
	o.PlanRoleARN, o.ApplyRoleARN = plan, apply
	return o
}

// ApplySubject is the only token subject the apply role accepts: the
// GitHub environment's deployment job, on the main branch.
func ApplySubject(repo, environment string) string {
	return "repo:" + repo + ":environment:" + environment + ":ref:refs/heads/main"
}

// MainBranchSubject is the default-template subject of a repository's
// main branch, used for application repositories.
func MainBranchSubject(repo string) string { return "repo:" + repo + ":ref:refs/heads/main" }

// Trust returns an assume-role policy for GitHub tokens whose subject
// matches value under operator.
func (o *OIDC) Trust(operator, value string) iam.Document {
	return iam.Policy(iam.Statement{Effect: "Allow", Action: []string{"sts:AssumeRoleWithWebIdentity"}}.
		For("Federated", o.ProviderARN).
		When("StringEquals", Issuer+":aud", "sts.amazonaws.com").
		When(operator, Issuer+":sub", value))
}

// AddRepoRole makes a role that the main branch of an application
// repository may assume, with exactly the given permissions.
func (o *OIDC) AddRepoRole(id, name, repo string, statements []iam.Statement) string {
	return o.role(id, name, o.Trust("StringEquals", MainBranchSubject(repo)), nil, statements)
}

func (o *OIDC) role(id, name string, trust iam.Document, managed []string, statements []iam.Statement) string {
	r := role.New(o.scope, id, role.Props{
		Name: name, Trust: trust, MaxSessionSeconds: o.props.MaxSessionSeconds, Statements: statements,
	}).Role
	for _, arn := range managed {
		iamrolepolicyattachment.NewIamRolePolicyAttachment(o.scope, tf.S(id+"-managed"), &iamrolepolicyattachment.IamRolePolicyAttachmentConfig{
			Role: r.Name(), PolicyArn: tf.S(arn),
		})
	}
	return "arn:aws:iam::" + o.props.AccountID + ":role/" + name
}

// stateAccess lets a plan read state and take the lock.
func stateAccess(p Props) []iam.Statement {
	bucket := "arn:aws:s3:::" + p.StateBucket
	return []iam.Statement{
		iam.Allow("ReadState", []string{"s3:GetObject", "s3:ListBucket"}, bucket, bucket+"/*"),
		iam.Allow("TakeLock", []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"},
			"arn:aws:dynamodb:"+p.Region+":"+p.AccountID+":table/"+p.LockTable),
		iam.Allow("DecryptState", []string{"kms:Decrypt", "kms:GenerateDataKey"}, "*").
			When("ForAnyValue:StringEquals", "kms:ResourceAliases", "alias/"+p.StateKeyAlias),
	}
}
