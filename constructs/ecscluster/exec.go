package ecscluster

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecscluster"

	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/constructs/loggroup"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// ECS Exec (help/ecs-exec.md): an operator runs `aws ecs execute-command`
// as the environment's exec role; ECS opens a Session Manager session into
// the container, encrypted with the cluster's exec key, and the ECS agent
// in the task logs the whole session to the exec log group, which the
// stack's log key encrypts. The task role opens the session's channels
// (TaskStatements); the exec role may run ECS Exec on this cluster's tasks
// only (OperatorStatements); every other role of the account is denied it
// (DirectAccessDenies).

// ExecProps configures ECS Exec on a cluster.
type ExecProps struct {
	// LogKey encrypts the session log group; its policy must admit
	// CloudWatch Logs (kms.LogsStatement). Required.
	LogKey *kms.Key
	// LogRetentionDays keeps session logs; a value CloudWatch accepts.
	// Required.
	LogRetentionDays int
}

// Exec is a cluster's ECS Exec key and session log.
type Exec struct {
	// Key encrypts the sessions' data channels.
	Key *kms.Key
	// LogGroup receives every session's input and output.
	LogGroup *loggroup.Group
	// ClusterARN and TasksARN are the cluster and its tasks, known at synth
	// time.
	ClusterARN, TasksARN string
}

// ExecRoleName is the role, in the cluster's account, that people assume
// from the security account to run ECS Exec on the cluster's tasks.
func ExecRoleName(cluster string) string { return cluster + "-ecs-exec" }

// ExecLogGroupName is the cluster's session log group.
func ExecLogGroupName(cluster string) string { return "/ecs/" + cluster + "/exec" }

func newExec(s constructs.Construct, cluster string, p ExecProps) (*Exec, *ecscluster.EcsClusterConfiguration) {
	if p.LogKey == nil || p.LogRetentionDays == 0 {
		panic("ecscluster: Exec needs LogKey and LogRetentionDays (" + cluster + ")")
	}
	env := tf.EnvOf(s)
	e := &Exec{
		ClusterARN: env.ARN("ecs", "cluster/"+cluster),
		TasksARN:   env.ARN("ecs", "task/"+cluster+"/*"),
	}
	e.Key = kms.New(s, "exec-key", kms.Props{
		Alias: cluster + "-ecs-exec", Description: "Encrypts the ECS Exec sessions of " + cluster,
	})
	e.LogGroup = loggroup.New(s, "exec-logs", loggroup.Props{
		Name: ExecLogGroupName(cluster), RetentionDays: p.LogRetentionDays, Key: p.LogKey,
	})
	config := &ecscluster.EcsClusterConfiguration{
		ExecuteCommandConfiguration: &ecscluster.EcsClusterConfigurationExecuteCommandConfiguration{
			KmsKeyId: e.Key.ARN,
			Logging:  tf.S("OVERRIDE"),
			LogConfiguration: &ecscluster.EcsClusterConfigurationExecuteCommandConfigurationLogConfiguration{
				CloudWatchLogGroupName:      tf.S(e.LogGroup.Name),
				CloudWatchEncryptionEnabled: tf.B(true),
			},
		},
	}
	return e, config
}

// TaskStatements are what a task role needs for ECS Exec: open the
// session's control and data channels, decrypt them with the exec key,
// and write the session log (the agent checks the group exists and is
// encrypted first).
func (e *Exec) TaskStatements() []iam.Statement {
	return []iam.Statement{
		// Session Manager's channel actions have no resource to scope to.
		iam.Allow("ExecChannels", []string{"ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"}, "*"),
		iam.Allow("ExecDecrypt", []string{"kms:Decrypt"}, *e.Key.ARN),
		// DescribeLogGroups has no resource to scope to.
		iam.Allow("ExecFindLog", []string{"logs:DescribeLogGroups"}, "*"),
		iam.Allow("ExecWriteLog", []string{"logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"}, e.LogGroup.ARN, e.LogGroup.StreamsARN),
	}
}

// OperatorStatements are the exec role's permissions: find the cluster's
// tasks, run ECS Exec in their container named container, and encrypt the
// session with the exec key. Nothing else: no other cluster, no other
// container, and no Session Manager session that bypasses ECS Exec's log.
func (e *Exec) OperatorStatements(container string) []iam.Statement {
	return []iam.Statement{
		iam.Allow("FindTasks", []string{"ecs:DescribeServices", "ecs:DescribeTasks", "ecs:ListServices", "ecs:ListTasks"}, "*").
			When("ArnEquals", "ecs:cluster", e.ClusterARN),
		iam.Allow("ExecIntoContainers", []string{"ecs:ExecuteCommand"}, e.ClusterARN, e.TasksARN).
			When("StringEquals", "ecs:container-name", container),
		iam.Allow("EncryptSession", []string{"kms:GenerateDataKey"}, *e.Key.ARN),
		iam.Deny("DenyUnloggedSessions", []string{"ssm:StartSession"}, e.TasksARN),
	}
}

// DirectAccessDenies are denied to every other role people assume into an
// app account (the cross-account allow-* roles), so that ECS Exec, and a
// Session Manager session straight into a task (which ECS Exec's log
// would not see), go only through the exec role, whoever the role's
// managed policy lets do everything else.
func DirectAccessDenies(env awsenv.Env) []iam.Statement {
	return []iam.Statement{
		iam.Deny("DenyECSExecButExecRole", []string{"ecs:ExecuteCommand"}, "*"),
		iam.Deny("DenySessionsIntoTasks", []string{"ssm:StartSession"}, env.ARN("ecs", "task/*")),
	}
}
