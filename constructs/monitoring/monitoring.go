// Package monitoring decides what to watch: the alarm set of each kind of
// resource (load balancers, services, Aurora, Redis, NAT gateways, the VPN
// server, ECS clusters and their hosts, public URLs), with thresholds from
// config and a deliberate missing-data treatment on every alarm, and the
// environment dashboard.
//
// It owns the alarms, health checks and event rules it creates; the topics
// belong to constructs/alarms. Entry point: New, then one method per
// resource.
package monitoring

import (
	"encoding/json"
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatcheventrule"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatcheventtarget"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53healthcheck"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/alarms"
	"github.com/acme/landing-zone/constructs/cwagent"
	"github.com/acme/landing-zone/constructs/ecscluster"
	"github.com/acme/landing-zone/constructs/vpn"
	"github.com/acme/landing-zone/internal/tf"
)

// Thresholds are the alarm thresholds (see config.Thresholds, which
// converts to this type directly).
type Thresholds struct {
	ALB5xxPercent              int
	ALBP95Millis               int
	ServiceCPUPercent          int
	ServiceMemoryPercent       int
	DBCPUPercent               int
	DBFreeableMemoryMB         int
	DBConnections              int
	DBReplicaLagMillis         int
	RedisCPUPercent            int
	RedisEngineCPUPercent      int
	RedisMemoryPercent         int
	RedisEvictions             int
	RedisReplicationLagSeconds int
	NATPacketDrops             int
	HostMemoryPercent          int
	HostDiskPercent            int
	ClusterReservationPercent  int
	HostReleaseAgeDays         int
	VPNCPUPercent              int
}

// Watcher adds alarms to one stack.
type Watcher struct {
	topics *alarms.Topics
	th     Thresholds
	prefix string
	scope  constructs.Construct
}

// New returns a watcher whose alarm names start with prefix.
func New(scope constructs.Construct, id, prefix string, topics *alarms.Topics, th Thresholds) *Watcher {
	return &Watcher{topics: topics, th: th, prefix: prefix, scope: constructs.NewConstruct(scope, tf.S(id))}
}

func (w *Watcher) add(a alarms.Alarm) {
	a.Name = w.prefix + "-" + a.ID
	w.topics.Add(w.scope, a)
}

func dims(kv ...any) map[string]*string {
	m := map[string]*string{}
	for i := 0; i+1 < len(kv); i += 2 {
		switch v := kv[i+1].(type) {
		case string:
			m[kv[i].(string)] = tf.S(v)
		case *string:
			m[kv[i].(string)] = v
		}
	}
	return m
}

// LoadBalancer watches an ALB's 5xx rate and p95 response time.
func (w *Watcher) LoadBalancer(name string, arnSuffix *string) {
	lb := dims("LoadBalancer", arnSuffix)
	metric := func(m string) alarms.Metric {
		return alarms.Metric{Namespace: "AWS/ApplicationELB", Name: m, Statistic: "Sum", Dimensions: lb}
	}
	w.add(alarms.Alarm{
		ID: name + "-5xx-rate", Description: "More than the threshold share of requests to " + name + " fail with 5xx",
		Expression: "100 * (FILL(elb, 0) + FILL(target, 0)) / IF(requests > 0, requests, 1)",
		Metrics:    map[string]alarms.Metric{"elb": metric("HTTPCode_ELB_5XX_Count"), "target": metric("HTTPCode_Target_5XX_Count"), "requests": metric("RequestCount")},
		Comparison: "GreaterThanThreshold", Threshold: float64(w.th.ALB5xxPercent),
		TreatMissing: alarms.MissingOK, Severity: alarms.Critical,
	})
	w.add(alarms.Alarm{
		ID: name + "-p95-latency", Description: "p95 target response time of " + name + " is high",
		Namespace: "AWS/ApplicationELB", Metric: "TargetResponseTime", Dimensions: lb, Statistic: "p95",
		Comparison: "GreaterThanThreshold", Threshold: float64(w.th.ALBP95Millis) / 1000,
		TreatMissing: alarms.MissingOK, Severity: alarms.Warning,
	})
}

// Service watches an ECS service: CPU and memory high, fewer running tasks
// than desired, and unhealthy targets behind its load balancer. label names
// the alarms; name is the ECS service name.
func (w *Watcher) Service(label, name, cluster string, lbSuffix, tgSuffix *string) {
	svc := dims("ClusterName", cluster, "ServiceName", name)
	for _, m := range []struct {
		id, metric string
		th         int
	}{{"cpu", "CPUUtilization", w.th.ServiceCPUPercent}, {"memory", "MemoryUtilization", w.th.ServiceMemoryPercent}} {
		w.add(alarms.Alarm{
			ID: label + "-" + m.id, Description: "Tasks of " + name + " are short of " + m.id,
			Namespace: "AWS/ECS", Metric: m.metric, Dimensions: svc, Statistic: "Average",
			Comparison: "GreaterThanThreshold", Threshold: float64(m.th),
			TreatMissing: alarms.MissingKeep, Severity: alarms.Warning,
		})
	}
	ci := func(m string) alarms.Metric {
		return alarms.Metric{Namespace: "ECS/ContainerInsights", Name: m, Statistic: "Average", Dimensions: svc}
	}
	w.add(alarms.Alarm{
		ID: label + "-tasks-below-desired", Description: name + " runs fewer tasks than desired",
		Expression: "desired - running", Metrics: map[string]alarms.Metric{"desired": ci("DesiredTaskCount"), "running": ci("RunningTaskCount")},
		Period: 60, Periods: 5, Comparison: "GreaterThanThreshold", Threshold: 0,
		// Container Insights stops reporting when the service is gone.
		TreatMissing: alarms.MissingBad, Severity: alarms.Critical,
	})
	w.add(alarms.Alarm{
		ID: label + "-unhealthy-targets", Description: "The load balancer sees unhealthy tasks of " + name,
		Namespace: "AWS/ApplicationELB", Metric: "UnHealthyHostCount", Dimensions: dims("LoadBalancer", lbSuffix, "TargetGroup", tgSuffix),
		Statistic: "Maximum", Period: 60, Periods: 5, Comparison: "GreaterThanThreshold", Threshold: 0,
		TreatMissing: alarms.MissingKeep, Severity: alarms.Critical,
	})
}

// Database watches an Aurora cluster; replica lag only with replicas.
func (w *Watcher) Database(cluster string, replicas bool) {
	d := dims("DBClusterIdentifier", cluster)
	add := func(id, desc, metric, stat, cmp string, th float64, sev alarms.Severity) {
		w.add(alarms.Alarm{ID: "db-" + id, Description: desc, Namespace: "AWS/RDS", Metric: metric, Dimensions: d, Statistic: stat,
			Comparison: cmp, Threshold: th, TreatMissing: alarms.MissingKeep, Severity: sev})
	}
	add("cpu", "Database CPU is high", "CPUUtilization", "Maximum", "GreaterThanThreshold", float64(w.th.DBCPUPercent), alarms.Warning)
	add("freeable-memory", "Database is short of memory", "FreeableMemory", "Minimum", "LessThanThreshold", float64(w.th.DBFreeableMemoryMB)*1024*1024, alarms.Critical)
	add("connections", "Database connections near the limit", "DatabaseConnections", "Maximum", "GreaterThanThreshold", float64(w.th.DBConnections), alarms.Warning)
	if replicas {
		add("replica-lag", "Aurora replicas lag the writer", "AuroraReplicaLagMaximum", "Maximum", "GreaterThanThreshold", float64(w.th.DBReplicaLagMillis), alarms.Warning)
	}
}

// Cache watches a Redis replication group (cluster mode off): the primary's
// CPU, engine CPU, memory and evictions, and each replica's lag. Node IDs
// are the group ID with -001, -002, ... as ElastiCache names them.
func (w *Watcher) Cache(group string, replicas int) {
	primary := dims("CacheClusterId", group+"-001")
	add := func(id, desc, metric, stat string, th float64, d map[string]*string, sev alarms.Severity) {
		w.add(alarms.Alarm{ID: "redis-" + id, Description: desc, Namespace: "AWS/ElastiCache", Metric: metric, Dimensions: d, Statistic: stat,
			Comparison: "GreaterThanThreshold", Threshold: th, TreatMissing: alarms.MissingKeep, Severity: sev})
	}
	add("cpu", "Redis host CPU is high", "CPUUtilization", "Average", float64(w.th.RedisCPUPercent), primary, alarms.Warning)
	add("engine-cpu", "The Redis engine thread is busy", "EngineCPUUtilization", "Average", float64(w.th.RedisEngineCPUPercent), primary, alarms.Critical)
	add("memory", "Redis memory is nearly full", "DatabaseMemoryUsagePercentage", "Average", float64(w.th.RedisMemoryPercent), primary, alarms.Warning)
	add("evictions", "Redis is evicting keys", "Evictions", "Sum", float64(w.th.RedisEvictions), primary, alarms.Warning)
	for i := 2; i <= replicas+1; i++ {
		node := fmt.Sprintf("%s-%03d", group, i)
		add(fmt.Sprintf("replication-lag-%03d", i), "Redis replica "+node+" lags the primary", "ReplicationLag", "Maximum",
			float64(w.th.RedisReplicationLagSeconds), dims("CacheClusterId", node), alarms.Warning)
	}
}

// NAT watches a NAT gateway's port allocation errors and dropped packets.
func (w *Watcher) NAT(id string, natID *string) {
	d := dims("NatGatewayId", natID)
	w.add(alarms.Alarm{ID: id + "-port-errors", Description: "NAT gateway " + id + " cannot allocate ports",
		Namespace: "AWS/NATGateway", Metric: "ErrorPortAllocation", Dimensions: d, Statistic: "Sum",
		Periods: 1, Comparison: "GreaterThanThreshold", Threshold: 0, TreatMissing: alarms.MissingOK, Severity: alarms.Critical})
	w.add(alarms.Alarm{ID: id + "-packet-drops", Description: "NAT gateway " + id + " drops packets",
		Namespace: "AWS/NATGateway", Metric: "PacketsDropCount", Dimensions: d, Statistic: "Sum",
		Comparison: "GreaterThanThreshold", Threshold: float64(w.th.NATPacketDrops), TreatMissing: alarms.MissingOK, Severity: alarms.Warning})
}

// Instance watches the status checks of an Auto Scaling group's instances
// (the group's instances need detailed monitoring for this metric).
func (w *Watcher) Instance(id, asg string) {
	w.add(alarms.Alarm{ID: id + "-status-check", Description: id + " fails its EC2 status checks",
		Namespace: "AWS/EC2", Metric: "StatusCheckFailed", Dimensions: dims("AutoScalingGroupName", asg), Statistic: "Maximum",
		Period: 60, Periods: 3, Comparison: "GreaterThanOrEqualToThreshold", Threshold: 1,
		// No data means no instance is running at all.
		TreatMissing: alarms.MissingBad, Severity: alarms.Critical})
}

// Hosts watches the memory and root disk use of an Auto Scaling group's
// fullest host, from the CloudWatch agent (which aggregates per group).
func (w *Watcher) Hosts(id, asg string) {
	for _, m := range []struct {
		id, metric, what string
		th               int
	}{{"memory", "mem_used_percent", "memory", w.th.HostMemoryPercent}, {"disk", "disk_used_percent", "root disk", w.th.HostDiskPercent}} {
		w.add(alarms.Alarm{ID: id + "-" + m.id, Description: "A host of " + asg + " is short of " + m.what,
			Namespace: cwagent.Namespace, Metric: m.metric, Dimensions: dims("AutoScalingGroupName", asg), Statistic: "Maximum",
			Comparison: "GreaterThanThreshold", Threshold: float64(m.th),
			TreatMissing: alarms.MissingKeep, Severity: alarms.Warning})
	}
}

// Cluster watches an ECS cluster's CPU and memory reservation while its
// hosts' group is at its max size: below that, ECS managed scaling adds a
// host when tasks no longer fit, so a high reservation is only a problem
// (the next task may not be placed) once the group cannot grow. It needs
// the group's GroupInServiceInstances and GroupMaxSize metrics.
func (w *Watcher) Cluster(cluster, asg string) {
	group := func(m string) alarms.Metric {
		return alarms.Metric{Namespace: "AWS/AutoScaling", Name: m, Statistic: "Maximum", Dimensions: dims("AutoScalingGroupName", asg)}
	}
	for _, m := range []struct{ id, metric, what string }{{"cpu-reservation", "CPUReservation", "CPU"}, {"memory-reservation", "MemoryReservation", "memory"}} {
		w.add(alarms.Alarm{ID: "cluster-" + m.id, Description: "Tasks reserve most of the " + m.what + " of " + cluster + "'s hosts, and " + asg + " is at its max size",
			Expression: "IF(hosts >= max, reservation, 0)",
			Metrics: map[string]alarms.Metric{
				"reservation": {Namespace: "AWS/ECS", Name: m.metric, Statistic: "Maximum", Dimensions: dims("ClusterName", cluster)},
				"hosts":       group("GroupInServiceInstances"), "max": group("GroupMaxSize"),
			},
			Comparison: "GreaterThanThreshold", Threshold: float64(w.th.ClusterReservationPercent),
			TreatMissing: alarms.MissingKeep, Severity: alarms.Warning})
	}
}

// ReleaseAge watches the age of the Amazon Linux release an ECS host group
// runs (each host reports it hourly): above the threshold, the group's
// weekly refreshes are not replacing its hosts (help/patching.md).
func (w *Watcher) ReleaseAge(id, asg string) {
	w.add(alarms.Alarm{ID: id + "-release-age", Description: "Hosts of " + asg + " run an Amazon Linux release older than the threshold: they are not being replaced",
		Namespace: ecscluster.MetricNamespace, Metric: ecscluster.ReleaseAgeMetric, Dimensions: dims("AutoScalingGroupName", asg), Statistic: "Maximum",
		Period: 3600, Periods: 2, Comparison: "GreaterThanThreshold", Threshold: float64(w.th.HostReleaseAgeDays),
		// No data: no hosts, so nothing runs stale.
		TreatMissing: alarms.MissingOK, Severity: alarms.Warning})
}

// RefreshFailures sends every failed or cancelled instance refresh of an
// Auto Scaling group to the warning topic (an EventBridge rule; the topic
// lets EventBridge publish).
func (w *Watcher) RefreshFailures(id, asg string) {
	pattern, err := json.Marshal(map[string]any{
		"source":      []string{"aws.autoscaling"},
		"detail-type": []string{"EC2 Auto Scaling Instance Refresh Failed", "EC2 Auto Scaling Instance Refresh Cancelled"},
		"detail":      map[string]any{"AutoScalingGroupName": []string{asg}},
	})
	if err != nil {
		panic("monitoring: event pattern: " + err.Error())
	}
	name := w.prefix + "-" + id + "-refresh-failed"
	rule := cloudwatcheventrule.NewCloudwatchEventRule(w.scope, tf.S(id+"-refresh-failed"), &cloudwatcheventrule.CloudwatchEventRuleConfig{
		Name: tf.S(name), Description: tf.S("An instance refresh of " + asg + " failed or was cancelled"),
		EventPattern: tf.S(string(pattern)), Tags: tf.Name(name),
	})
	cloudwatcheventtarget.NewCloudwatchEventTarget(w.scope, tf.S(id+"-refresh-failed-target"), &cloudwatcheventtarget.CloudwatchEventTargetConfig{
		Rule: rule.Name(), TargetId: tf.S("warning-topic"), Arn: w.topics.WarningARN,
	})
}

// VPNServer watches the VPN server beyond its status checks: CPU, memory
// and disk, and the days left on the CRL that OpenVPN verifies clients
// against (renewed daily; reported by each renewal): it alarms once
// renewals have failed for vpn.CRLAlarmAfterDays, or reports stopped for
// two days, months before the CRL would expire and lock everyone out.
func (w *Watcher) VPNServer(id, asg string) {
	w.add(alarms.Alarm{ID: id + "-cpu", Description: "The VPN server's CPU is high",
		Namespace: "AWS/EC2", Metric: "CPUUtilization", Dimensions: dims("AutoScalingGroupName", asg), Statistic: "Average",
		Comparison: "GreaterThanThreshold", Threshold: float64(w.th.VPNCPUPercent),
		TreatMissing: alarms.MissingKeep, Severity: alarms.Warning})
	w.Hosts(id, asg)
	w.add(alarms.Alarm{ID: id + "-crl-days-left", Description: "The VPN's CRL is not being renewed; when it expires OpenVPN rejects every client (help/vpn.md)",
		Namespace: vpn.MetricNamespace, Metric: vpn.CRLDaysLeftMetric, Dimensions: dims("AutoScalingGroupName", asg), Statistic: "Minimum",
		Period: 86400, Periods: 2, Comparison: "LessThanThreshold", Threshold: float64(vpn.CRLDays - vpn.CRLAlarmAfterDays),
		// Reported daily: no report for two days means renewals stopped.
		TreatMissing: alarms.MissingBad, Severity: alarms.Warning})
}

// WebACL warns when a WAF web ACL's rules match an unusual number of
// requests: the sum over its rules of BlockedRequests (block mode) or
// CountedRequests (count mode) above threshold in two 5-minute periods in a
// row. ruleMetrics are the rules' metric names.
func (w *Watcher) WebACL(id, acl, region string, ruleMetrics []string, block bool, threshold int) {
	metric, verb := "CountedRequests", "count"
	if block {
		metric, verb = "BlockedRequests", "block"
	}
	ms := map[string]alarms.Metric{}
	expr := ""
	for i, r := range ruleMetrics {
		k := fmt.Sprintf("r%d", i)
		ms[k] = alarms.Metric{Namespace: "AWS/WAFV2", Name: metric, Statistic: "Sum", Dimensions: dims("WebACL", acl, "Region", region, "Rule", r)}
		if expr != "" {
			expr += " + "
		}
		expr += "FILL(" + k + ", 0)"
	}
	w.add(alarms.Alarm{ID: id + "-matched-requests", Description: fmt.Sprintf("The WAF rules of %s %s more than %d requests in 5 minutes (help/waf.md)", acl, verb, threshold),
		Expression: expr, Metrics: ms, Period: 300, Periods: 2,
		Comparison: "GreaterThanThreshold", Threshold: float64(threshold),
		// No data: no rule matched anything.
		TreatMissing: alarms.MissingOK, Severity: alarms.Warning})
}

// URL checks a public HTTPS URL from Route 53's checkers every 30 seconds
// and alarms when it fails. Route 53 publishes these metrics in us-east-1
// only, so the watcher must be in us-east-1: its scope, provider and topics
// (stacks.healthCheckWatcher).
func (w *Watcher) URL(id, host, path string) {
	hc := route53healthcheck.NewRoute53HealthCheck(w.scope, tf.S(id+"-check"), &route53healthcheck.Route53HealthCheckConfig{
		Type: tf.S("HTTPS"), Fqdn: tf.S(host), Port: tf.N(443), ResourcePath: tf.S(path), EnableSni: tf.B(true),
		FailureThreshold: tf.N(3), RequestInterval: tf.N(30), MeasureLatency: tf.B(true),
		Tags: tf.Name(w.prefix + "-" + id),
	})
	w.add(alarms.Alarm{ID: id + "-health", Description: "https://" + host + path + " fails Route 53 health checks",
		Namespace: "AWS/Route53", Metric: "HealthCheckStatus", Dimensions: dims("HealthCheckId", hc.Id()), Statistic: "Minimum",
		Period: 60, Periods: 3, Comparison: "LessThanThreshold", Threshold: 1,
		TreatMissing: alarms.MissingBad, Severity: alarms.Critical})
}

type cisCheck struct{ id, desc, pattern string }

// organizationsChanges is CIS 4.15's filter. AWS Organizations records its
// calls only in the management account's trail, so only that account has
// it (OrganizationsChanges).
var organizationsChanges = cisCheck{"organizations-changes", "AWS Organizations changes", `{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = AcceptHandshake) || ($.eventName = AttachPolicy) || ($.eventName = CreateAccount) || ($.eventName = CreateOrganizationalUnit) || ($.eventName = CreatePolicy) || ($.eventName = DeclineHandshake) || ($.eventName = DeleteOrganization) || ($.eventName = DeleteOrganizationalUnit) || ($.eventName = DeletePolicy) || ($.eventName = DetachPolicy) || ($.eventName = DisablePolicyType) || ($.eventName = EnablePolicyType) || ($.eventName = InviteAccountToOrganization) || ($.eventName = LeaveOrganization) || ($.eventName = MoveAccount) || ($.eventName = RemoveAccountFromOrganization) || ($.eventName = UpdatePolicy) || ($.eventName = UpdateOrganizationalUnit)) }`}

// cisChecks are the CIS AWS Foundations benchmark's CloudTrail metric
// filters (section 4 of v1.4, and v3.0.0's 4.6, 4.8, 4.12 and 4.14): each
// counts matching API calls.
var cisChecks = []cisCheck{
	{"unauthorized-api-calls", "Unauthorized API calls", `{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }`},
	{"console-login-without-mfa", "Console sign-in without MFA", `{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }`},
	{"root-usage", "Use of the root user", `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`},
	{"iam-policy-changes", "IAM policy changes", `{ ($.eventName = DeleteGroupPolicy) || ($.eventName = DeleteRolePolicy) || ($.eventName = DeleteUserPolicy) || ($.eventName = PutGroupPolicy) || ($.eventName = PutRolePolicy) || ($.eventName = PutUserPolicy) || ($.eventName = CreatePolicy) || ($.eventName = DeletePolicy) || ($.eventName = CreatePolicyVersion) || ($.eventName = DeletePolicyVersion) || ($.eventName = AttachRolePolicy) || ($.eventName = DetachRolePolicy) || ($.eventName = AttachUserPolicy) || ($.eventName = DetachUserPolicy) || ($.eventName = AttachGroupPolicy) || ($.eventName = DetachGroupPolicy) }`},
	{"cloudtrail-changes", "CloudTrail configuration changes", `{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }`},
	{"config-changes", "AWS Config configuration changes", `{ ($.eventSource = config.amazonaws.com) && (($.eventName = StopConfigurationRecorder) || ($.eventName = DeleteDeliveryChannel) || ($.eventName = PutDeliveryChannel) || ($.eventName = PutConfigurationRecorder)) }`},
	{"security-group-changes", "Security group changes", `{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }`},
	{"nacl-changes", "Network ACL changes", `{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }`},
	{"route-table-changes", "Route table changes", `{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }`},
	{"kms-key-deletion", "KMS keys disabled or scheduled for deletion", `{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }`},
	// CIS v3.0.0 4.6, 4.8, 4.12 and 4.14, with the benchmark's patterns.
	{"console-auth-failures", "Console authentication failures", `{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }`},
	{"s3-bucket-policy-changes", "S3 bucket policy changes", `{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }`},
	{"network-gateway-changes", "Network gateway changes", `{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }`},
	{"vpc-changes", "VPC changes", `{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }`},
}

// CISNamespace holds the CIS metric filters' metrics.
const CISNamespace = "CISBenchmark"

// CloudTrail adds the CIS metric filters to the account's CloudTrail log
// group, each with an alarm on the first occurrence. after is the log group
// resource, which must exist before its filters.
func (w *Watcher) CloudTrail(logGroup string, after cdktf.ITerraformDependable) {
	for _, c := range cisChecks {
		w.cisFilter(c, logGroup, after)
	}
}

// OrganizationsChanges pages on changes to the organization (CIS 4.15), on
// the management account's trail (see CloudTrail).
func (w *Watcher) OrganizationsChanges(logGroup string, after cdktf.ITerraformDependable) {
	w.cisFilter(organizationsChanges, logGroup, after)
}

func (w *Watcher) cisFilter(c cisCheck, logGroup string, after cdktf.ITerraformDependable) {
	metric := w.prefix + "-" + c.id
	// Raw, like the alarms: an account has a dozen.
	tf.RawScopeOf(w.scope).Add("aws_cloudwatch_log_metric_filter", "cis-filter-"+c.id, map[string]any{
		"name": metric, "log_group_name": logGroup, "pattern": c.pattern,
		"metric_transformation": map[string]any{"name": metric, "namespace": CISNamespace, "value": "1", "default_value": "0"},
		"depends_on":            tf.DependsOn(after),
	})
	w.add(alarms.Alarm{ID: "cis-" + c.id, Description: "CIS: " + c.desc,
		Namespace: CISNamespace, Metric: metric, Statistic: "Sum", Period: 300, Periods: 1,
		Comparison: "GreaterThanOrEqualToThreshold", Threshold: 1,
		// The filter reports 0 when nothing matched; no data means no
		// trail events at all, which the trail's own checks cover.
		TreatMissing: alarms.MissingOK, Severity: alarms.Critical})
}
