package tests

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// alarmWatch is what one alarm watches, read from its dimensions.
type alarmWatch struct {
	name, resource string
}

// watched maps each alarm of a stack to the resource it watches: a resource
// address when a dimension references one, else "<dimension>=<value>".
func watched(s stackJSON) []alarmWatch {
	var out []alarmWatch
	for _, a := range s.resources("aws_cloudwatch_metric_alarm") {
		dims := map[string]any{}
		if d, ok := a["dimensions"].(map[string]any); ok {
			dims = d
		}
		if qs, ok := a["metric_query"].([]any); ok {
			for _, q := range qs {
				if m, ok := q.(map[string]any)["metric"].(map[string]any); ok {
					for k, v := range m["dimensions"].(map[string]any) {
						dims[k] = v
					}
				}
			}
		}
		keys := make([]string, 0, len(dims))
		for k := range dims {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			if r := refTo(dims[k]); r != "" {
				parts = append(parts, r)
			} else {
				parts = append(parts, fmt.Sprintf("%s=%v", k, dims[k]))
			}
		}
		if len(parts) == 0 {
			// CIS alarms watch a metric filter of the CloudTrail log group.
			parts = append(parts, fmt.Sprintf("metric %v/%v", a["namespace"], a["metric_name"]))
		}
		out = append(out, alarmWatch{a["alarm_name"].(string), strings.Join(parts, " ")})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// TestEveryResourceHasItsAlarmsAndEveryAlarmNotifiesATopic walks every
// account stack: each ALB, ECS service, Aurora cluster, Redis group and NAT
// gateway is watched, every alarm notifies (on alarm and on OK) a topic in
// the same stack, and treats missing data explicitly. It logs the alarms of
// each stack and what each watches.
func TestEveryResourceHasItsAlarmsAndEveryAlarmNotifiesATopic(t *testing.T) {
	out := online(t)
	var report strings.Builder
	for _, stack := range []string{"logs", "security", "shared-services", "dev", "stage", "prod"} {
		s := readStack(t, out, stack)
		topics := map[string]bool{}
		for id := range s.resources("aws_sns_topic") {
			topics["aws_sns_topic."+id] = true
		}
		all := watched(s)
		seen := strings.Builder{}
		for _, w := range all {
			seen.WriteString(w.resource + "\n")
		}
		watchedText := seen.String()
		for id, a := range s.resources("aws_cloudwatch_metric_alarm") {
			if a["treat_missing_data"] == nil {
				t.Errorf("%s: alarm %s leaves missing data to the default", stack, id)
			}
			for _, key := range []string{"alarm_actions", "ok_actions"} {
				acts, _ := a[key].([]any)
				if len(acts) == 0 || !topics[refTo(acts[0])] {
					t.Errorf("%s: alarm %s has %s %v, not a topic of this stack", stack, id, key, a[key])
				}
			}
		}
		need := func(kind, pattern string, min int) {
			if n := strings.Count(watchedText, pattern); n < min {
				t.Errorf("%s: %s %q is watched by %d alarms, want at least %d", stack, kind, pattern, n, min)
			}
		}
		for id := range s.resources("aws_lb") {
			need("load balancer", "aws_lb."+id, 3) // 5xx rate, p95, unhealthy targets
		}
		for _, svc := range s.resources("aws_ecs_service") {
			need("service", "ServiceName="+svc["name"].(string), 3) // cpu, memory, tasks below desired
		}
		for _, c := range s.resources("aws_rds_cluster") {
			need("database", "DBClusterIdentifier="+c["cluster_identifier"].(string), 3)
		}
		for _, g := range s.resources("aws_elasticache_replication_group") {
			need("redis", "CacheClusterId="+g["replication_group_id"].(string)+"-001", 4)
		}
		for id := range s.resources("aws_nat_gateway") {
			need("NAT gateway", "aws_nat_gateway."+id, 2)
		}
		fmt.Fprintf(&report, "%s: %d alarms\n", stack, len(all))
		for _, w := range all {
			fmt.Fprintf(&report, "  %-48s %s\n", w.name, w.resource)
		}
	}
	t.Logf("alarms per stack, and what each watches:\n%s", report.String())
}

func TestAlarmTopicsAreEncryptedAndOnlyMonitoringServicesPublish(t *testing.T) {
	for _, stack := range []string{"logs", "shared-services", "prod"} {
		s := readStack(t, online(t), stack)
		if len(s.resources("aws_sns_topic")) != 2 {
			t.Errorf("%s: want a critical and a warning topic", stack)
		}
		for id, topic := range s.resources("aws_sns_topic") {
			if refTo(topic["kms_master_key_id"]) == "" {
				t.Errorf("%s: topic %s is not KMS-encrypted", stack, id)
			}
		}
		for id, p := range s.resources("aws_sns_topic_policy") {
			pol := p["policy"].(string)
			if !strings.Contains(pol, `"Service":["budgets.amazonaws.com","cloudwatch.amazonaws.com","costalerts.amazonaws.com","events.amazonaws.com"]`) ||
				strings.Count(pol, `"SNS:Publish"`) != 1 || !strings.Contains(pol, `"aws:SourceAccount"`) {
				t.Errorf("%s: topic policy %s lets others publish: %s", stack, id, pol)
			}
		}
		if len(s.resources("aws_budgets_budget")) != 1 || len(s.resources("aws_ce_anomaly_subscription")) != 1 {
			t.Errorf("%s: want one budget and one anomaly subscription", stack)
		}
	}
}

// TestServiceLogsReachTheLogsAccount: with central_logs on (the example),
// every service log group in the app accounts subscribes to the logs
// account's destination, which only the app accounts may subscribe to.
func TestServiceLogsReachTheLogsAccount(t *testing.T) {
	cfg := loadExample(t)
	if !cfg.Monitoring.CentralLogs {
		t.Fatal("the example config should switch central_logs on")
	}
	dest := "arn:aws:logs:us-east-1:111111111111:destination:acme-app-logs"
	logs := readStack(t, online(t), "logs")
	for id, p := range logs.resources("aws_cloudwatch_log_destination_policy") {
		pol := p["access_policy"].(string)
		if !strings.Contains(pol, `"AWS":["444444444444","555555555555","666666666666"]`) || !strings.Contains(pol, dest) {
			t.Errorf("destination policy %s: %s", id, pol)
		}
	}
	if len(logs.resources("aws_kinesis_firehose_delivery_stream")) != 1 {
		t.Error("the logs account has no delivery stream for central logs")
	}
	for _, stack := range appStacks {
		s := readStack(t, online(t), stack)
		subscribed := map[string]bool{}
		for _, f := range s.resources("aws_cloudwatch_log_subscription_filter") {
			if f["destination_arn"] != dest {
				t.Errorf("%s: subscription to %v", stack, f["destination_arn"])
			}
			subscribed[f["log_group_name"].(string)] = true
		}
		for name := range cfg.Accounts[stack].Services {
			if group := "/ecs/acme-" + stack + "-" + name; !subscribed[group] {
				t.Errorf("%s: %s is not shipped to the logs account", stack, group)
			}
		}
	}
}
