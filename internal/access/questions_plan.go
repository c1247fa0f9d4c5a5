package access

import (
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/acme/landing-zone/constructs/statebackend"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/ci"
	"github.com/acme/landing-zone/internal/config"
)

// refreshActions are the reads with which the AWS provider refreshes each
// resource type the stacks make (what `terraform plan` calls). A type the
// table lacks fails the proof: add its reads here.
var refreshActions = map[string][]string{
	"aws_accessanalyzer_analyzer":                        {"access-analyzer:GetAnalyzer"},
	"aws_acm_certificate":                                {"acm:DescribeCertificate", "acm:ListTagsForCertificate"},
	"aws_acm_certificate_validation":                     {"acm:DescribeCertificate"},
	"aws_appautoscaling_policy":                          {"application-autoscaling:DescribeScalingPolicies"},
	"aws_appautoscaling_target":                          {"application-autoscaling:DescribeScalableTargets"},
	"aws_autoscaling_group":                              {"autoscaling:DescribeAutoScalingGroups"},
	"aws_backup_plan":                                    {"backup:GetBackupPlan", "backup:ListTags"},
	"aws_backup_selection":                               {"backup:GetBackupSelection"},
	"aws_backup_vault":                                   {"backup:DescribeBackupVault", "backup:ListTags"},
	"aws_backup_vault_lock_configuration":                {"backup:DescribeBackupVault"},
	"aws_backup_vault_policy":                            {"backup:GetBackupVaultAccessPolicy"},
	"aws_budgets_budget":                                 {"budgets:ViewBudget"},
	"aws_ce_anomaly_monitor":                             {"ce:GetAnomalyMonitors"},
	"aws_ce_anomaly_subscription":                        {"ce:GetAnomalySubscriptions"},
	"aws_cloudtrail":                                     {"cloudtrail:DescribeTrails", "cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus"},
	"aws_cloudwatch_dashboard":                           {"cloudwatch:GetDashboard"},
	"aws_cloudwatch_log_destination":                     {"logs:DescribeDestinations"},
	"aws_cloudwatch_log_destination_policy":              {"logs:DescribeDestinations"},
	"aws_cloudwatch_log_group":                           {"logs:DescribeLogGroups", "logs:ListTagsForResource"},
	"aws_cloudwatch_log_metric_filter":                   {"logs:DescribeMetricFilters"},
	"aws_cloudwatch_log_subscription_filter":             {"logs:DescribeSubscriptionFilters"},
	"aws_cloudwatch_metric_alarm":                        {"cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"},
	"aws_config_aggregate_authorization":                 {"config:DescribeAggregationAuthorizations"},
	"aws_config_config_rule":                             {"config:DescribeConfigRules"},
	"aws_config_configuration_aggregator":                {"config:DescribeConfigurationAggregators"},
	"aws_config_configuration_recorder":                  {"config:DescribeConfigurationRecorders"},
	"aws_config_configuration_recorder_status":           {"config:DescribeConfigurationRecorderStatus"},
	"aws_config_delivery_channel":                        {"config:DescribeDeliveryChannels"},
	"aws_db_subnet_group":                                {"rds:DescribeDBSubnetGroups"},
	"aws_default_network_acl":                            {"ec2:DescribeNetworkAcls"},
	"aws_default_security_group":                         {"ec2:DescribeSecurityGroups"},
	"aws_default_vpc":                                    {"ec2:DescribeVpcAttribute", "ec2:DescribeVpcs"},
	"aws_dynamodb_table":                                 {"dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource"},
	"aws_ebs_encryption_by_default":                      {"ec2:GetEbsEncryptionByDefault"},
	"aws_ecr_lifecycle_policy":                           {"ecr:GetLifecyclePolicy"},
	"aws_ecr_repository":                                 {"ecr:DescribeRepositories", "ecr:ListTagsForResource"},
	"aws_ecr_repository_policy":                          {"ecr:GetRepositoryPolicy"},
	"aws_ecs_capacity_provider":                          {"ecs:DescribeCapacityProviders"},
	"aws_ecs_cluster":                                    {"ecs:DescribeClusters"},
	"aws_ecs_cluster_capacity_providers":                 {"ecs:DescribeClusters"},
	"aws_ecs_service":                                    {"ecs:DescribeServices"},
	"aws_ecs_task_definition":                            {"ecs:DescribeTaskDefinition"},
	"aws_eip":                                            {"ec2:DescribeAddresses"},
	"aws_elasticache_replication_group":                  {"elasticache:DescribeCacheClusters", "elasticache:DescribeReplicationGroups", "elasticache:ListTagsForResource"},
	"aws_elasticache_subnet_group":                       {"elasticache:DescribeCacheSubnetGroups"},
	"aws_elasticache_user":                               {"elasticache:DescribeUsers"},
	"aws_elasticache_user_group":                         {"elasticache:DescribeUserGroups"},
	"aws_flow_log":                                       {"ec2:DescribeFlowLogs"},
	"aws_guardduty_detector":                             {"guardduty:GetDetector"},
	"aws_guardduty_detector_feature":                     {"guardduty:GetDetector"},
	"aws_guardduty_invite_accepter":                      {"guardduty:GetMasterAccount"},
	"aws_guardduty_member":                               {"guardduty:GetMembers"},
	"aws_guardduty_organization_configuration":           {"guardduty:DescribeOrganizationConfiguration"},
	"aws_iam_account_password_policy":                    {"iam:GetAccountPasswordPolicy"},
	"aws_iam_group":                                      {"iam:GetGroup"},
	"aws_iam_group_policy":                               {"iam:GetGroupPolicy"},
	"aws_iam_group_policy_attachment":                    {"iam:ListAttachedGroupPolicies"},
	"aws_iam_instance_profile":                           {"iam:GetInstanceProfile"},
	"aws_iam_openid_connect_provider":                    {"iam:GetOpenIDConnectProvider"},
	"aws_iam_policy":                                     {"iam:GetPolicy", "iam:GetPolicyVersion"},
	"aws_iam_role":                                       {"iam:GetRole", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies"},
	"aws_iam_role_policy":                                {"iam:GetRolePolicy"},
	"aws_iam_role_policy_attachment":                     {"iam:ListAttachedRolePolicies"},
	"aws_iam_service_linked_role":                        {"iam:GetRole"},
	"aws_iam_user":                                       {"iam:GetUser"},
	"aws_iam_user_group_membership":                      {"iam:ListGroupsForUser"},
	"aws_internet_gateway":                               {"ec2:DescribeInternetGateways"},
	"aws_kinesis_firehose_delivery_stream":               {"firehose:DescribeDeliveryStream", "firehose:ListTagsForDeliveryStream"},
	"aws_kms_alias":                                      {"kms:ListAliases"},
	"aws_kms_key":                                        {"kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"},
	"aws_launch_template":                                {"ec2:DescribeLaunchTemplateVersions", "ec2:DescribeLaunchTemplates"},
	"aws_lb":                                             {"elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTags"},
	"aws_lb_listener":                                    {"elasticloadbalancing:DescribeListeners"},
	"aws_lb_listener_rule":                               {"elasticloadbalancing:DescribeRules"},
	"aws_lb_target_group":                                {"elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetGroups"},
	"aws_nat_gateway":                                    {"ec2:DescribeNatGateways"},
	"aws_network_acl":                                    {"ec2:DescribeNetworkAcls"},
	"aws_rds_cluster":                                    {"rds:DescribeDBClusters", "rds:ListTagsForResource"},
	"aws_rds_cluster_instance":                           {"rds:DescribeDBInstances"},
	"aws_rds_cluster_parameter_group":                    {"rds:DescribeDBClusterParameterGroups", "rds:DescribeDBClusterParameters"},
	"aws_route":                                          {"ec2:DescribeRouteTables"},
	"aws_route53_health_check":                           {"route53:GetHealthCheck"},
	"aws_route53_record":                                 {"route53:ListResourceRecordSets"},
	"aws_route53_vpc_association_authorization":          {"route53:ListVPCAssociationAuthorizations"},
	"aws_route53_zone":                                   {"route53:GetHostedZone", "route53:ListTagsForResource"},
	"aws_route53_zone_association":                       {"route53:ListHostedZonesByVPC"},
	"aws_route_table":                                    {"ec2:DescribeRouteTables"},
	"aws_route_table_association":                        {"ec2:DescribeRouteTables"},
	"aws_s3_account_public_access_block":                 {"s3:GetAccountPublicAccessBlock"},
	"aws_s3_bucket":                                      {"s3:GetBucketAcl", "s3:GetBucketPolicy", "s3:GetBucketTagging", "s3:GetBucketVersioning", "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration", "s3:ListBucket"},
	"aws_s3_bucket_lifecycle_configuration":              {"s3:GetLifecycleConfiguration"},
	"aws_s3_bucket_logging":                              {"s3:GetBucketLogging"},
	"aws_s3_bucket_ownership_controls":                   {"s3:GetBucketOwnershipControls"},
	"aws_s3_bucket_policy":                               {"s3:GetBucketPolicy"},
	"aws_s3_bucket_public_access_block":                  {"s3:GetBucketPublicAccessBlock"},
	"aws_s3_bucket_server_side_encryption_configuration": {"s3:GetEncryptionConfiguration"},
	"aws_s3_bucket_versioning":                           {"s3:GetBucketVersioning"},
	"aws_s3_bucket_object_lock_configuration":            {"s3:GetBucketObjectLockConfiguration"},
	"aws_macie2_account":                                 {"macie2:GetMacieSession"},
	"aws_secretsmanager_secret":                          {"secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"},
	"aws_security_group":                                 {"ec2:DescribeSecurityGroups"},
	"aws_securityhub_account":                            {"securityhub:DescribeHub"},
	"aws_securityhub_standards_subscription":             {"securityhub:GetEnabledStandards"},
	"aws_securityhub_finding_aggregator":                 {"securityhub:GetFindingAggregator"},
	"aws_securityhub_invite_accepter":                    {"securityhub:GetMasterAccount"},
	"aws_securityhub_member":                             {"securityhub:GetMembers"},
	"aws_securityhub_organization_configuration":         {"securityhub:DescribeOrganizationConfiguration"},
	"aws_sns_topic":                                      {"sns:GetTopicAttributes", "sns:ListTagsForResource"},
	"aws_sns_topic_policy":                               {"sns:GetTopicAttributes"},
	"aws_sns_topic_subscription":                         {"sns:GetSubscriptionAttributes"},
	"aws_ssm_parameter":                                  {"ssm:DescribeParameters", "ssm:GetParameter", "ssm:ListTagsForResource"},
	"aws_subnet":                                         {"ec2:DescribeSubnets"},
	"aws_vpc":                                            {"ec2:DescribeVpcAttribute", "ec2:DescribeVpcs"},
	"aws_vpc_endpoint":                                   {"ec2:DescribeVpcEndpoints"},
	"aws_vpc_peering_connection":                         {"ec2:DescribeVpcPeeringConnections"},
	"aws_vpc_peering_connection_accepter":                {"ec2:DescribeVpcPeeringConnections"},
	"aws_vpc_peering_connection_options":                 {"ec2:DescribeVpcPeeringConnections"},
	"aws_vpc_security_group_egress_rule":                 {"ec2:DescribeSecurityGroupRules"},
	"aws_vpc_security_group_ingress_rule":                {"ec2:DescribeSecurityGroupRules"},
	"data.aws_route_table":                               {"ec2:DescribeRouteTables"},
	"data.aws_vpc":                                       {"ec2:DescribeVpcs"},
	"aws_autoscaling_lifecycle_hook":                     {"autoscaling:DescribeLifecycleHooks"},
	"aws_autoscaling_schedule":                           {"autoscaling:DescribeScheduledActions"},
	"aws_cloudwatch_composite_alarm":                     {"cloudwatch:DescribeAlarms"},
	"aws_cloudwatch_event_rule":                          {"events:DescribeRule", "events:ListTagsForResource"},
	"aws_cloudwatch_event_target":                        {"events:ListTargetsByRule"},
	"aws_cloudwatch_log_resource_policy":                 {"logs:DescribeResourcePolicies"},
	"aws_wafv2_web_acl":                                  {"wafv2:GetWebACL", "wafv2:ListTagsForResource"},
	"aws_wafv2_web_acl_association":                      {"wafv2:GetWebACLForResource"},
	"aws_wafv2_web_acl_logging_configuration":            {"wafv2:GetLoggingConfiguration"},
	"aws_lambda_function":                                {"lambda:GetFunction"},
	"aws_lambda_permission":                              {"lambda:GetPolicy"},
	"aws_scheduler_schedule":                             {"scheduler:GetSchedule"},
	"aws_scheduler_schedule_group":                       {"scheduler:GetScheduleGroup"},
	"aws_ssm_association":                                {"ssm:DescribeAssociation"},
	"aws_ssm_document":                                   {"ssm:DescribeDocument", "ssm:GetDocument"},
	"aws_ssm_maintenance_window":                         {"ssm:GetMaintenanceWindow"},
	"data.aws_ami":                                       {"ec2:DescribeImages"},
	"data.aws_caller_identity":                           {"sts:GetCallerIdentity"},
	"data.aws_ssm_parameter":                             {"ssm:GetParameter"},
	// Computed by Terraform or the provider: no AWS calls.
	"terraform_data":               {},
	"data.aws_iam_policy_document": {},
	"data.aws_region":              {},
	"data.aws_partition":           {},
	"data.aws_availability_zones":  {"ec2:DescribeAvailabilityZones"},
}

// planReadQuestions: github-plan refreshes every resource its stack makes
// (through the shared provider's read role too), and reads no data: no
// objects but state, no log events, secret values, parameters but the
// product's, items but the lock's, keys but the state key's, images or
// messages.
func (p *prover) planReadQuestions() {
	for _, stack := range p.accountStacks() {
		st := p.u.stacks.Stack(stack)
		acct := p.account(stack)
		plan := p.session(ci.RoleARN(awsenv.Commercial, acct.ID, ci.PlanRole), false)
		q := func(name string, want bool, steps ...*Step) *Question {
			return p.add(&Question{Group: "plan reads", Stacks: []string{stack}, Name: stack + " github-plan " + name, Want: want, Steps: steps, AnyOf: !want})
		}
		p.refreshQuestion(stack, st, plan)
		n := statebackend.NamesFor(p.cfg.NamePrefix, stack, acct.ID)
		region := p.cfg.Region
		for _, b := range slices.Sorted(maps.Keys(p.u.Buckets)) {
			if bk := p.u.Buckets[b]; bk.AccountID == acct.ID && b != n.Bucket {
				q("reads objects in "+b, false, p.step(plan, "s3:GetObject", "arn:aws:s3:::"+b+"/AWSLogs/"+acct.ID+"/object", nil),
					p.step(plan, "s3:GetObjectVersion", "arn:aws:s3:::"+b+"/AWSLogs/"+acct.ID+"/object", nil))
			}
		}
		var logs, secrets, keys []*Step
		for _, name := range slices.Sorted(maps.Keys(st.Resources["aws_cloudwatch_log_group"])) {
			arn := st.value("aws_cloudwatch_log_group." + name + ".arn")
			logs = append(logs, p.step(plan, "logs:FilterLogEvents", arn, nil), p.step(plan, "logs:StartQuery", arn, nil),
				p.step(plan, "logs:GetLogEvents", arn+":log-stream:app/x", nil))
		}
		if len(logs) > 0 {
			q("reads log events of its "+itoa(len(logs)/3)+" log groups", false, logs...)
		}
		for _, name := range slices.Sorted(maps.Keys(st.Resources["aws_secretsmanager_secret"])) {
			secrets = append(secrets, p.step(plan, "secretsmanager:GetSecretValue", st.value("aws_secretsmanager_secret."+name+".arn"), nil))
		}
		for _, name := range slices.Sorted(maps.Keys(st.Resources["aws_rds_cluster"])) {
			secrets = append(secrets, p.step(plan, "secretsmanager:GetSecretValue", st.value("aws_rds_cluster."+name+".master_user_secret[0].secret_arn"), nil))
		}
		if len(secrets) > 0 {
			q("reads secret values", false, secrets...)
		}
		q("reads SSM parameters other than the product's", false,
			p.step(plan, "ssm:GetParameter", "arn:aws:ssm:"+region+":"+acct.ID+":parameter/team/db-password", nil),
			p.step(plan, "ssm:GetParametersByPath", "arn:aws:ssm:"+region+":"+acct.ID+":parameter/team", nil))
		state := p.u.KeyByAlias(acct.ID, "alias/"+n.KeyAlias)
		var keyARNs []string
		for arn, k := range p.u.Keys {
			if k.AccountID == acct.ID && k != state && !strings.HasPrefix(k.Where, "AWS managed") {
				keyARNs = append(keyARNs, arn)
			}
		}
		sort.Strings(keyARNs)
		for _, arn := range keyARNs {
			keys = append(keys, p.step(plan, "kms:Decrypt", arn, nil))
		}
		if len(keys) > 0 {
			q("decrypts with any of the account's "+itoa(len(keys))+" keys but the state key", false, keys...)
		}
		other := "arn:aws:dynamodb:" + region + ":" + acct.ID + ":table/orders"
		q("reads items of tables other than the lock table", false, p.steps(plan, []string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"}, other, nil)...)
		q("receives queue messages", false, p.step(plan, "sqs:ReceiveMessage", "arn:aws:sqs:"+region+":"+acct.ID+":orders", nil))
		if acct.Kind == config.KindShared {
			var images []*Step
			for _, name := range acct.ECR.RepositoryNames() {
				repo := "arn:aws:ecr:" + region + ":" + acct.ID + ":repository/" + name
				images = append(images, p.step(plan, "ecr:BatchGetImage", repo, nil), p.step(plan, "ecr:GetDownloadUrlForLayer", repo, nil))
			}
			if len(images) > 0 {
				q("pulls images", false, images...)
			}
		}
	}
}

// refreshQuestion: plan's principals read every resource of the stack:
// the default provider's resources as github-plan, the shared provider's
// as the stack's read role in shared-services.
func (p *prover) refreshQuestion(stack string, st *Stack, plan *Principal) {
	c, _ := p.chain(stack, ci.Plan)
	shared := plan
	for _, r := range c.Shared {
		shared = p.session(r, false)
	}
	byProvider := map[*Principal][]*Step{}
	var unknown []string
	types := slices.Sorted(maps.Keys(st.Resources))
	for _, typ := range types {
		actions, ok := refreshActions[typ]
		if !ok {
			unknown = append(unknown, typ)
			continue
		}
		for _, name := range slices.Sorted(maps.Keys(st.Resources[typ])) {
			r := st.Resources[typ][name]
			pr := plan
			if str(r["provider"]) == "aws.shared" {
				pr = shared
			}
			res := "*"
			switch {
			case strings.HasPrefix(typ, "aws_s3_bucket") && typ != "aws_s3_bucket":
				if t, n := ref(r["bucket"]); t == "aws_s3_bucket" {
					res = "arn:aws:s3:::" + st.Resolve(str(st.Resources[t][n]["bucket"]))
				}
			case typ == "aws_s3_bucket":
				res = "arn:aws:s3:::" + st.Resolve(str(r["bucket"]))
			case typ == "aws_ssm_parameter" || typ == "data.aws_ssm_parameter":
				name := st.Resolve(str(r["name"]))
				owner := st.AccountID
				if strings.HasPrefix(name, "/aws/") {
					owner = "" // published by AWS for every account
				}
				res = "arn:aws:ssm:" + p.cfg.Region + ":" + owner + ":parameter/" + strings.TrimPrefix(name, "/")
			}
			for _, a := range actions {
				byProvider[pr] = append(byProvider[pr], p.step(pr, a, res, nil))
			}
		}
	}
	// One request per distinct action and resource is enough.
	for _, pr := range []*Principal{plan, shared} {
		steps := dedupe(byProvider[pr])
		if len(steps) == 0 {
			continue
		}
		name := stack + " github-plan refreshes every resource of its stack (" + itoa(len(steps)) + " reads)"
		if pr != plan {
			name = stack + " github-plan refreshes its resources in " + p.shared + " as " + pr.Label + " (" + itoa(len(steps)) + " reads)"
		}
		p.add(&Question{Group: "plan reads", Stacks: []string{stack}, Name: name, Want: true, Steps: steps})
		if pr == shared {
			break
		}
	}
	if len(unknown) > 0 {
		p.add(&Question{Group: "plan reads", Stacks: []string{stack}, Name: stack + " github-plan refreshes every resource type of its stack", Want: true,
			Problem: "no refresh reads known for " + strings.Join(unknown, ", ") + ": add them to refreshActions in internal/access/questions_plan.go"})
	}
}

func dedupe(steps []*Step) []*Step {
	seen := map[string]bool{}
	var out []*Step
	for _, s := range steps {
		k := s.Action + " " + s.Resource
		if !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}
