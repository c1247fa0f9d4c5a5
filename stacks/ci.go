package stacks

import (
	"github.com/acme/landing-zone/constructs/githuboidc"
	"github.com/acme/landing-zone/internal/ci"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/iam"
)

// addCI lets GitHub Actions reach every account: the landing zone's own
// plan and apply roles everywhere, a push role per application repository
// in shared-services, and in the app accounts a role per service that may
// roll out that service only (in prod, only from the repository's prod
// GitHub environment).
func (l *Landing) addCI() {
	cfg := l.Logs.Config
	oidc := map[*Account]*githuboidc.OIDC{}
	_, shared := cfg.AccountOfKind(config.KindShared)
	for _, a := range l.accountStacks() {
		n := a.StateNames()
		var planAssumes []string
		if a.Account.Kind == config.KindApp {
			planAssumes = []string{ci.RoleARN(shared.ID, ci.PeeringRole(cfg, a.Name, false))}
		}
		o := githuboidc.New(a.Stack, "github", githuboidc.Props{
			Repo: cfg.SourceRepo, Environment: a.StackName,
			StateBucket: n.Bucket, LockTable: n.Table, StateKeyAlias: n.KeyAlias,
			AccountID: a.Account.ID, Region: cfg.Region,
			PlanAssumes:    planAssumes,
			PlanParameters: []string{ProductParameters(cfg, a.Account.ID), PublicParameters(cfg)},
		})
		a.Output("github_plan_role_arn", "Role pull requests plan with", o.PlanRoleARN)
		a.Output("github_apply_role_arn", "Role the main branch deploys with", o.ApplyRoleARN)
		oidc[a] = o
	}
	for _, name := range shared.ECR.RepositoryNames() {
		repo := shared.ECR.Repositories[name].GitHubRepo
		if repo == "" {
			continue
		}
		oidc[l.Shared.Account].AddRepoRole("push-"+name, "github-push-"+name, ci.MainBranchSubject(repo), l.pushStatements(name))
	}
	for _, app := range l.Apps {
		for _, svc := range app.Account.Account.ServiceNames() {
			repo := deployRepo(cfg, shared, app.Account.Account.Services[svc])
			if repo == "" {
				continue
			}
			s := app.Services[svc]
			// Prod deploys only from the repository's GitHub environment
			// named after the stack, whose reviewers approve each one.
			subject := ci.DeploySubject(cfg, app.Name, repo)
			oidc[app.Account].AddRepoRole("deploy-"+svc, "github-deploy-"+svc, subject, []iam.Statement{
				iam.Allow("RollOutService", []string{"ecs:DescribeServices", "ecs:UpdateService"}, s.ServiceARN),
				// Task definitions cannot be scoped by resource.
				iam.Allow("RegisterRevisions", []string{"ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"}, "*"),
				iam.Allow("PassServiceRoles", []string{"iam:PassRole"}, s.ExecutionRoleARN, s.TaskRoleARN).
					When("StringEquals", "iam:PassedToService", "ecs-tasks.amazonaws.com"),
			})
		}
	}
}

// ProductParameters matches the SSM parameters the product makes in an
// account (the CloudWatch agent configurations, /<prefix>-...): plans may
// read them, and no other parameter.
func ProductParameters(cfg *config.Config, accountID string) string {
	return "arn:aws:ssm:" + cfg.Region + ":" + accountID + ":parameter/" + cfg.NamePrefix + "-*"
}

// PublicParameters matches the parameters AWS publishes for every account
// (/aws/service/..., such as the current AMIs): plans may read them.
func PublicParameters(cfg *config.Config) string {
	return "arn:aws:ssm:" + cfg.Region + "::parameter/aws/service/*"
}

// pushStatements let a repository's CI push to one ECR repository.
func (l *Landing) pushStatements(repo string) []iam.Statement {
	return []iam.Statement{
		iam.Allow("ECRLogin", []string{"ecr:GetAuthorizationToken"}, "*"),
		iam.Allow("PushImages", []string{
			"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
			"ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
		}, l.registry.ARNs[repo]),
		iam.Allow("EncryptLayers", []string{"kms:Decrypt", "kms:GenerateDataKey"}, *l.registry.Key.ARN),
	}
}

// deployRepo is the GitHub repository that may roll out a service: the one
// that owns its image's ECR repository.
func deployRepo(cfg *config.Config, shared *config.Account, s *config.Service) string {
	registry := shared.ID + ".dkr.ecr." + cfg.Region + ".amazonaws.com/"
	if len(s.Image) <= len(registry) || s.Image[:len(registry)] != registry {
		return ""
	}
	if r := shared.ECR.Repositories[config.ImageRepository(s.Image)]; r != nil {
		return r.GitHubRepo
	}
	return ""
}
