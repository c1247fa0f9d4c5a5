package stacks

import (
	"github.com/acme/landing-zone/constructs/ecr"
	"github.com/acme/landing-zone/constructs/githuboidc"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/ci"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/iam"
)

// addCI lets GitHub Actions reach every account: the landing zone's own
// plan and apply roles everywhere, a push role per application repository
// in shared-services, and in the app accounts a role per service that may
// roll out that service only (in prod, only from the repository's prod
// GitHub environment). Push roles may push to the registry's repositories.
func (l *Landing) addCI(registry *ecr.Registry) {
	cfg := l.Logs.Config
	oidc := map[*Account]*githuboidc.OIDC{}
	_, shared := cfg.AccountOfKind(config.KindShared)
	for _, a := range l.accountStacks() {
		n := a.StateNames()
		var planAssumes []string
		if a.Spec.Kind == config.KindApp {
			planAssumes = []string{ci.RoleARN(a.Env().Partition, shared.ID, ci.PeeringRole(cfg, a.Name, false))}
		}
		o := githuboidc.New(a.Stack, "github", githuboidc.Props{
			Repo: cfg.SourceRepo, Environment: a.StackName,
			StateBucket: n.Bucket, LockTable: n.Table, StateKeyAlias: n.KeyAlias,
			StateKey:       a.StateKey(),
			PlanAssumes:    planAssumes,
			PlanParameters: []string{ProductParameters(cfg, a.Spec.ID), PublicParameters(cfg)},
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
		oidc[l.Shared.Account].AddRepoRole("push-"+name, "github-push-"+name, ci.MainBranchSubject(repo), pushStatements(registry, name))
	}
	for _, app := range l.Apps {
		for _, svc := range app.Spec.ServiceNames() {
			repo := deployRepo(cfg, shared, app.Spec.Services[svc])
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
	return awsenv.New(accountID, cfg.Region).ARN("ssm", "parameter/"+cfg.NamePrefix+"-*")
}

// PublicParameters matches the parameters AWS publishes for every account
// (/aws/service/..., such as the current AMIs): plans may read them.
func PublicParameters(cfg *config.Config) string {
	return awsenv.PartitionOf(cfg.Region).ARN("ssm", cfg.Region, "", "parameter/aws/service/*")
}

// pushStatements let a repository's CI push to one ECR repository.
func pushStatements(registry *ecr.Registry, repo string) []iam.Statement {
	return []iam.Statement{
		iam.Allow("ECRLogin", []string{"ecr:GetAuthorizationToken"}, "*"),
		iam.Allow("PushImages", []string{
			"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
			"ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
		}, registry.ARNs[repo]),
		iam.Allow("EncryptLayers", []string{"kms:Decrypt", "kms:GenerateDataKey"}, *registry.Key.ARN),
	}
}

// deployRepo is the GitHub repository that may roll out a service: the one
// that owns its image's ECR repository.
func deployRepo(cfg *config.Config, shared *config.Account, s *config.Service) string {
	repo, ok := cfg.RegistryRepository(s.Image)
	if !ok {
		return ""
	}
	if r := shared.ECR.Repositories[repo]; r != nil {
		return r.GitHubRepo
	}
	return ""
}
