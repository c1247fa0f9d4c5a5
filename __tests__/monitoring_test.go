package tests

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/tfjson"
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
			maps.Copy(dims, d)
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
			if r := tfjson.Ref(dims[k]); r != "" {
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
// each stack of the example and what each watches.
func TestEveryResourceHasItsAlarmsAndEveryAlarmNotifiesATopic(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		out := synthOf(t, f)
		var report strings.Builder
		for _, stack := range f.Cfg.MemberAccountNames() { // the management stack has no alarms
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
					if len(acts) == 0 || !topics[tfjson.Ref(acts[0])] {
						t.Errorf("%s: alarm %s has %s %v, not a topic of this stack", stack, id, key, a[key])
					}
				}
			}
			need := func(kind, pattern string, min int) {
				if n := strings.Count(watchedText, pattern); n < min {
					t.Errorf("%s: %s %q is watched by %d alarms, want at least %d", stack, kind, pattern, n, min)
				}
			}
			for id, lb := range s.resources("aws_lb") {
				// 5xx rate and p95, and unhealthy targets once services
				// stand behind it.
				min := 2
				if a := f.Cfg.Accounts[stack]; slices.ContainsFunc(a.ServiceNames(), func(n string) bool {
					return (a.Services[n].LoadBalancer == config.LBInternal) == (lb["internal"] == true)
				}) {
					min = 3
				}
				need("load balancer", "aws_lb."+id, min)
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
			if a := f.Cfg.Accounts[stack]; a.Kind == config.KindApp && len(s.resources("aws_ecs_service")) != len(a.Services) {
				t.Errorf("%s: %d ECS services for %d configured", stack, len(s.resources("aws_ecs_service")), len(a.Services))
			}
			fmt.Fprintf(&report, "%s: %d alarms\n", stack, len(all))
			for _, w := range all {
				fmt.Fprintf(&report, "  %-48s %s\n", w.name, w.resource)
			}
		}
		if f.Name == exampleFixture {
			t.Logf("alarms per stack, and what each watches:\n%s", report.String())
		}
	})
}

// TestAlarmTopicsAreEncryptedAndOnlyMonitoringServicesPublish: every
// account stack has a critical and a warning topic, KMS-encrypted, that
// only AWS monitoring services of that account may publish to, one budget
// and one cost anomaly subscription.
func TestAlarmTopicsAreEncryptedAndOnlyMonitoringServicesPublish(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		for _, stack := range f.Cfg.MemberAccountNames() {
			s := readStack(t, synthOf(t, f), stack)
			// Outside us-east-1, Route 53 health checks' alarms notify a
			// second pair of topics in us-east-1 (help/monitoring.md).
			want := 2
			if f.Cfg.Region != "us-east-1" && len(s.resources("aws_route53_health_check")) > 0 {
				want = 4
			}
			if got := len(s.resources("aws_sns_topic")); got != want {
				t.Errorf("%s: %d topics, want %d (a critical and a warning topic per region with alarms)", stack, got, want)
			}
			for id, topic := range s.resources("aws_sns_topic") {
				if tfjson.Ref(topic["kms_master_key_id"]) == "" {
					t.Errorf("%s: topic %s is not KMS-encrypted", stack, id)
				}
			}
			for id, p := range s.resources("aws_sns_topic_policy") {
				pol := p["policy"].(string)
				if !strings.Contains(pol, `"Service":["budgets.amazonaws.com","cloudwatch.amazonaws.com","costalerts.amazonaws.com","events.amazonaws.com"]`) ||
					strings.Count(pol, `"SNS:Publish"`) != 1 || !strings.Contains(pol, `"aws:SourceAccount":["`+f.Cfg.Accounts[stack].ID+`"]`) {
					t.Errorf("%s: topic policy %s lets others publish: %s", stack, id, pol)
				}
			}
			budgets := s.resources("aws_budgets_budget")
			if len(budgets) != 1 || len(s.resources("aws_ce_anomaly_subscription")) != 1 {
				t.Errorf("%s: want one budget and one anomaly subscription", stack)
			}
			for id, b := range budgets {
				if b["limit_amount"] != fmt.Sprint(f.Cfg.Accounts[stack].MonthlyBudgetUSD) {
					t.Errorf("%s: budget %s limits %v, want %d", stack, id, b["limit_amount"], f.Cfg.Accounts[stack].MonthlyBudgetUSD)
				}
			}
		}
	})
}

// TestServiceLogsReachTheLogsAccount: with central_logs on, every service
// log group in the app accounts subscribes to the logs account's
// destination, which only the app accounts may subscribe to; with it off,
// there is no destination and no subscription.
func TestServiceLogsReachTheLogsAccount(t *testing.T) {
	on := 0
	eachConfig(t, func(t *testing.T, f fixture) {
		cfg := f.Cfg
		logsName, logsAcct := cfg.AccountOfKind(config.KindLogs)
		dest := "arn:aws:logs:" + cfg.Region + ":" + logsAcct.ID + ":destination:" + cfg.NamePrefix + "-app-logs"
		logs := readStack(t, synthOf(t, f), logsName)
		var sources []string
		for _, app := range appAccounts(cfg) {
			sources = append(sources, cfg.Accounts[app].ID)
		}
		want := 0
		if cfg.Monitoring.CentralLogs {
			want, on = 1, on+1
		}
		policies := logs.resources("aws_cloudwatch_log_destination_policy")
		if len(policies) != want || len(logs.resources("aws_kinesis_firehose_delivery_stream")) != want {
			t.Errorf("central_logs %v: %d destination policies and %d delivery streams in %s, want %d", cfg.Monitoring.CentralLogs, len(policies), len(logs.resources("aws_kinesis_firehose_delivery_stream")), logsName, want)
		}
		for id, p := range policies {
			var doc trustDoc
			pol := p["access_policy"].(string)
			if err := json.Unmarshal([]byte(pol), &doc); err != nil {
				t.Fatal(err)
			}
			got := slices.Sorted(slices.Values(doc.Statement[0].Principal["AWS"]))
			if !slices.Equal(got, slices.Sorted(slices.Values(sources))) || !strings.Contains(pol, dest) || len(doc.Statement) != 1 {
				t.Errorf("destination policy %s lets %v subscribe, want the app accounts %v: %s", id, got, sources, pol)
			}
		}
		for _, stack := range appAccounts(cfg) {
			s := readStack(t, synthOf(t, f), stack)
			subscribed := map[string]bool{}
			for _, sub := range s.resources("aws_cloudwatch_log_subscription_filter") {
				if sub["destination_arn"] != dest {
					t.Errorf("%s: subscription to %v", stack, sub["destination_arn"])
				}
				subscribed[sub["log_group_name"].(string)] = true
			}
			for name := range cfg.Accounts[stack].Services {
				if group := "/ecs/" + envName(cfg, stack) + "-" + name; subscribed[group] != cfg.Monitoring.CentralLogs {
					t.Errorf("%s: %s shipped to the logs account = %v, central_logs %v", stack, group, subscribed[group], cfg.Monitoring.CentralLogs)
				}
			}
			if len(subscribed) != len(cfg.Accounts[stack].Services)*want {
				t.Errorf("%s: %d log groups subscribed, want %d", stack, len(subscribed), len(cfg.Accounts[stack].Services)*want)
			}
		}
	})
	if on == 0 && fixturesInPlay(t) {
		t.Error("no property config switches central_logs on; a fixture should")
	}
}
