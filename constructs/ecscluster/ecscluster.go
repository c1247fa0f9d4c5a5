// Package ecscluster makes an ECS cluster with three kinds of capacity: an
// EC2 Auto Scaling group of ECS-optimized hosts managed by ECS (managed
// scaling, termination protection and draining), FARGATE and FARGATE_SPOT.
//
// Hosts are patched by replacement: Amazon Linux 2023 locks dnf to the
// AMI's release, so a weekly schedule (EventBridge Scheduler) starts an
// instance refresh that replaces every host, one at a time and each after
// ECS drained it, with one launched from the latest ECS-optimized AMI, which
// the launch template resolves from its public SSM parameter at launch.
// Terraform rolls the hosts the same way when the launch template changes.
//
// It owns the cluster, the capacity providers, the hosts' launch template,
// Auto Scaling group, instance role and security group, and the refresh
// schedule and its role. It does not own services (constructs/ecsservice),
// load balancers, or the alarms on the hosts (constructs/monitoring).
// Entry point: New.
package ecscluster

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"text/template"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/autoscalinggroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecscapacityprovider"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecscluster"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecsclustercapacityproviders"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iaminstanceprofile"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicyattachment"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/launchtemplate"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/schedulerschedule"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/network"
	"github.com/acme/landing-zone/constructs/role"
	"github.com/acme/landing-zone/constructs/securitygroup"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// AMIParameter is the SSM parameter of the current ECS-optimized Amazon
// Linux 2023 AMI; resolving it at launch keeps hosts patched without a
// data source (which would need AWS access at plan time).
const AMIParameter = "resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"

// Capacity provider names for services.
const (
	Fargate     = "FARGATE"
	FargateSpot = "FARGATE_SPOT"
)

// DefaultRootVolumeGiB sizes each host's encrypted root volume.
const DefaultRootVolumeGiB = 30

// TargetCapacityPercent is ECS managed scaling's target: hosts are added
// only when every host is in use, and idle hosts are removed.
const TargetCapacityPercent = 100

// The weekly refresh call is retried RefreshRetries times within
// RefreshRetrySeconds (while a Terraform roll is running, it is refused).
const (
	RefreshRetries      = 3
	RefreshRetrySeconds = 3600
)

// MetricNamespace holds the hosts' own metrics; ReleaseAgeMetric is the
// age in days of a host's Amazon Linux release, reported hourly by each
// host (dimension AutoScalingGroupName).
const (
	MetricNamespace  = "LandingZone/Hosts"
	ReleaseAgeMetric = "ReleaseAgeDays"
)

// HostsName is the hosts' Auto Scaling group of a cluster.
func HostsName(cluster string) string { return cluster + "-ecs-hosts" }

//go:embed userdata.sh.tmpl
var userDataTemplate string

var userData = template.Must(template.New("userdata").Parse(userDataTemplate))

// Props configures a cluster.
type Props struct {
	// Name of the cluster; also prefixes its hosts' resources. Required.
	Name string
	// VPC places the hosts and the services' tasks, in the subnets of
	// Tier; the hosts reach the whole VPC range on every port (DNS,
	// services). Required: VPC. Default tier: network.PrivateApp.
	VPC  *network.Vpc
	Tier network.Tier
	// InstanceType of the hosts. Required (config supplies it per profile).
	InstanceType string
	// MinSize and MaxSize bound the hosts; ECS managed scaling picks the
	// number in between. Required: MaxSize at least 1. Default MinSize: 0.
	MinSize, MaxSize int
	// RootVolumeGiB sizes each host's root volume. Default: 30.
	RootVolumeGiB int
	// AgentParameter names the CloudWatch agent config the hosts fetch at
	// boot, and HostStatements grant what the agent needs. Default: no
	// agent.
	AgentParameter string
	HostStatements []iam.Statement
	// RefreshSchedule is when, every week, an instance refresh replaces the
	// hosts from the latest AMI: an EventBridge Scheduler expression in UTC
	// such as cron(0 4 ? * TUE *) (WeeklyCron). Required.
	RefreshSchedule string
	// Exec turns ECS Exec on: every session is encrypted with a key of its
	// own and logged to a log group that LogKey encrypts (see ExecProps).
	// Default: nil, ECS Exec off.
	Exec *ExecProps
}

// RefreshPreferences are the preferences of every instance refresh of the
// hosts, Terraform's and the weekly one: launch each replacement before
// its host goes (100 to 200 % healthy), replace the hosts that ECS protects
// from scale-in (the default waits an hour for the protection to go, then
// fails), terminate standby hosts, and never skip "matching" hosts: the
// launch template names the AMI through an SSM parameter, so every host
// matches it, whatever image it runs.
var RefreshPreferences = struct {
	MinHealthyPercentage, MaxHealthyPercentage  int
	InstanceWarmup                              int
	ScaleInProtectedInstances, StandbyInstances string
	SkipMatching                                bool
}{100, 200, 120, "Refresh", "Terminate", false}

// WeeklyCron turns a weekly UTC time, ddd:hh:mm (config's host_refresh,
// validated there), into an EventBridge Scheduler cron expression.
func WeeklyCron(weekly string) string {
	day, hm, _ := strings.Cut(weekly, ":")
	hh, mm, _ := strings.Cut(hm, ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if len(day) != 3 || err1 != nil || err2 != nil {
		panic("ecscluster.WeeklyCron: want ddd:hh:mm, got " + weekly)
	}
	return "cron(" + strconv.Itoa(m) + " " + strconv.Itoa(h) + " ? * " + strings.ToUpper(day) + " *)"
}

// Cluster is the created cluster.
type Cluster struct {
	Name string
	ARN  *string
	// VPC and Tier are where the hosts run, and where services run their
	// tasks.
	VPC  *network.Vpc
	Tier network.Tier
	// EC2CapacityProvider names the Auto Scaling group's capacity provider.
	EC2CapacityProvider string
	HostSecurityGroup   *securitygroup.Group
	// Exec is ECS Exec's key and session log, nil when Exec is off.
	Exec *Exec
}

// New creates the cluster and its capacity.
func New(scope constructs.Construct, id string, p Props) *Cluster {
	if p.Name == "" || p.VPC == nil || p.InstanceType == "" || p.MaxSize < 1 || p.RefreshSchedule == "" {
		panic("ecscluster.New: Name, VPC, InstanceType, MaxSize and RefreshSchedule are required (" + id + ")")
	}
	if p.Tier == "" {
		p.Tier = network.PrivateApp
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	c := &Cluster{Name: p.Name, VPC: p.VPC, Tier: p.Tier, EC2CapacityProvider: p.Name + "-ec2"}
	var execConfig *ecscluster.EcsClusterConfiguration
	if p.Exec != nil {
		c.Exec, execConfig = newExec(s, p.Name, *p.Exec)
	}
	cluster := ecscluster.NewEcsCluster(s, tf.S("cluster"), &ecscluster.EcsClusterConfig{
		Name:          tf.S(p.Name),
		Setting:       &[]*ecscluster.EcsClusterSetting{{Name: tf.S("containerInsights"), Value: tf.S("enabled")}},
		Configuration: execConfig,
		Tags:          tf.Name(p.Name),
	})
	c.ARN = cluster.Arn()
	c.HostSecurityGroup = securitygroup.New(s, "hosts-sg", securitygroup.Props{Name: p.Name + "-hosts", Description: "ECS hosts of " + p.Name, VPC: p.VPC})
	c.HostSecurityGroup.AllowToInternet(securitygroup.TCP(443, "ECS, ECR, CloudWatch and SSM APIs"),
		"hosts reach the ECS, ECR, CloudWatch and SSM APIs over HTTPS through the NAT gateway; interface endpoints for each would cost more than the NAT")
	c.HostSecurityGroup.AllowToCIDR("vpc", p.VPC.CIDR, securitygroup.AllTraffic("DNS and services inside the VPC"))

	asg := c.hosts(s, p)
	refreshWeekly(s, p, asg)
	cp := ecscapacityprovider.NewEcsCapacityProvider(s, tf.S("ec2-capacity"), &ecscapacityprovider.EcsCapacityProviderConfig{
		Name: tf.S(c.EC2CapacityProvider),
		AutoScalingGroupProvider: &ecscapacityprovider.EcsCapacityProviderAutoScalingGroupProvider{
			AutoScalingGroupArn:          asg.Arn(),
			ManagedTerminationProtection: tf.S("ENABLED"),
			// ECS moves a host's tasks elsewhere before the group
			// terminates it (scale-in or refresh).
			ManagedDraining: tf.S("ENABLED"),
			ManagedScaling: &ecscapacityprovider.EcsCapacityProviderAutoScalingGroupProviderManagedScaling{
				Status: tf.S("ENABLED"), TargetCapacity: tf.N(TargetCapacityPercent),
			},
		},
		Tags: tf.Name(c.EC2CapacityProvider),
	})
	ecsclustercapacityproviders.NewEcsClusterCapacityProviders(s, tf.S("capacity"), &ecsclustercapacityproviders.EcsClusterCapacityProvidersConfig{
		ClusterName:       cluster.Name(),
		CapacityProviders: tf.Ptrs(cp.Name(), tf.S(Fargate), tf.S(FargateSpot)),
		DefaultCapacityProviderStrategy: &[]*ecsclustercapacityproviders.EcsClusterCapacityProvidersDefaultCapacityProviderStrategy{
			{CapacityProvider: cp.Name(), Weight: tf.N(1), Base: tf.N(0)},
		},
	})
	return c
}

// hosts makes the instance role, launch template and Auto Scaling group.
func (c *Cluster) hosts(s constructs.Construct, p Props) autoscalinggroup.AutoscalingGroup {
	statements := append([]iam.Statement{
		// Each host reports the age of its Amazon Linux release.
		iam.Allow("ReportReleaseAge", []string{"cloudwatch:PutMetricData"}, "*").When("StringEquals", "cloudwatch:namespace", MetricNamespace),
	}, p.HostStatements...)
	host := role.New(s, "host-role", role.Props{
		Name:       p.Name + "-ecs-host",
		Trust:      iam.Policy(iam.Statement{Effect: "Allow", Action: []string{"sts:AssumeRole"}}.For("Service", "ec2.amazonaws.com")),
		Statements: statements, PolicyName: "cloudwatch-agent", PolicyID: "host-policy",
	}).Role
	name := host.Name()
	env := tf.EnvOf(s)
	// The two managed policies an ECS host needs, and nothing else: joining
	// the cluster, and Session Manager in place of SSH.
	for i, arn := range []string{
		env.Partition.ManagedPolicy("service-role/AmazonEC2ContainerServiceforEC2Role"),
		env.Partition.ManagedPolicy("AmazonSSMManagedInstanceCore"),
	} {
		iamrolepolicyattachment.NewIamRolePolicyAttachment(s, tf.S([]string{"host-ecs", "host-ssm"}[i]), &iamrolepolicyattachment.IamRolePolicyAttachmentConfig{
			Role: name, PolicyArn: tf.S(arn),
		})
	}
	profile := iaminstanceprofile.NewIamInstanceProfile(s, tf.S("host-profile"), &iaminstanceprofile.IamInstanceProfileConfig{
		Name: tf.S(p.Name + "-ecs-host"), Role: name,
	})
	volume := p.RootVolumeGiB
	if volume == 0 {
		volume = DefaultRootVolumeGiB
	}
	lt := launchtemplate.NewLaunchTemplate(s, tf.S("hosts-lt"), &launchtemplate.LaunchTemplateConfig{
		Name:                tf.S(p.Name + "-ecs-host"),
		ImageId:             tf.S(AMIParameter),
		InstanceType:        tf.S(p.InstanceType),
		IamInstanceProfile:  &launchtemplate.LaunchTemplateIamInstanceProfile{Arn: profile.Arn()},
		VpcSecurityGroupIds: tf.Ptrs(c.HostSecurityGroup.ID),
		// IMDSv2 only, and one hop so that containers cannot reach the
		// host's credentials.
		MetadataOptions: &launchtemplate.LaunchTemplateMetadataOptions{
			HttpEndpoint: tf.S("enabled"), HttpTokens: tf.S("required"), HttpPutResponseHopLimit: tf.N(1),
		},
		BlockDeviceMappings: &[]*launchtemplate.LaunchTemplateBlockDeviceMappings{{
			DeviceName: tf.S("/dev/xvda"),
			Ebs: &launchtemplate.LaunchTemplateBlockDeviceMappingsEbs{
				VolumeSize: tf.N(volume), VolumeType: tf.S("gp3"), Encrypted: tf.S("true"), DeleteOnTermination: tf.S("true"),
			},
		}},
		Monitoring:           &launchtemplate.LaunchTemplateMonitoring{Enabled: tf.B(true)},
		UserData:             tf.S(RenderUserData(p.Name, env.Region, p.AgentParameter)),
		UpdateDefaultVersion: tf.B(true),
		TagSpecifications: &[]*launchtemplate.LaunchTemplateTagSpecifications{
			{ResourceType: tf.S("instance"), Tags: tf.Name(p.Name + "-ecs-host")},
			{ResourceType: tf.S("volume"), Tags: tf.Name(p.Name + "-ecs-host")},
		},
		Tags: tf.Name(p.Name + "-ecs-host"),
	})
	pref := RefreshPreferences
	return autoscalinggroup.NewAutoscalingGroup(s, tf.S("hosts"), &autoscalinggroup.AutoscalingGroupConfig{
		Name:              tf.S(HostsName(p.Name)),
		MinSize:           tf.N(p.MinSize),
		MaxSize:           tf.N(p.MaxSize),
		VpcZoneIdentifier: p.VPC.SubnetIDs(p.Tier),
		// The template's version number, not $Latest: a new version (new
		// user data) is then a change Terraform sees, and rolls the hosts.
		LaunchTemplate: &autoscalinggroup.AutoscalingGroupLaunchTemplate{Id: lt.Id(), Version: cdktf.Token_AsString(lt.LatestVersion(), nil)},
		InstanceRefresh: &autoscalinggroup.AutoscalingGroupInstanceRefresh{
			Strategy: tf.S("Rolling"),
			Preferences: &autoscalinggroup.AutoscalingGroupInstanceRefreshPreferences{
				MinHealthyPercentage: tf.N(pref.MinHealthyPercentage), MaxHealthyPercentage: tf.N(pref.MaxHealthyPercentage),
				InstanceWarmup:            tf.S(strconv.Itoa(pref.InstanceWarmup)),
				ScaleInProtectedInstances: tf.S(pref.ScaleInProtectedInstances), StandbyInstances: tf.S(pref.StandbyInstances),
				SkipMatching: tf.B(pref.SkipMatching),
			},
		},
		// The group's size, for the cluster reservation alarms (free at
		// one-minute granularity).
		EnabledMetrics:     tf.Strs("GroupInServiceInstances", "GroupMaxSize", "GroupDesiredCapacity"),
		MetricsGranularity: tf.S("1Minute"),
		// Any replacement, refresh or failed health check, launches the new
		// host before the old one goes.
		InstanceMaintenancePolicy: &autoscalinggroup.AutoscalingGroupInstanceMaintenancePolicy{
			MinHealthyPercentage: tf.N(pref.MinHealthyPercentage), MaxHealthyPercentage: tf.N(pref.MaxHealthyPercentage),
		},
		// Managed termination protection needs instances protected from
		// scale-in; ECS decides which are idle.
		ProtectFromScaleIn: tf.B(true),
		HealthCheckType:    tf.S("EC2"),
		Tag: &[]*autoscalinggroup.AutoscalingGroupTag{
			{Key: tf.S("AmazonECSManaged"), Value: tf.S("true"), PropagateAtLaunch: tf.B(true)},
			{Key: tf.S("Name"), Value: tf.S(p.Name + "-ecs-host"), PropagateAtLaunch: tf.B(true)},
		},
		// ECS managed scaling owns the desired capacity.
		Lifecycle: &cdktf.TerraformResourceLifecycle{IgnoreChanges: tf.Strs("desired_capacity")},
	})
}

// refreshWeekly schedules the weekly instance refresh that replaces the
// hosts from the latest AMI, with a role that may start exactly that.
func refreshWeekly(s constructs.Construct, p Props, asg autoscalinggroup.AutoscalingGroup) {
	name := p.Name + "-ecs-host-refresh"
	env := tf.EnvOf(s)
	scheduler := role.New(s, "host-refresh-role", role.Props{
		Name: name, Trust: iam.ServiceTrust("scheduler.amazonaws.com", env.Account),
		Statements: []iam.Statement{iam.Allow("RefreshHosts", []string{"autoscaling:StartInstanceRefresh"}, *asg.Arn())},
		PolicyName: "start-instance-refresh",
	}).Role
	pref := RefreshPreferences
	input, err := json.Marshal(map[string]any{
		"AutoScalingGroupName": HostsName(p.Name), "Strategy": "Rolling",
		"Preferences": map[string]any{
			"MinHealthyPercentage": pref.MinHealthyPercentage, "MaxHealthyPercentage": pref.MaxHealthyPercentage,
			"InstanceWarmup": pref.InstanceWarmup, "SkipMatching": pref.SkipMatching,
			"ScaleInProtectedInstances": pref.ScaleInProtectedInstances, "StandbyInstances": pref.StandbyInstances,
		},
	})
	if err != nil {
		panic("ecscluster: refresh input: " + err.Error())
	}
	schedulerschedule.NewSchedulerSchedule(s, tf.S("host-refresh"), &schedulerschedule.SchedulerScheduleConfig{
		Name:        tf.S(name),
		Description: tf.S("Weekly: replace the ECS hosts of " + p.Name + " from the latest ECS-optimized AMI (help/patching.md)"),
		// Starts when the window starts. While a refresh is running (a
		// Terraform roll), the call is refused; Scheduler retries for an
		// hour, then gives up until next week, and the release-age alarm
		// shows a group that keeps missing its refresh.
		ScheduleExpression: tf.S(p.RefreshSchedule), ScheduleExpressionTimezone: tf.S("UTC"),
		FlexibleTimeWindow: &schedulerschedule.SchedulerScheduleFlexibleTimeWindow{Mode: tf.S("OFF")},
		Target: &schedulerschedule.SchedulerScheduleTarget{
			Arn:         tf.S(env.Partition.ARN("scheduler", "", "", "aws-sdk:autoscaling:startInstanceRefresh")),
			RoleArn:     scheduler.Arn(),
			Input:       tf.S(string(input)),
			RetryPolicy: &schedulerschedule.SchedulerScheduleTargetRetryPolicy{MaximumRetryAttempts: tf.N(RefreshRetries), MaximumEventAgeInSeconds: tf.N(RefreshRetrySeconds)},
		},
	})
}

// RenderUserData returns the hosts' user data, base64-encoded as the launch
// template wants it. It is rendered in Go so that it is deterministic and
// testable.
func RenderUserData(cluster, region, agentParameter string) string {
	var b bytes.Buffer
	err := userData.Execute(&b, map[string]string{
		"Cluster": cluster, "Hosts": HostsName(cluster), "Region": region, "AgentParameter": agentParameter,
		"MetricNamespace": MetricNamespace, "ReleaseAgeMetric": ReleaseAgeMetric,
	})
	if err != nil {
		panic("ecscluster: user data template: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(b.Bytes())
}
