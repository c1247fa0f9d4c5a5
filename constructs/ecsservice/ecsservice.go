// Package ecsservice runs one Docker service on an ECS cluster behind a
// load balancer: a task definition with a KMS-encrypted log group, task and
// execution roles scoped to exactly what the service reads, a target group
// and listener rule, a security group reachable only from its load
// balancer, a deployment circuit breaker with rollback, and target-tracking
// autoscaling on CPU and memory.
//
// It owns all of those. It does not own the cluster, the load balancer, the
// secrets or the data stores: callers pass grants (statements) and open
// data stores to the service's security group. Entry point: New.
package ecsservice

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/appautoscalingpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/appautoscalingtarget"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecsservice"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecstaskdefinition"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lblistenerrule"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lbtargetgroup"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/alb"
	"github.com/acme/landing-zone/constructs/ecscluster"
	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/constructs/loggroup"
	"github.com/acme/landing-zone/constructs/role"
	"github.com/acme/landing-zone/constructs/securitygroup"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/naming"
	"github.com/acme/landing-zone/internal/tf"
)

// Autoscaling targets (percent): scale out before a task saturates.
const (
	CPUTarget    = 70
	MemoryTarget = 80
)

// Autoscaling cooldowns: scale out fast, scale in slowly so that a short
// dip does not remove tasks a returning peak needs.
const (
	ScaleOutCooldownSeconds = 60
	ScaleInCooldownSeconds  = 300
)

// Target group health checks: a task is healthy after HealthyThreshold
// passing checks HealthCheckIntervalSeconds apart, and unhealthy after
// UnhealthyThreshold failures; any status in HealthyStatuses passes.
const (
	HealthCheckIntervalSeconds = 15
	HealthyThreshold           = 2
	UnhealthyThreshold         = 3
	HealthyStatuses            = "200-399"
)

// DeregistrationDelaySeconds lets in-flight requests finish before a
// stopping task leaves its target group.
const DeregistrationDelaySeconds = 30

// HealthCheckGraceSeconds is how long ECS ignores a new task's load
// balancer health checks while it starts.
const HealthCheckGraceSeconds = 60

// Deployment bounds (percent of the desired count): new tasks start beside
// the old ones up to MaxDeployPercent; at least MinHealthyPercent stay
// healthy, or ZeroDowntimeMinHealthyPercent with ZeroDowntime.
const (
	MaxDeployPercent              = 200
	MinHealthyPercent             = 50
	ZeroDowntimeMinHealthyPercent = 100
)

// ContainerName is the service's single container.
const ContainerName = "app"

// Props configures a service.
type Props struct {
	// Name is the service's full name (<prefix>-<env>-<service>). Required.
	Name string
	// Cluster runs the service; its tasks run in the cluster's VPC and
	// tier. When the cluster has ECS Exec on (Cluster.Exec), so does the
	// service, and its task role gets what ECS Exec needs. Required.
	Cluster *ecscluster.Cluster
	// CapacityProvider runs the tasks: the cluster's EC2 provider, FARGATE
	// or FARGATE_SPOT. Required.
	CapacityProvider string
	// Image, CPU, Memory and Port describe the container. Required.
	Image       string
	CPU, Memory int
	Port        int
	// ImageRepository is the ARN of the ECR repository Image is pulled
	// from, which the execution role may pull from. Default: "", an image
	// from a public registry, and no ECR grant.
	ImageRepository string
	// DesiredCount is the first deployment's task count; autoscaling keeps
	// the count between MinCount and MaxCount afterwards. Required.
	DesiredCount, MinCount, MaxCount int
	// HealthCheckPath is the HTTP path the load balancer checks. Required.
	HealthCheckPath string
	// LoadBalancer routes to the service: requests for HostHeader (and
	// PathPattern) on its HTTPS listener, at rule Priority (unique per
	// listener). Required, but PathPattern: default "", every path.
	LoadBalancer *alb.ALB
	HostHeader   string
	PathPattern  string
	Priority     int
	// Env are plain variables; Secrets map variable names to secret ARNs
	// (or "ARN:json-key::" references). Default: none.
	Env     map[string]string
	Secrets map[string]*string
	// ExecutionStatements are added to the execution role (reading the
	// secrets); TaskStatements to the task role (what the app calls).
	// Default: none.
	ExecutionStatements []iam.Statement
	TaskStatements      []iam.Statement
	// LogKey and LogRetentionDays configure the log group. Required.
	LogKey           *kms.Key
	LogRetentionDays int
	// ZeroDowntime keeps all tasks healthy during deployments. Default:
	// false (half of them, cheaper and faster for dev).
	ZeroDowntime bool
	// After are resources the service's tasks need before they start (the
	// database users they connect as). Default: none.
	After []cdktf.ITerraformDependable
	// WritableRoot leaves the container's root filesystem writable.
	// Default: false, read-only, with a task volume at ScratchPath for
	// temporary files; always writable when the cluster has ECS Exec on,
	// whose agent writes inside the container.
	WritableRoot bool
	// User runs the container's process (user or uid, optionally :group or
	// :gid; "0" is root). Default: DefaultUser, not root.
	User string
}

// DefaultUser runs the containers of services that name no user: a
// numeric uid:gid, which needs no entry in the image's /etc/passwd.
const DefaultUser = "1000:1000"

// ScratchPath is the writable directory of a read-only container: a task
// volume, emptied with the task.
const ScratchPath = "/tmp"

// scratchVolume names the task volume mounted at ScratchPath.
const scratchVolume = "scratch"

// readOnlyRoot reports whether the container's root filesystem is
// read-only.
func (p Props) readOnlyRoot() bool { return !p.WritableRoot && p.Cluster.Exec == nil }

// Service is the created service.
type Service struct {
	Name string
	// ServiceARN and the role ARNs are known at synth time, for deploy roles.
	ServiceARN, ExecutionRoleARN, TaskRoleARN string
	SecurityGroup                             *securitygroup.Group
	LogGroup                                  *loggroup.Group
	TargetGroupARN                            *string
	// TargetGroupArnSuffix is the TargetGroup dimension of its metrics.
	TargetGroupArnSuffix *string
}

// New creates the service.
func New(scope constructs.Construct, id string, p Props) *Service {
	if p.Name == "" || p.Cluster == nil || p.LoadBalancer == nil || p.LogKey == nil || p.Priority == 0 {
		panic("ecsservice.New: Name, Cluster, LoadBalancer, LogKey and Priority are required (" + id + ")")
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	env := tf.EnvOf(s)
	svc := &Service{
		Name:             p.Name,
		ServiceARN:       env.ARN("ecs", "service/"+p.Cluster.Name+"/"+p.Name),
		ExecutionRoleARN: env.Role(execRoleName(p.Name)),
		TaskRoleARN:      env.Role(TaskRoleName(p.Name)),
	}
	svc.LogGroup = loggroup.New(s, "logs", loggroup.Props{
		Name: "/ecs/" + p.Name, RetentionDays: p.LogRetentionDays, Key: p.LogKey,
	})
	svc.SecurityGroup = securitygroup.New(s, "sg", securitygroup.Props{Name: p.Name, Description: "Tasks of " + p.Name + ": reachable from their load balancer only", VPC: p.Cluster.VPC})
	svc.SecurityGroup.AllowFromGroup("alb", p.LoadBalancer.SecurityGroup.ID, securitygroup.TCP(p.Port, "Traffic from the load balancer"))
	svc.SecurityGroup.AllowToInternet(securitygroup.TCP(443, "AWS APIs and HTTPS dependencies"),
		"tasks call AWS APIs and their HTTPS dependencies through the NAT gateway; HTTPS only, from private subnets")
	p.LoadBalancer.AllowTo(p.Name, svc.SecurityGroup.ID, p.Port)

	exec, task := roles(s, p, svc.LogGroup)
	td := ecstaskdefinition.NewEcsTaskDefinition(s, tf.S("task"), &ecstaskdefinition.EcsTaskDefinitionConfig{
		Family:                  tf.S(p.Name),
		NetworkMode:             tf.S("awsvpc"),
		RequiresCompatibilities: tf.Strs("EC2", "FARGATE"),
		Cpu:                     tf.S(itoa(p.CPU)),
		Memory:                  tf.S(itoa(p.Memory)),
		ExecutionRoleArn:        exec.Arn(),
		TaskRoleArn:             task.Arn(),
		ContainerDefinitions:    tf.S(containerJSON(p, svc.LogGroup.Name, env.Region)),
		Volume:                  scratch(p),
		Tags:                    tf.Name(p.Name),
	})
	tg := lbtargetgroup.NewLbTargetGroup(s, tf.S("tg"), &lbtargetgroup.LbTargetGroupConfig{
		Name:                tf.S(naming.Fit(p.Name, 32)),
		Port:                tf.N(p.Port),
		Protocol:            tf.S("HTTP"),
		TargetType:          tf.S("ip"),
		VpcId:               p.Cluster.VPC.ID,
		DeregistrationDelay: tf.S(itoa(DeregistrationDelaySeconds)),
		HealthCheck: &lbtargetgroup.LbTargetGroupHealthCheck{
			Path: tf.S(p.HealthCheckPath), Matcher: tf.S(HealthyStatuses), Interval: tf.N(HealthCheckIntervalSeconds),
			HealthyThreshold: tf.N(HealthyThreshold), UnhealthyThreshold: tf.N(UnhealthyThreshold),
		},
		Tags: tf.Name(p.Name),
	})
	svc.TargetGroupARN, svc.TargetGroupArnSuffix = tg.Arn(), tg.ArnSuffix()
	rule := listenerRule(s, p, svc.TargetGroupARN)
	service(s, p, td.Arn(), svc.TargetGroupARN, svc.SecurityGroup.ID, append([]cdktf.ITerraformDependable{rule}, p.After...))
	autoscaling(s, p)
	return svc
}

func listenerRule(s constructs.Construct, p Props, tgARN *string) lblistenerrule.LbListenerRule {
	conds := []*lblistenerrule.LbListenerRuleCondition{
		{HostHeader: &lblistenerrule.LbListenerRuleConditionHostHeader{Values: tf.Strs(p.HostHeader)}},
	}
	if p.PathPattern != "" {
		conds = append(conds, &lblistenerrule.LbListenerRuleCondition{PathPattern: &lblistenerrule.LbListenerRuleConditionPathPattern{Values: tf.Strs(p.PathPattern)}})
	}
	return lblistenerrule.NewLbListenerRule(s, tf.S("rule"), &lblistenerrule.LbListenerRuleConfig{
		ListenerArn: p.LoadBalancer.HTTPSListenerARN,
		Priority:    tf.N(p.Priority),
		Condition:   &conds,
		Action:      &[]*lblistenerrule.LbListenerRuleAction{{Type: tf.S("forward"), TargetGroupArn: tgARN}},
		Tags:        tf.Name(p.Name),
	})
}

func service(s constructs.Construct, p Props, taskARN, tgARN, sgID *string, after []cdktf.ITerraformDependable) {
	minHealthy := MinHealthyPercent
	// ECS Exec follows the cluster's configuration (help/ecs-exec.md).
	var execOn *bool
	if p.Cluster.Exec != nil {
		execOn = tf.B(true)
	}
	if p.ZeroDowntime {
		minHealthy = ZeroDowntimeMinHealthyPercent
	}
	ecsservice.NewEcsService(s, tf.S("service"), &ecsservice.EcsServiceConfig{
		Name:           tf.S(p.Name),
		Cluster:        p.Cluster.ARN,
		TaskDefinition: taskARN,
		DesiredCount:   tf.N(p.DesiredCount),
		CapacityProviderStrategy: &[]*ecsservice.EcsServiceCapacityProviderStrategy{
			{CapacityProvider: tf.S(p.CapacityProvider), Weight: tf.N(1)},
		},
		NetworkConfiguration: &ecsservice.EcsServiceNetworkConfiguration{
			Subnets: p.Cluster.VPC.SubnetIDs(p.Cluster.Tier), SecurityGroups: tf.Ptrs(sgID), AssignPublicIp: tf.B(false),
		},
		LoadBalancer: &[]*ecsservice.EcsServiceLoadBalancer{{
			TargetGroupArn: tgARN, ContainerName: tf.S(ContainerName), ContainerPort: tf.N(p.Port),
		}},
		DeploymentCircuitBreaker:        &ecsservice.EcsServiceDeploymentCircuitBreaker{Enable: tf.B(true), Rollback: tf.B(true)},
		DeploymentMinimumHealthyPercent: tf.N(minHealthy),
		DeploymentMaximumPercent:        tf.N(MaxDeployPercent),
		HealthCheckGracePeriodSeconds:   tf.N(HealthCheckGraceSeconds),
		EnableEcsManagedTags:            tf.B(true),
		EnableExecuteCommand:            execOn,
		PropagateTags:                   tf.S("SERVICE"),
		Tags:                            tf.Name(p.Name),
		// Autoscaling owns the running count after the first deploy.
		Lifecycle: &cdktf.TerraformResourceLifecycle{IgnoreChanges: tf.Strs("desired_count")},
		// The target group must be attached to the load balancer first (the
		// listener rule, after's first).
		DependsOn: &after,
	})
}

func autoscaling(s constructs.Construct, p Props) {
	resource := "service/" + p.Cluster.Name + "/" + p.Name
	target := appautoscalingtarget.NewAppautoscalingTarget(s, tf.S("scaling"), &appautoscalingtarget.AppautoscalingTargetConfig{
		ServiceNamespace: tf.S("ecs"), ScalableDimension: tf.S("ecs:service:DesiredCount"), ResourceId: tf.S(resource),
		MinCapacity: tf.N(p.MinCount), MaxCapacity: tf.N(p.MaxCount),
	})
	// Each attribute read is a round trip to jsii: read them once.
	namespace, dimension, id := target.ServiceNamespace(), target.ScalableDimension(), target.ResourceId()
	for _, m := range []struct {
		id, metric string
		target     int
	}{{"cpu", "ECSServiceAverageCPUUtilization", CPUTarget}, {"memory", "ECSServiceAverageMemoryUtilization", MemoryTarget}} {
		appautoscalingpolicy.NewAppautoscalingPolicy(s, tf.S("scale-"+m.id), &appautoscalingpolicy.AppautoscalingPolicyConfig{
			Name: tf.S(p.Name + "-" + m.id), PolicyType: tf.S("TargetTrackingScaling"),
			ServiceNamespace: namespace, ScalableDimension: dimension, ResourceId: id,
			TargetTrackingScalingPolicyConfiguration: &appautoscalingpolicy.AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration{
				TargetValue:                   tf.N(m.target),
				PredefinedMetricSpecification: &appautoscalingpolicy.AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification{PredefinedMetricType: tf.S(m.metric)},
				ScaleInCooldown:               tf.N(ScaleInCooldownSeconds),
				ScaleOutCooldown:              tf.N(ScaleOutCooldownSeconds),
			},
		})
	}
}

// roles makes the execution role (what ECS needs to start the task: pull
// the image, write logs, read the secrets) and the task role (what the app
// itself may call). Both trust only ECS tasks of this account.
func roles(s constructs.Construct, p Props, logs *loggroup.Group) (iamrole.IamRole, iamrole.IamRole) {
	exec := append([]iam.Statement{
		iam.Allow("WriteLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, logs.StreamsARN),
	}, p.ExecutionStatements...)
	if repo := p.ImageRepository; repo != "" {
		exec = append(exec,
			iam.Allow("PullImage", []string{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}, repo),
			// GetAuthorizationToken has no resource to scope to.
			iam.Allow("ECRLogin", []string{"ecr:GetAuthorizationToken"}, "*"))
	}
	trust := iam.ServiceTrust("ecs-tasks.amazonaws.com", tf.EnvOf(s).Account)
	execRole := role.New(s, "execution-role", role.Props{
		Name: execRoleName(p.Name), Tag: p.Name + "-exec", Trust: trust,
		Statements: exec, PolicyName: "start-task", PolicyID: "execution-policy",
	})
	task := p.TaskStatements
	if e := p.Cluster.Exec; e != nil {
		task = append(slices.Clip(task), e.TaskStatements()...)
	}
	taskRole := role.New(s, "task-role", role.Props{
		Name: TaskRoleName(p.Name), Tag: p.Name + "-task", Trust: trust,
		Statements: task, PolicyName: "app", PolicyID: "task-policy",
	})
	return execRole.Role, taskRole.Role
}

func execRoleName(service string) string { return naming.Fit(service+"-exec", 64) }

// TaskRoleName is the task role of a service, by its full name.
func TaskRoleName(service string) string { return naming.Fit(service+"-task", 64) }

type nameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type secretRef struct {
	Name      string `json:"name"`
	ValueFrom string `json:"valueFrom"`
}

// containerJSON renders the container definition in Go, with sorted
// variables, so it is deterministic.
func containerJSON(p Props, logGroup, region string) string {
	env := []nameValue{}
	for _, k := range slices.Sorted(maps.Keys(p.Env)) {
		env = append(env, nameValue{k, p.Env[k]})
	}
	secrets := []secretRef{}
	for _, k := range slices.Sorted(maps.Keys(p.Secrets)) {
		secrets = append(secrets, secretRef{k, *p.Secrets[k]})
	}
	def := []map[string]any{{
		"name":         ContainerName,
		"image":        p.Image,
		"essential":    true,
		"portMappings": []map[string]any{{"containerPort": p.Port, "protocol": "tcp"}},
		"environment":  env,
		"secrets":      secrets,
		"logConfiguration": map[string]any{
			"logDriver": "awslogs",
			"options":   map[string]string{"awslogs-group": logGroup, "awslogs-region": region, "awslogs-stream-prefix": ContainerName},
		},
	}}
	user := p.User
	if user == "" {
		user = DefaultUser
	}
	def[0]["user"] = user
	def[0]["readonlyRootFilesystem"] = p.readOnlyRoot()
	if p.readOnlyRoot() {
		def[0]["mountPoints"] = []map[string]any{{"sourceVolume": scratchVolume, "containerPath": ScratchPath, "readOnly": false}}
	}
	b, err := json.Marshal(def)
	if err != nil {
		panic("ecsservice: container definition: " + err.Error())
	}
	return string(b)
}

// scratch is the task volume of a read-only container, or none.
func scratch(p Props) *[]*ecstaskdefinition.EcsTaskDefinitionVolume {
	if !p.readOnlyRoot() {
		return nil
	}
	return &[]*ecstaskdefinition.EcsTaskDefinitionVolume{{Name: tf.S(scratchVolume)}}
}

func itoa(n int) string { return strconv.Itoa(n) }
