package access

import (
	"maps"
	"slices"

	"github.com/acme/landing-zone/constructs/ecscluster"
	"github.com/acme/landing-zone/constructs/ecsservice"
)

// execTask stands for any task of a cluster.
const execTask = "0123456789abcdef0123456789abcdef"

// execTarget is one ECS Exec request's cluster and task, with the
// condition keys ECS sets on it.
type execTarget struct {
	cluster, task string
	ctx           map[string]any
}

func (p *prover) execTarget(accountID, cluster, container string) execTarget {
	base := "arn:aws:ecs:" + p.cfg.Region + ":" + accountID + ":"
	t := execTarget{cluster: base + "cluster/" + cluster, task: base + "task/" + cluster + "/" + execTask}
	t.ctx = map[string]any{"ecs:cluster": t.cluster, "ecs:task": t.task, "ecs:container-name": container}
	return t
}

// execSteps is one `aws ecs execute-command`: ECS authorizes the call on
// the cluster and on the task.
func (p *prover) execSteps(pr *Principal, t execTarget) []*Step {
	return []*Step{p.step(pr, "ecs:ExecuteCommand", t.cluster, t.ctx), p.step(pr, "ecs:ExecuteCommand", t.task, t.ctx)}
}

// execQuestions (help/ecs-exec.md): the members of the groups an
// environment's ecs.exec_groups name, and no one else, assume its exec
// role with MFA and run ECS Exec in its containers, encrypting the session
// with its exec key; the exec role reaches no other cluster or container
// and no task but through ECS Exec; no other role people assume into an
// app account runs ECS Exec or a session straight into a task; the task
// roles open the session's channels and write the session log where ECS
// Exec is on, and not where it is off.
func (p *prover) execQuestions() {
	b := p.cfg.Baseline
	for _, app := range p.apps() {
		acct := p.account(app)
		e := p.appEnv(app)
		stacks := []string{p.security, app}
		q := func(name string, want bool, steps ...*Step) *Question {
			return p.add(&Question{Group: "ecs-exec", Stacks: stacks, Name: name, Want: want, Steps: steps})
		}
		target := p.execTarget(e.id, e.env, ecsservice.ContainerName)
		for _, r := range p.crossAccountRoles(app) {
			s := p.session(r.ARN, true)
			q(r.Name+" in "+app+" runs ECS Exec in "+app+"'s containers", false, p.execSteps(s, target)...)
			q(r.Name+" in "+app+" starts a Session Manager session straight into a task", false, p.step(s, "ssm:StartSession", target.task, nil))
		}
		if !acct.ExecOn() {
			for _, svc := range acct.ServiceNames() {
				task := p.session(p.taskRole(e, svc), false)
				q(app+" "+svc+": the task role opens ECS Exec's channels (ECS Exec is off)", false,
					p.steps(task, []string{"ssmmessages:CreateControlChannel", "ssmmessages:OpenDataChannel"}, "*", nil)...).AnyOf = true
			}
			continue
		}
		role := "arn:aws:iam::" + e.id + ":role/" + ecscluster.ExecRoleName(e.env)
		key, problem := p.execKey(e)
		logGroup := "arn:aws:logs:" + p.cfg.Region + ":" + e.id + ":log-group:" + ecscluster.ExecLogGroupName(e.env)
		exec := p.session(role, true)
		for _, g := range slices.Sorted(maps.Keys(b.Groups)) {
			name := "a member of " + g + " assumes " + app + "'s ECS Exec role"
			if !slices.Contains(acct.ECS.ExecGroups, g) {
				q(name, false, p.step(p.user(g+"-member", []string{g}, true), "sts:AssumeRole", role, nil))
				continue
			}
			steps := []*Step{p.step(p.user(g+"-member", []string{g}, true), "sts:AssumeRole", role, nil),
				p.step(exec, "ecs:DescribeTasks", target.task, map[string]any{"ecs:cluster": target.cluster})}
			steps = append(steps, p.execSteps(exec, target)...)
			steps = append(steps, p.step(exec, "kms:GenerateDataKey", key, nil))
			q(name+" with MFA and runs ECS Exec in "+app+"'s containers", true, steps...).Problem = problem
			q(name+" without MFA", false, p.step(p.user(g+"-member", []string{g}, false), "sts:AssumeRole", role, nil))
		}
		q(app+"'s ECS Exec role runs ECS Exec in a container other than "+ecsservice.ContainerName, false,
			p.execSteps(exec, p.execTarget(e.id, e.env, "sidecar"))...)
		q(app+"'s ECS Exec role runs ECS Exec on another cluster of "+app, false,
			p.execSteps(exec, p.execTarget(e.id, e.env+"-other", ecsservice.ContainerName))...)
		q(app+"'s ECS Exec role starts a Session Manager session straight into a task", false, p.step(exec, "ssm:StartSession", target.task, nil))
		for _, other := range p.apps() {
			if other != app {
				o := p.appEnv(other)
				q(app+"'s ECS Exec role runs ECS Exec in "+other+"'s containers", false, p.execSteps(exec, p.execTarget(o.id, o.env, ecsservice.ContainerName))...)
			}
		}
		for _, svc := range acct.ServiceNames() {
			task := p.session(p.taskRole(e, svc), false)
			steps := p.steps(task, []string{"ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel", "logs:DescribeLogGroups"}, "*", nil)
			steps = append(steps, p.step(task, "kms:Decrypt", key, nil), p.step(task, "logs:DescribeLogStreams", logGroup+":*", nil))
			steps = append(steps, p.steps(task, []string{"logs:CreateLogStream", "logs:PutLogEvents"}, logGroup+":log-stream:ecs-execute-command-"+execTask, nil)...)
			q(app+" "+svc+": the task role opens ECS Exec's channels and writes the session log", true, steps...).Problem = problem
		}
	}
}

// taskRole is a service's task role.
func (p *prover) taskRole(e *appEnv, svc string) string {
	return "arn:aws:iam::" + e.id + ":role/" + ecsservice.TaskRoleName(e.env+"-"+svc)
}

// execKey is the key the app stack's cluster encrypts ECS Exec sessions
// with, or a problem if the cluster has none.
func (p *prover) execKey(e *appEnv) (string, string) {
	for _, n := range slices.Sorted(maps.Keys(e.st.Resources["aws_ecs_cluster"])) {
		for _, c := range blocks(e.st.Resources["aws_ecs_cluster"][n]["configuration"]) {
			for _, x := range blocks(c["execute_command_configuration"]) {
				if k := e.st.Resolve(str(x["kms_key_id"])); k != "" {
					return k, ""
				}
			}
		}
	}
	return "", "the cluster of " + e.name + " has no ECS Exec key (execute_command_configuration.kms_key_id)"
}
