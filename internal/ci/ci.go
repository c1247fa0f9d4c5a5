// Package ci says who Terraform runs as: a person (the account's
// deploy_role), or a GitHub Actions job signed in through OIDC as the
// account's github-plan or github-apply role. It is the one place that
// names the roles each stack's providers and backend assume in each mode
// and the token subjects GitHub's roles accept, so that the stacks (which
// emit them) and the IAM proof (internal/access, which proves them) cannot
// disagree.
//
// It builds no infrastructure and reads no synthesized JSON. Entry points:
// ParseMode, ChainOf, PeeringRole.
package ci

import (
	"fmt"

	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/config"
)

// Mode is who runs Terraform, from LZ_CI.
type Mode string

// Modes. Human is LZ_CI unset.
const (
	Human Mode = ""
	Plan  Mode = "plan"
	Apply Mode = "apply"
)

// Modes lists every mode, people first.
var Modes = []Mode{Human, Plan, Apply}

// EnvVar names the environment variable that selects the mode.
const EnvVar = "LZ_CI"

// ParseMode reads LZ_CI's value: "" (a person), "plan" or "apply".
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Human, Plan, Apply:
		return m, nil
	}
	return Human, fmt.Errorf("%s=%q: use plan (pull requests), apply (the deploy job) or leave it unset (a person)", EnvVar, s)
}

// String names the mode for people.
func (m Mode) String() string {
	if m == Human {
		return "human"
	}
	return "CI " + string(m)
}

// The landing zone repository's roles, the same name in every account so
// that workflows can build their ARNs.
const (
	PlanRole  = "github-plan"
	ApplyRole = "github-apply"
)

// OIDCRole is the role a CI job signs in as in every account: github-plan
// or github-apply. It is "" for Human.
func (m Mode) OIDCRole() string {
	switch m {
	case Plan:
		return PlanRole
	case Apply:
		return ApplyRole
	}
	return ""
}

// RoleARN is a role's ARN in an account.
func RoleARN(p awsenv.Partition, accountID, name string) string { return p.Role(accountID, name) }

// PeeringRole is the role in shared-services that an app account's stack
// assumes for its "shared" provider (the peering accepter, the routes back
// in the management VPC and the private zone's association):
// "<prefix>-<app>-peering", which may write exactly those, or
// "<prefix>-<app>-peering-read", which may only describe them, for plans.
func PeeringRole(cfg *config.Config, app string, write bool) string {
	name := cfg.NamePrefix + "-" + app + "-peering"
	if !write {
		name += "-read"
	}
	return name
}

// PeeringRoleWrites says which peering role a mode's shared provider
// assumes: the write role for apply and for people, the read role for plan.
func (m Mode) PeeringRoleWrites() bool { return m != Plan }

// Chain lists the roles, in order, that one account stack's providers and
// S3 backend assume from the credentials in the environment. An empty list
// means the environment's credentials are used as they are.
type Chain struct {
	// Stack is the account stack (the account's name).
	Stack string
	// Start is who the environment's credentials are: the job's OIDC role
	// in the stack's account, or "" for a person (anyone who may assume
	// the first role).
	Start string
	// Default is the stack's default provider, Backend its S3 backend.
	Default, Backend []string
	// Shared is the app stacks' provider aliased "shared", in
	// shared-services; nil for other stacks.
	Shared []string
}

// ChainOf returns the chain of an account stack in a mode.
//
// People start from whatever identity may assume the account's
// deploy_role, which the default provider and the backend assume; an app
// stack's shared provider goes on from that session to the account's
// peering role in shared-services (role chaining), never to
// shared-services' own deploy_role.
//
// CI runs each stack without the extra hop, as Gruntwork Pipelines does:
// the job is already signed in as github-plan or github-apply in the
// stack's account, which the default provider and the backend use as
// they are; the shared provider assumes the peering role from it.
func ChainOf(cfg *config.Config, stack string, m Mode) Chain {
	acct, part := cfg.Accounts[stack], awsenv.PartitionOf(cfg.Region)
	c := Chain{Stack: stack}
	if m == Human {
		c.Default = []string{acct.DeployRoleARN(part)}
		c.Backend = []string{acct.DeployRoleARN(part)}
	} else {
		c.Start = RoleARN(part, acct.ID, m.OIDCRole())
	}
	if acct.Kind == config.KindApp {
		_, shared := cfg.AccountOfKind(config.KindShared)
		peering := RoleARN(part, shared.ID, PeeringRole(cfg, stack, m.PeeringRoleWrites()))
		c.Shared = append(append([]string(nil), c.Default...), peering)
	}
	return c
}

// Subjects of GitHub's OIDC tokens ("sub" claim) that the roles accept.
//
// The landing zone repository uses the subject template repo+context+ref
// (help/ci-cd.md), so that its apply role can require both the GitHub
// environment and the main branch. Application repositories keep GitHub's
// default template: repo plus context, where the context of a job in a
// GitHub environment is that environment, and otherwise its ref.

// PlanSubject is what github-plan accepts (StringLike): any pull request of
// the landing zone repository, from any branch.
func PlanSubject(repo string) string { return "repo:" + repo + ":pull_request:ref:refs/pull/*/merge" }

// ApplySubject is the only subject github-apply accepts: the deploy job of
// the stack's GitHub environment, on main.
func ApplySubject(repo, environment string) string {
	return "repo:" + repo + ":environment:" + environment + ":ref:refs/heads/main"
}

// MainBranchSubject is the default-template subject of a job of an
// application repository's main branch outside any GitHub environment.
func MainBranchSubject(repo string) string { return "repo:" + repo + ":ref:refs/heads/main" }

// EnvironmentSubject is the default-template subject of a job of an
// application repository that runs in a GitHub environment. The
// environment's own protection rules (its deployment branches and required
// reviewers) then decide which refs and who may deploy.
func EnvironmentSubject(repo, environment string) string {
	return "repo:" + repo + ":environment:" + environment
}

// DeploySubject is what an app account's github-deploy-<service> role
// accepts: in a prod-profile account only the job of the account's GitHub
// environment (the approval gate), elsewhere the main branch.
func DeploySubject(cfg *config.Config, account, repo string) string {
	if cfg.Accounts[account].Profile == config.ProfileProd {
		return EnvironmentSubject(repo, account)
	}
	return MainBranchSubject(repo)
}
