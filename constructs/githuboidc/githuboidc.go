// Package githuboidc lets GitHub Actions reach an account without stored
// keys: an IAM OIDC provider for GitHub's token issuer, a plan role for
// pull requests of the landing zone's own repository (it describes every
// resource and reads state, but reads no data: no objects, log events,
// parameters, secrets, items or messages), an apply role for its main
// branch, and narrow roles for application repositories.
//
// Trust is by the token's "sub" claim (the subjects are in internal/ci).
// The landing zone repository must use the subject template
// repo+context+ref (help/ci-cd.md sets it once), so that the apply role can
// require both the GitHub environment (the approval gate) and
// refs/heads/main. Entry point: New.
package githuboidc

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamopenidconnectprovider"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicyattachment"

	"github.com/acme/landing-zone/constructs/role"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/ci"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// Issuer is GitHub Actions' OIDC token issuer.
const Issuer = "token.actions.githubusercontent.com"

// Role names, the same in every account so that workflows can build ARNs.
const (
	PlanRole  = ci.PlanRole
	ApplyRole = ci.ApplyRole
)

// AWS managed policies (awsenv.Partition.ManagedPolicy paths). The plan
// role starts from ReadOnlyAccess, so that `terraform plan` can refresh
// every resource type the stacks make; its inline policy then denies every
// data read (PlanDenies). Deploying the landing zone creates IAM roles, key
// policies and everything else: only AdministratorAccess can.
const (
	ReadOnlyAccess      = "ReadOnlyAccess"
	AdministratorAccess = "AdministratorAccess"
)

// Props configures the provider and the landing zone's CI roles in the
// account and region of the enclosing stack (tf.EnvOf).
type Props struct {
	// Repo is the landing zone repository, "owner/name". Required.
	Repo string
	// Environment is the GitHub environment that deploys this account's
	// stack. Required.
	Environment string
	// StateBucket, LockTable and StateKeyAlias are the account's state
	// store, which plans read and lock. Required.
	StateBucket, LockTable, StateKeyAlias string
	// StateKey is the state object of the account's stack in StateBucket,
	// "<stack>/terraform.tfstate". Plans may write and delete its S3 lock
	// file, StateKey+".tflock" (Terraform's use_lockfile), and no other
	// object: whatever state.locking says, so that changing it never
	// leaves a pull request's plan without the lock it needs. Required.
	StateKey string
	// MaxSessionSeconds bounds CI sessions. Default: 3600.
	MaxSessionSeconds int
	// PlanAssumes are roles in other accounts that plans assume (an app
	// account's peering read role in shared-services). Default: none.
	PlanAssumes []string
	// PlanParameters are the SSM parameters (ARN patterns) that plans may
	// read: the product's own, which hold configuration, never secrets.
	// Default: none.
	PlanParameters []string
}

// OIDC is the provider and its roles.
type OIDC struct {
	ProviderARN  string
	PlanRoleARN  string
	ApplyRoleARN string
	scope        constructs.Construct
	env          awsenv.Env
	props        Props
}

// New creates the provider, the plan role and the apply role.
func New(scope constructs.Construct, id string, p Props) *OIDC {
	if p.Repo == "" || p.Environment == "" || p.StateKey == "" {
		panic("githuboidc.New: Repo, Environment and StateKey are required (" + id + ")")
	}
	env := tf.EnvOf(scope)
	if p.MaxSessionSeconds == 0 {
		p.MaxSessionSeconds = 3600
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	o := &OIDC{ProviderARN: env.Partition.IAM(env.Account, "oidc-provider/"+Issuer), scope: s, env: env, props: p}
	iamopenidconnectprovider.NewIamOpenidConnectProvider(s, tf.S("provider"), &iamopenidconnectprovider.IamOpenidConnectProviderConfig{
		Url:          tf.S("https://" + Issuer),
		ClientIdList: tf.Strs("sts.amazonaws.com"),
		// GitHub's certificate thumbprints; AWS trusts its root CAs for this
		// issuer, but older provider versions require the list.
		ThumbprintList: tf.Strs("6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"),
		Tags:           tf.Name("github-actions"),
	})
	plan := o.role("plan", PlanRole, o.Trust("StringLike", ci.PlanSubject(p.Repo)),
		[]string{ReadOnlyAccess}, planStatements(env, p))
	apply := o.role("apply", ApplyRole, o.Trust("StringEquals", ci.ApplySubject(p.Repo, p.Environment)),
		[]string{AdministratorAccess}, nil)
	o.PlanRoleARN, o.ApplyRoleARN = plan, apply
	return o
}

// Trust returns an assume-role policy for GitHub tokens whose subject
// matches value under operator.
func (o *OIDC) Trust(operator, value string) iam.Document {
	return iam.Policy(iam.Statement{Effect: "Allow", Action: []string{"sts:AssumeRoleWithWebIdentity"}}.
		For("Federated", o.ProviderARN).
		When("StringEquals", Issuer+":aud", "sts.amazonaws.com").
		When(operator, Issuer+":sub", value))
}

// AddRepoRole makes a role that jobs of an application repository with
// exactly the given token subject (ci.MainBranchSubject,
// ci.EnvironmentSubject) may assume, with exactly the given permissions.
func (o *OIDC) AddRepoRole(id, name, subject string, statements []iam.Statement) string {
	return o.role(id, name, o.Trust("StringEquals", subject), nil, statements)
}

func (o *OIDC) role(id, name string, trust iam.Document, managed []string, statements []iam.Statement) string {
	r := role.New(o.scope, id, role.Props{
		Name: name, Trust: trust, MaxSessionSeconds: o.props.MaxSessionSeconds, Statements: statements,
	}).Role
	for _, path := range managed {
		iamrolepolicyattachment.NewIamRolePolicyAttachment(o.scope, tf.S(id+"-managed"), &iamrolepolicyattachment.IamRolePolicyAttachmentConfig{
			Role: r.Name(), PolicyArn: tf.S(o.env.Partition.ManagedPolicy(path)),
		})
	}
	return o.env.Role(name)
}

// planStatements let a plan read state, take the lock (the lock table's
// item and the S3 lock file, whichever the backend uses) and assume the
// roles it needs elsewhere, and deny every data read that ReadOnlyAccess
// would allow.
func planStatements(env awsenv.Env, p Props) []iam.Statement {
	bucket := env.Partition.S3(p.StateBucket)
	table := env.ARN("dynamodb", "table/"+p.LockTable)
	stateKey := "alias/" + p.StateKeyAlias
	st := []iam.Statement{
		iam.Allow("ReadState", []string{"s3:GetObject", "s3:ListBucket"}, bucket, bucket+"/*"),
		iam.Allow("TakeLock", []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"}, table),
		// The lock file only: a plan never writes or deletes state.
		iam.Allow("TakeLockFile", []string{"s3:DeleteObject", "s3:PutObject"}, bucket+"/"+p.StateKey+LockFileSuffix),
		iam.Allow("DecryptState", []string{"kms:Decrypt", "kms:GenerateDataKey"}, "*").
			When("ForAnyValue:StringEquals", "kms:ResourceAliases", stateKey),
	}
	if len(p.PlanAssumes) > 0 {
		st = append(st, iam.Allow("AssumeReadRoles", []string{"sts:AssumeRole"}, p.PlanAssumes...))
	}
	return append(st, PlanDenies(bucket, table, stateKey, p.PlanParameters)...)
}

// LockFileSuffix ends the key of Terraform's S3 lock file: the state
// object's key plus this.
const LockFileSuffix = ".tflock"

// Data reads ReadOnlyAccess allows and plans never need, by what they read.
var (
	// ObjectReads read S3 and Glacier objects: only state is exempt.
	ObjectReads = []string{"glacier:GetJobOutput", "s3:GetObject", "s3:GetObjectAttributes", "s3:GetObjectTorrent",
		"s3:GetObjectVersion", "s3:GetObjectVersionAttributes", "s3:GetObjectVersionTorrent"}
	// ItemReads read DynamoDB items: only the lock table is exempt.
	ItemReads = []string{"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:GetRecords", "dynamodb:PartiQLSelect",
		"dynamodb:Query", "dynamodb:Scan"}
	// ParameterReads read SSM parameter values: only PlanParameters are
	// exempt, which refreshing the product's own parameters needs.
	ParameterReads = []string{"ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters", "ssm:GetParametersByPath"}
	// KeyUse decrypts with KMS keys: only the state key is exempt.
	KeyUse = []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"}
	// DataReads read everything else that is data, not configuration: log
	// events and queries, secret values, image layers, messages and
	// records, query results, command output, console output, database
	// log files, execution history and the CloudTrail event history.
	DataReads = []string{
		"athena:GetQueryResults", "athena:GetQueryResultsStream", "cloudtrail:LookupEvents",
		"ec2:GetConsoleOutput", "ec2:GetConsoleScreenshot", "ec2:GetPasswordData",
		"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
		"kinesis:GetRecords", "logs:FilterLogEvents", "logs:GetLogEvents", "logs:GetLogRecord", "logs:GetQueryResults",
		"logs:StartLiveTail", "logs:StartQuery", "rds:DownloadCompleteDBLogFile", "rds:DownloadDBLogFilePortion",
		"secretsmanager:BatchGetSecretValue", "secretsmanager:GetSecretValue", "sqs:ReceiveMessage",
		"ssm:GetCommandInvocation", "states:GetExecutionHistory",
	}
)

// PlanDenies deny the plan role every data read, except the state (bucket
// objects, lock table items, state key) and the product's parameters.
func PlanDenies(stateBucket, lockTable, stateKeyAlias string, parameters []string) []iam.Statement {
	params := iam.Deny("DenyParameterReads", ParameterReads, "*")
	if len(parameters) > 0 {
		params = iam.DenyExcept("DenyParameterReadsButProducts", ParameterReads, parameters...)
	}
	return []iam.Statement{
		iam.DenyExcept("DenyObjectReadsButState", ObjectReads, stateBucket+"/*"),
		iam.DenyExcept("DenyItemReadsButLock", ItemReads, lockTable),
		// Keys without the state key's alias (or without any alias).
		iam.Deny("DenyKeyUseButState", KeyUse, "*").When("ForAllValues:StringNotEquals", "kms:ResourceAliases", stateKeyAlias),
		iam.Deny("DenyDataReads", DataReads, "*"),
		params,
	}
}
