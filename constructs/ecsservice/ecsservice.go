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
	"regexp"
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
	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/constructs/loggroup"
	"github.com/acme/landing-zone/constructs/role"
	"github.com/acme/landing-zone/constructs/securitygroup"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/naming"
	"github.com/acme/landing-zone/internal/tf"
)

// Autoscaling targets: scale out before a task saturates.
const (
	CPUTarget    = 70
	MemoryTarget = 80
)

// Props configures a service.
type Props struct {
	// Name is the service's full name (<prefix>-<env>-<service>). Required.
	Name string
	// Cluster is the cluster's name and ARN. Required.
	ClusterName string
	ClusterARN  *string
	// CapacityProvider runs the tasks: the cluster's EC2 provider, FARGATE
	// or FARGATE_SPOT. Required.
	CapacityProvider string
	// Image, CPU, Memory and Port describe the container. Required.
	Image           string
	CPU, Memory     int
	Port            int
	DesiredCount    int
	MinCount        int
	MaxCount        int
	HealthCheckPath string
	VpcID           *string
	SubnetIDs       *[]*string
	// LoadBalancer routes to the service: requests for HostHeader (and
	// PathPattern, if set) on its HTTPS listener, at rule Priority (unique
	// per listener). Required.
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
	// ZeroDowntime keeps 100% of tasks healthy during deployments.
	// Default: false (50%, cheaper and faster for dev).
	ZeroDowntime bool
	// After are resources the service's tasks need before they start (the
	// database users they connect as). Default: none.
	After []cdktf.ITerraformDependable
	// AccountID and Region build ARNs. Required.
	AccountID, Region string
}

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
	if p.Name == "" || p.LoadBalancer == nil || p.LogKey == nil || p.Priority == 0 {
		panic("ecsservice.New: Name, LoadBalancer, LogKey and Priority are required (" + id + ")")
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	svc := &Service{
		Name:             p.Name,
		ServiceARN:       "arn:aws:ecs:" + p.Region + ":" + p.AccountID + ":service/" + p.ClusterName + "/" + p.Name,
		ExecutionRoleARN: "arn:aws:iam::" + p.AccountID + ":role/" + execRoleName(p.Name),
		TaskRoleARN:      "arn:aws:iam::" + p.AccountID + ":role/" + taskRoleName(p.Name),
	}
	svc.LogGroup = loggroup.New(s, "logs", loggroup.Props{
		Name: "/ecs/" + p.Name, RetentionDays: p.LogRetentionDays, Key: p.LogKey, AccountID: p.AccountID, Region: p.Region,
	})
	svc.SecurityGroup = securitygroup.New(s, "sg", securitygroup.Props{Name: p.Name, Description: "Tasks of " + p.Name + ": reachable from their load balancer only", VpcID: p.VpcID})
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
		ContainerDefinitions:    tf.S(containerJSON(p, svc.LogGroup.Name)),
		Tags:                    tf.Name(p.Name),
	})
	tg := lbtargetgroup.NewLbTargetGroup(s, tf.S("tg"), &lbtargetgroup.LbTargetGroupConfig{
		Name:                tf.S(naming.Fit(p.Name, 32)),
		Port:                tf.N(p.Port),
		Protocol:            tf.S("HTTP"),
		TargetType:          tf.S("ip"),
		VpcId:               p.VpcID,
		DeregistrationDelay: tf.S("30"),
		HealthCheck: &lbtargetgroup.LbTargetGroupHealthCheck{
			Path: tf.S(p.HealthCheckPath), Matcher: tf.S("200-399"), Interval: tf.N(15), HealthyThreshold: tf.N(2), UnhealthyThreshold: tf.N(3),
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
	minHealthy := 50
	if p.ZeroDowntime {
		minHealthy = 100
	}
	ecsservice.NewEcsService(s, tf.S("service"), &ecsservice.EcsServiceConfig{
		Name:           tf.S(p.Name),
		Cluster:        p.ClusterARN,
		TaskDefinition: taskARN,
		DesiredCount:   tf.N(p.DesiredCount),
		CapacityProviderStrategy: &[]*ecsservice.EcsServiceCapacityProviderStrategy{
			{CapacityProvider: tf.S(p.CapacityProvider), Weight: tf.N(1)},
		},
		NetworkConfiguration: &ecsservice.EcsServiceNetworkConfiguration{
			Subnets: p.SubnetIDs, SecurityGroups: tf.Ptrs(sgID), AssignPublicIp: tf.B(false),
		},
		LoadBalancer: &[]*ecsservice.EcsServiceLoadBalancer{{
			TargetGroupArn: tgARN, ContainerName: tf.S("app"), ContainerPort: tf.N(p.Port),
		}},
		DeploymentCircuitBreaker:        &ecsservice.EcsServiceDeploymentCircuitBreaker{Enable: tf.B(true), Rollback: tf.B(true)},
		DeploymentMinimumHealthyPercent: tf.N(minHealthy),
		DeploymentMaximumPercent:        tf.N(200),
		HealthCheckGracePeriodSeconds:   tf.N(60),
		EnableEcsManagedTags:            tf.B(true),
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
	resource := "service/" + p.ClusterName + "/" + p.Name
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
				ScaleInCooldown:               tf.N(300),
				ScaleOutCooldown:              tf.N(60),
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
	if repo := ecrRepositoryARN(p.Image); repo != "" {
		exec = append(exec,
			iam.Allow("PullImage", []string{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}, repo),
			// GetAuthorizationToken has no resource to scope to.
			iam.Allow("ECRLogin", []string{"ecr:GetAuthorizationToken"}, "*"))
	}
	trust := iam.ServiceTrust("ecs-tasks.amazonaws.com", p.AccountID)
	execRole := role.New(s, "execution-role", role.Props{
		Name: execRoleName(p.Name), Tag: p.Name + "-exec", Trust: trust,
		Statements: exec, PolicyName: "start-task", PolicyID: "execution-policy",
	})
	taskRole := role.New(s, "task-role", role.Props{
		Name: taskRoleName(p.Name), Tag: p.Name + "-task", Trust: trust,
		Statements: p.TaskStatements, PolicyName: "app", PolicyID: "task-policy",
	})
	return execRole.Role, taskRole.Role
}

func execRoleName(service string) string { return naming.Fit(service+"-exec", 64) }
func taskRoleName(service string) string { return naming.Fit(service+"-task", 64) }

var ecrImage = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/([^:@]+)`)

// ecrRepositoryARN returns the ARN of an ECR image's repository, or "" for
// images from elsewhere.
func ecrRepositoryARN(image string) string {
	m := ecrImage.FindStringSubmatch(image)
	if m == nil {
		return ""
	}
	return "arn:aws:ecr:" + m[2] + ":" + m[1] + ":repository/" + m[3]
}

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
func containerJSON(p Props, logGroup string) string {
	env := []nameValue{}
	for _, k := range slices.Sorted(maps.Keys(p.Env)) {
		env = append(env, nameValue{k, p.Env[k]})
	}
	secrets := []secretRef{}
	for _, k := range slices.Sorted(maps.Keys(p.Secrets)) {
		secrets = append(secrets, secretRef{k, *p.Secrets[k]})
	}
	def := []map[string]any{{
		"name":         "app",
		"image":        p.Image,
		"essential":    true,
		"portMappings": []map[string]any{{"containerPort": p.Port, "protocol": "tcp"}},
		"environment":  env,
		"secrets":      secrets,
		"logConfiguration": map[string]any{
			"logDriver": "awslogs",
			"options":   map[string]string{"awslogs-group": logGroup, "awslogs-region": p.Region, "awslogs-stream-prefix": "app"},
		},
	}}
	b, err := json.Marshal(def)
	if err != nil {
		panic("ecsservice: container definition: " + err.Error())
	}
	return string(b)
}

func itoa(n int) string { return strconv.Itoa(n) }
