package cost

import (
	"errors"
	"fmt"
	"strings"

	"github.com/acme/landing-zone/internal/tfjson"
)

var errUnclassified = errors.New("unclassified resource type")

// usage lists the resource types whose bill depends on traffic or data
// volume, with what drives it. They are listed, never estimated.
var usage = map[string]string{
	"aws_guardduty_detector":               "GuardDuty: per GB of CloudTrail, VPC flow and DNS logs analysed and per enabled feature",
	"aws_config_configuration_recorder":    "AWS Config: per configuration item recorded and per rule evaluation",
	"aws_securityhub_account":              "Security Hub: per security check and per finding ingested",
	"aws_cloudtrail":                       "CloudTrail: the first copy of management events is free; data events and further copies per event",
	"aws_cloudwatch_log_group":             "CloudWatch Logs: per GB ingested ($0.50/GB in us-east-1, see sources.cloudwatch) and per GB-month stored",
	"aws_flow_log":                         "VPC flow logs: per GB delivered (vended logs)",
	"aws_s3_bucket":                        "S3: per GB-month stored and per request",
	"aws_kinesis_firehose_delivery_stream": "Data Firehose: per GB ingested",
	"aws_ecr_repository":                   "ECR: per GB-month of images stored",
	"aws_sns_topic":                        "SNS: per message published and delivered",
	"aws_vpc_peering_connection":           "VPC peering: data transfer between Availability Zones",
	"aws_scheduler_schedule":               "EventBridge Scheduler: per invocation (first 14 million a month free)",
	"aws_cloudwatch_event_rule":            "EventBridge: AWS service events on the default bus are free; custom events per million",
	"aws_backup_vault":                     "AWS Backup: per GB-month of backup storage and per GB copied across accounts or regions",
	"aws_lambda_function":                  "Lambda: per request and per GB-second",
	"aws_macie2_account":                   "Macie: per S3 bucket monitored and per GB inspected by sensitive-data discovery",
}

// free lists the resource types that cost nothing by themselves (their
// cost, if any, is counted on another resource, e.g. a launch template on
// its autoscaling group).
var free = []string{
	"terraform_data", "aws_vpc", "aws_subnet", "aws_route", "aws_route_table", "aws_route_table_association",
	"aws_internet_gateway", "aws_network_acl", "aws_network_acl_rule", "aws_network_acl_association",
	"aws_default_security_group", "aws_default_network_acl", "aws_default_route_table", "aws_default_vpc", "aws_security_group",
	"aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule", "aws_security_group_rule",
	"aws_vpc_peering_connection_accepter", "aws_vpc_peering_connection_options",
	"aws_acm_certificate", "aws_acm_certificate_validation", "aws_kms_alias",
	"aws_launch_template", "aws_iam_instance_profile", "aws_appautoscaling_target", "aws_appautoscaling_policy",
	"aws_autoscaling_policy", "aws_autoscaling_lifecycle_hook",
	"aws_ecs_cluster_capacity_providers", "aws_ecs_capacity_provider", "aws_ecs_task_definition",
	"aws_lb_listener", "aws_lb_listener_rule", "aws_lb_target_group", "aws_lb_listener_certificate",
	"aws_db_subnet_group", "aws_rds_cluster_parameter_group", "aws_db_parameter_group",
	"aws_elasticache_subnet_group", "aws_elasticache_user", "aws_elasticache_user_group", "aws_elasticache_parameter_group",
	"aws_route53_record", "aws_route53_vpc_association_authorization", "aws_route53_zone_association",
	"aws_ecr_lifecycle_policy", "aws_ecr_repository_policy",
	"aws_secretsmanager_secret_version", "aws_secretsmanager_secret_policy", "aws_secretsmanager_secret_rotation",
	"aws_sns_topic_policy", "aws_sns_topic_subscription",
	"aws_cloudwatch_event_target", "aws_cloudwatch_log_destination", "aws_cloudwatch_log_destination_policy",
	"aws_cloudwatch_log_subscription_filter", "aws_cloudwatch_log_resource_policy",
	"aws_config_aggregate_authorization", "aws_config_configuration_aggregator", "aws_config_delivery_channel",
	"aws_config_configuration_recorder_status", "aws_config_config_rule", "aws_guardduty_detector_feature",
	"aws_securityhub_standards_subscription", "aws_ebs_encryption_by_default", "aws_s3_account_public_access_block",
	"aws_budgets_budget", "aws_ce_anomaly_monitor", "aws_ce_anomaly_subscription",
	"aws_backup_plan", "aws_backup_selection", "aws_backup_vault_policy", "aws_backup_vault_lock_configuration",
	"aws_backup_region_settings", "aws_backup_global_settings", "aws_backup_vault_notifications",
	"aws_lambda_permission", "aws_ssm_document",
	"aws_guardduty_organization_configuration", "aws_guardduty_member", "aws_guardduty_invite_accepter",
	"aws_securityhub_organization_configuration", "aws_securityhub_member", "aws_securityhub_invite_accepter",
	"aws_securityhub_finding_aggregator",
	"aws_guardduty_organization_admin_account", "aws_securityhub_organization_admin_account",
	"aws_wafv2_web_acl_association", "aws_wafv2_web_acl_logging_configuration",
}

// freePrefixes covers families of configuration-only types.
var freePrefixes = []string{"aws_iam_", "aws_s3_bucket_", "aws_organizations_"}

// estimator collects the lines of one stack.
type estimator struct {
	stack, region string
	r             *Region
	t             *Table
	a             Assumptions
	res           map[string]map[string]map[string]any
	lines         map[string]*Line
}

// line adds count resources to the line of class, creating it.
func (e *estimator) line(class string, count int, unitPrice float64, unit string, perMonth float64, b Basis, note, source string) {
	l, ok := e.lines[class]
	if !ok {
		l = &Line{Stack: e.stack, Class: class, UnitPrice: unitPrice, Unit: unit, UnitsPerMonth: perMonth, Basis: b, Note: note, Source: source}
		e.lines[class] = l
	}
	l.Count += count
}

func (e *estimator) hourly(class string, count int, price float64, b Basis, note, source string) {
	e.line(class, count, price, "hour", e.t.HoursPerMonth, b, note, source)
}

// add prices every resource of one type.
func (e *estimator) add(typ string) error {
	rs := e.res[typ]
	g := e.t.Global
	switch typ {
	case "aws_nat_gateway":
		e.hourly("NAT gateway", len(rs), e.r.NATGatewayHour, Fixed, "per gateway-hour", "nat_gateway")
		e.line("NAT gateway data processed", len(rs), e.r.NATGatewayGB, "GB", e.a.NATGBPerMonth, Assumed,
			fmt.Sprintf("assumed %g GB per gateway-month (-nat-gb)", e.a.NATGBPerMonth), "nat_gateway")
	case "aws_eip":
		e.hourly("Public IPv4 (Elastic IP)", len(rs), g.PublicIPv4Hour, Fixed,
			"every Elastic IP: those of the NAT gateways and the VPN instance", "public_ipv4")
	case "aws_lb":
		return e.loadBalancers(rs)
	case "aws_vpc_endpoint":
		return e.endpoints(rs)
	case "aws_rds_cluster":
		return e.auroraClusters(rs)
	case "aws_rds_cluster_instance":
		return e.auroraInstances(rs)
	case "aws_elasticache_replication_group", "aws_elasticache_cluster":
		return e.cacheNodes(typ, rs)
	case "aws_autoscaling_group":
		return e.autoscalingGroups(rs)
	case "aws_instance":
		return e.instances(rs)
	case "aws_kms_key":
		e.line("KMS customer managed key", len(rs), g.KMSKeyMonth, "key-month", 1, Fixed,
			"first-year price: with rotation on, each of the first two yearly rotations adds $1 per key-month", "kms")
	case "aws_cloudwatch_metric_alarm":
		e.alarms(rs)
	case "aws_cloudwatch_log_metric_filter":
		e.line("CloudWatch custom metric (log metric filter)", len(rs), g.CustomMetricMonth, "metric-month", 1, Assumed,
			"assumed to receive data all month (the filters set a default value, so every log batch publishes one); before the free tier of 10 metrics", "cloudwatch")
	case "aws_cloudwatch_dashboard":
		if n := len(rs) - g.FreeDashboardsPerAccount; n > 0 {
			e.line("CloudWatch dashboard", n, g.DashboardMonth, "dashboard-month", 1, Fixed,
				fmt.Sprintf("beyond the %d free per account", g.FreeDashboardsPerAccount), "cloudwatch")
		}
	case "aws_secretsmanager_secret":
		e.line("Secrets Manager secret", len(rs), g.SecretMonth, "secret-month", 1, Fixed, "", "secrets_manager")
	case "aws_route53_zone":
		e.line("Route 53 hosted zone", len(rs), g.HostedZoneMonth, "zone-month", 1, Fixed, "first 25 zones of an account", "route53")
	case "aws_route53_health_check":
		e.healthChecks(rs)
	case "aws_wafv2_web_acl":
		e.webACLs(rs)
	case "aws_dynamodb_table":
		for id, r := range rs {
			if m, _ := r["billing_mode"].(string); m != "" && m != "PAY_PER_REQUEST" {
				return fmt.Errorf("aws_dynamodb_table.%s: billing mode %s has no price in the table (on-demand only)", id, m)
			}
		}
		e.line("DynamoDB on-demand table", len(rs), 0, "table", 0, Usage, "DynamoDB on-demand: per request and per GB-month stored", "")
	case "aws_ecs_service":
		for id, r := range rs {
			if lt, _ := r["launch_type"].(string); lt == "FARGATE" {
				return fmt.Errorf("aws_ecs_service.%s: Fargate has no price in the table", id)
			}
		}
	case "aws_ecs_cluster":
		n := 0
		for _, r := range rs {
			for _, s := range tfjson.Blocks(r["setting"]) {
				if s["name"] == "containerInsights" && s["value"] != "disabled" {
					n++
				}
			}
		}
		if n > 0 {
			e.line("ECS Container Insights", n, 0, "cluster", 0, Usage, "Container Insights: custom metrics and performance log events per cluster", "")
		}
	case "aws_ssm_parameter":
		for id, r := range rs {
			if tier, _ := r["tier"].(string); tier != "" && tier != "Standard" {
				return fmt.Errorf("aws_ssm_parameter.%s: tier %s has no price in the table", id, tier)
			}
		}
	case "aws_accessanalyzer_analyzer":
		for id, r := range rs {
			if k, _ := r["type"].(string); strings.Contains(k, "UNUSED") {
				return fmt.Errorf("aws_accessanalyzer_analyzer.%s: unused-access analyzers have no price in the table", id)
			}
		}
	default:
		if note, ok := usage[typ]; ok {
			e.line(usageClass(note), len(rs), 0, "resource", 0, Usage, note, "")
			return nil
		}
		if isFree(typ) {
			return nil
		}
		return errUnclassified
	}
	return nil
}

// usageClass is the service name that starts a usage note.
func usageClass(note string) string {
	name, _, _ := strings.Cut(note, ":")
	return name
}

func isFree(typ string) bool {
	for _, f := range free {
		if f == typ {
			return true
		}
	}
	for _, p := range freePrefixes {
		if strings.HasPrefix(typ, p) {
			return true
		}
	}
	return false
}

func str(r map[string]any, key, def string) string {
	if s, ok := r[key].(string); ok && s != "" {
		return s
	}
	return def
}

func (e *estimator) loadBalancers(rs map[string]map[string]any) error {
	for id, r := range rs {
		if typ := str(r, "load_balancer_type", "application"); typ != "application" {
			return fmt.Errorf("aws_lb.%s: load balancer type %s has no price in the table", id, typ)
		}
		e.hourly("Application Load Balancer", 1, e.r.ALBHour, Fixed, "per ALB-hour", "alb")
		e.line("ALB capacity units (LCU)", 1, e.r.ALBLCUHour, "LCU-hour", e.a.ALBLCUPerHour*e.t.HoursPerMonth, Assumed,
			fmt.Sprintf("assumed %g LCU per ALB-hour (-alb-lcu); AWS bills used LCUs, no minimum", e.a.ALBLCUPerHour), "alb")
		if internal, _ := r["internal"].(bool); !internal {
			n := len(tfjson.Blocks(r["subnet_mapping"]))
			if s, ok := r["subnets"].([]any); ok {
				n = len(s)
			}
			e.hourly("Public IPv4 (internet-facing ALB)", n, e.t.Global.PublicIPv4Hour, Assumed,
				"assumed one address per subnet (Availability Zone); AWS adds nodes as load grows", "public_ipv4")
		}
	}
	return nil
}

func (e *estimator) endpoints(rs map[string]map[string]any) error {
	for id, r := range rs {
		switch typ := str(r, "vpc_endpoint_type", "Gateway"); typ {
		case "Gateway":
			// Gateway endpoints (S3, DynamoDB) are free.
		case "Interface":
			n, _ := r["subnet_ids"].([]any)
			e.hourly("VPC interface endpoint (per AZ)", len(n), e.r.InterfaceEndpointHour, Fixed,
				"per endpoint per Availability Zone; data processed is usage-based", "vpc_endpoint")
		default:
			return fmt.Errorf("aws_vpc_endpoint.%s: endpoint type %s has no price in the table", id, typ)
		}
	}
	return nil
}

func (e *estimator) auroraClusters(rs map[string]map[string]any) error {
	for id, r := range rs {
		if st := str(r, "storage_type", ""); st != "" && st != "aurora" {
			return fmt.Errorf("aws_rds_cluster.%s: storage type %s (I/O-Optimized) has no price in the table", id, st)
		}
		if mode := str(r, "engine_mode", "provisioned"); mode != "provisioned" {
			return fmt.Errorf("aws_rds_cluster.%s: engine mode %s has no price in the table", id, mode)
		}
		e.line("Aurora storage", 1, e.r.AuroraStorageGBMonth, "GB-month", e.a.AuroraGBPerCluster, Assumed,
			fmt.Sprintf("assumed %g GB per cluster (-aurora-gb); I/O requests and backups beyond the cluster size are usage-based", e.a.AuroraGBPerCluster), "aurora")
		if managed, _ := r["manage_master_user_password"].(bool); managed {
			e.line("Secrets Manager secret", 1, e.t.Global.SecretMonth, "secret-month", 1, Fixed,
				"includes the master password secrets RDS manages", "secrets_manager")
			e.lines["Secrets Manager secret"].Note = "includes the master password secrets RDS manages"
		}
	}
	return nil
}

func (e *estimator) auroraInstances(rs map[string]map[string]any) error {
	for id, r := range rs {
		engine := str(r, "engine", "")
		byClass, ok := e.r.AuroraHour[engine]
		if !ok {
			return fmt.Errorf("aws_rds_cluster_instance.%s: no Aurora prices for engine %q in %s (the table has %s): add them to internal/cost/prices.json",
				id, engine, e.region, strings.Join(keys(e.r.AuroraHour), ", "))
		}
		class := str(r, "instance_class", "")
		p, err := price(byClass, "Aurora "+engine+" instance", class, e.region)
		if err != nil {
			return fmt.Errorf("aws_rds_cluster_instance.%s: %w", id, err)
		}
		e.hourly("Aurora "+engine+" "+class, 1, p, Fixed, "per instance-hour, Aurora Standard", "aurora")
	}
	return nil
}

func (e *estimator) cacheNodes(typ string, rs map[string]map[string]any) error {
	for id, r := range rs {
		if typ == "aws_elasticache_cluster" && str(r, "replication_group_id", "") != "" {
			continue // a member of a replication group, counted there
		}
		engine := str(r, "engine", "redis")
		byType, ok := e.r.ElastiCacheHour[engine]
		if !ok {
			return fmt.Errorf("%s.%s: no ElastiCache prices for engine %q in %s (the table has %s): add them to internal/cost/prices.json",
				typ, id, engine, e.region, strings.Join(keys(e.r.ElastiCacheHour), ", "))
		}
		node := str(r, "node_type", "")
		p, err := price(byType, "ElastiCache "+engine+" node", node, e.region)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", typ, id, err)
		}
		e.hourly("ElastiCache "+engine+" "+node, cacheNodeCount(typ, r), p, Fixed, "per node-hour", "elasticache")
	}
	return nil
}

// cacheNodeCount is the number of nodes a replication group or cluster
// runs: num_cache_clusters, or shards x (replicas + 1), or num_cache_nodes.
func cacheNodeCount(typ string, r map[string]any) int {
	if typ == "aws_elasticache_cluster" {
		return max(1, tfjson.Num(r["num_cache_nodes"]))
	}
	if n := tfjson.Num(r["num_cache_clusters"]); n > 0 {
		return n
	}
	if g := tfjson.Num(r["num_node_groups"]); g > 0 {
		return g * (tfjson.Num(r["replicas_per_node_group"]) + 1)
	}
	return 1
}

func (e *estimator) autoscalingGroups(rs map[string]map[string]any) error {
	for id, r := range rs {
		if _, mixed := r["mixed_instances_policy"]; mixed {
			return fmt.Errorf("aws_autoscaling_group.%s: mixed instances policies are not modelled", id)
		}
		var ltID string
		for _, lt := range tfjson.Blocks(r["launch_template"]) {
			ltID = strings.TrimPrefix(tfjson.Ref(lt["id"]), "aws_launch_template.")
			if ltID == "" {
				ltID = strings.TrimPrefix(tfjson.Ref(lt["name"]), "aws_launch_template.")
			}
		}
		lt, ok := e.res["aws_launch_template"][ltID]
		if !ok {
			return fmt.Errorf("aws_autoscaling_group.%s: its launch template is not in the stack", id)
		}
		n, note := tfjson.Num(r["desired_capacity"]), "desired capacity"
		if _, set := r["desired_capacity"]; !set {
			n = tfjson.Num(r["min_size"])
			note = fmt.Sprintf("min_size (no desired capacity; scaling may run up to max_size %d)", tfjson.Num(r["max_size"]))
		}
		if err := e.ec2(fmt.Sprintf("aws_autoscaling_group.%s", id), str(lt, "instance_type", ""), n, note); err != nil {
			return err
		}
		if err := e.volumes(n, lt["block_device_mappings"], "ebs"); err != nil {
			return fmt.Errorf("aws_launch_template.%s: %w", ltID, err)
		}
	}
	return nil
}

func (e *estimator) instances(rs map[string]map[string]any) error {
	for id, r := range rs {
		if err := e.ec2("aws_instance."+id, str(r, "instance_type", ""), 1, "one instance"); err != nil {
			return err
		}
		if err := e.volumes(1, r["root_block_device"], ""); err != nil {
			return fmt.Errorf("aws_instance.%s: %w", id, err)
		}
	}
	return nil
}

func (e *estimator) ec2(addr, typ string, n int, note string) error {
	p, err := price(e.r.EC2Hour, "EC2 instance", typ, e.region)
	if err != nil {
		return fmt.Errorf("%s: %w", addr, err)
	}
	e.hourly("EC2 "+typ, n, p, Fixed, "per instance-hour, Linux; count is the "+note, "ec2")
	return nil
}

// volumes prices the EBS volumes of n instances. inner names the block
// holding size and type ("ebs" in a launch template's mappings, none in an
// instance's root_block_device). A volume with no size takes the image's,
// which the stacks do not say: listed as usage-based.
func (e *estimator) volumes(n int, blocks any, inner string) error {
	for _, b := range tfjson.Blocks(blocks) {
		v := b
		if inner != "" {
			vs := tfjson.Blocks(b[inner])
			if len(vs) == 0 {
				continue
			}
			v = vs[0]
		}
		size := tfjson.Num(v["volume_size"])
		typ := str(v, "volume_type", "gp3")
		if size == 0 {
			e.line("EBS volume (size from the image)", n, 0, "volume", 0, Usage, "EBS: size set by the machine image, not by the stacks", "")
			continue
		}
		p, err := price(e.r.EBSGBMonth, "EBS volume type", typ, e.region)
		if err != nil {
			return err
		}
		e.line(fmt.Sprintf("EBS %s %d GB", typ, size), n, p, "GB-month", float64(size), Fixed, "per instance, while it runs", "ebs")
	}
	return nil
}

// alarms counts alarm metrics: an alarm on one metric is one; a metric
// math alarm is billed per metric it reads. Periods under a minute are
// high resolution.
func (e *estimator) alarms(rs map[string]map[string]any) {
	g := e.t.Global
	for _, r := range rs {
		n := 1
		if qs := tfjson.Blocks(r["metric_query"]); len(qs) > 0 {
			n = 0
			for _, q := range qs {
				if _, ok := q["metric"]; ok {
					n++
				}
			}
		}
		period := tfjson.Num(r["period"])
		for _, q := range tfjson.Blocks(r["metric_query"]) {
			for _, m := range tfjson.Blocks(q["metric"]) {
				if p := tfjson.Num(m["period"]); p > 0 && (period == 0 || p < period) {
					period = p
				}
			}
		}
		if period > 0 && period < 60 {
			e.line("CloudWatch alarm metric (high resolution)", n, g.AlarmMetricHighResMonth, "alarm metric-month", 1, Fixed,
				"before the free tier of 10 alarm metrics", "cloudwatch")
			continue
		}
		e.line("CloudWatch alarm metric (standard)", n, g.AlarmMetricMonth, "alarm metric-month", 1, Fixed,
			"metric math alarms count each metric they read; before the free tier of 10 alarm metrics", "cloudwatch")
	}
}

// webACLs prices AWS WAF web ACLs: a monthly fee per ACL and per rule (a
// managed rule group is one rule), plus requests, listed as usage.
func (e *estimator) webACLs(rs map[string]map[string]any) {
	g := e.t.Global
	rules := 0
	for _, r := range rs {
		rules += len(tfjson.Blocks(r["rule"]))
	}
	e.line("AWS WAF web ACL", len(rs), g.WAFWebACLMonth, "ACL-month", 1, Fixed, "", "waf")
	if rules > 0 {
		e.line("AWS WAF rule", rules, g.WAFRuleMonth, "rule-month", 1, Fixed, "each managed rule group and the rate rule", "waf")
	}
	e.line("AWS WAF requests", len(rs), 0, "ACL", 0, Usage,
		fmt.Sprintf("AWS WAF: $%.2f per million requests inspected", g.WAFMillionRequests), "")
}

// healthChecks prices Route 53 health checks at the AWS-endpoint rate
// plus one charge per optional feature they use.
func (e *estimator) healthChecks(rs map[string]map[string]any) {
	g := e.t.Global
	for _, r := range rs {
		typ := str(r, "type", "")
		features := 0
		if strings.HasPrefix(typ, "HTTPS") {
			features++
		}
		if strings.HasSuffix(typ, "STR_MATCH") {
			features++
		}
		if tfjson.Num(r["request_interval"]) == 10 {
			features++
		}
		if m, _ := r["measure_latency"].(bool); m {
			features++
		}
		class := "Route 53 health check"
		if features > 0 {
			class = fmt.Sprintf("Route 53 health check (+%d optional features)", features)
		}
		e.line(class, 1, g.HealthCheckAWSMonth+float64(features)*g.HealthCheckFeatureAWSMonth, "check-month", 1, Assumed,
			"assumed an AWS endpoint in the same account (an ALB); non-AWS endpoints cost more", "route53")
	}
}
