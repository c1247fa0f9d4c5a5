package tests

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/acme/landing-zone/constructs/cwagent"
	"github.com/acme/landing-zone/constructs/ecscluster"
	"github.com/acme/landing-zone/constructs/vpn"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/tfjson"
)

// refreshPreferences are what every instance refresh of the ECS hosts
// must ask for: launch a replacement before terminating a host (100-200 %),
// replace hosts that ECS protects from scale-in (the default, Wait, gives
// up after an hour), terminate standby hosts, and never skip matching
// hosts (the launch template names the AMI through an SSM parameter, so
// every host "matches" the template even when its image is old).
var refreshPreferences = map[string]any{
	"MinHealthyPercentage": 100.0, "MaxHealthyPercentage": 200.0,
	"ScaleInProtectedInstances": "Refresh", "StandbyInstances": "Terminate", "SkipMatching": false,
}

// TestECSHostsAreReplacedFromTheLatestImageEveryWeek: Amazon Linux 2023
// hosts are patched by replacement. For every app environment of every
// config, the launch template resolves the latest ECS-optimized AMI at
// launch, a schedule in the environment's host_refresh window starts an
// instance refresh of its hosts that drains them one at a time, Terraform
// rolls them when the template changes, and ECS drains each host before it
// goes.
func TestECSHostsAreReplacedFromTheLatestImageEveryWeek(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		for _, acct := range appAccounts(f.Cfg) {
			t.Run(acct, func(t *testing.T) {
				s := readStack(t, synthOf(t, f), acct)
				env := envName(f.Cfg, acct)
				asgName := ecscluster.HostsName(env)
				var asgID string
				var asg map[string]any
				for id, g := range s.resources("aws_autoscaling_group") {
					if g["name"] == asgName {
						asgID, asg = id, g
					}
				}
				if asg == nil {
					t.Fatalf("no Auto Scaling group %s", asgName)
				}
				lt := s.resources("aws_launch_template")[strings.TrimPrefix(tfjson.Ref(first(asg["launch_template"])["id"]), "aws_launch_template.")]
				if lt == nil || lt["image_id"] != ecscluster.AMIParameter {
					t.Errorf("the hosts' launch template does not resolve %s at launch: %v", ecscluster.AMIParameter, lt["image_id"])
				}
				if v, _ := first(asg["launch_template"])["version"].(string); !strings.Contains(v, ".latest_version}") {
					t.Errorf("the group launches launch template version %q: with $Latest, Terraform never sees a new version and never rolls the hosts", v)
				}
				ir := first(asg["instance_refresh"])
				if ir["strategy"] != "Rolling" {
					t.Errorf("%s has no rolling instance_refresh: a new launch template version never reaches running hosts", asgName)
				}
				checkPreferences(t, "Terraform's instance_refresh", first(ir["preferences"]), true)
				enabled := fmt.Sprint(asg["enabled_metrics"])
				for _, m := range []string{"GroupInServiceInstances", "GroupMaxSize"} {
					if !strings.Contains(enabled, m) {
						t.Errorf("%s does not publish %s, which the cluster reservation alarms compare (enabled_metrics %s)", asgName, m, enabled)
					}
				}
				mp := first(asg["instance_maintenance_policy"])
				if mp["min_healthy_percentage"] != 100.0 || mp["max_healthy_percentage"] != 200.0 {
					t.Errorf("%s's instance maintenance policy %v: want 100/200, so that a replacement (refresh or health) launches before a host goes", asgName, mp)
				}
				for _, cp := range s.resources("aws_ecs_capacity_provider") {
					if p := first(cp["auto_scaling_group_provider"]); tfjson.Ref(p["auto_scaling_group_arn"]) == "aws_autoscaling_group."+asgID {
						if p["managed_draining"] != "ENABLED" || p["managed_termination_protection"] != "ENABLED" {
							t.Errorf("capacity provider %v: managed_draining %v, managed_termination_protection %v; want both ENABLED, so that ECS moves tasks off a host before it is replaced", cp["name"], p["managed_draining"], p["managed_termination_protection"])
						}
					}
				}
				checkRefreshSchedule(t, s, f.Cfg.Accounts[acct], asgID, asgName)
			})
		}
	})
}

// checkPreferences compares refresh preferences (Terraform's snake_case
// or the API's CamelCase) with refreshPreferences.
func checkPreferences(t *testing.T, what string, got map[string]any, snake bool) {
	t.Helper()
	for k, want := range refreshPreferences {
		key := k
		if snake {
			key = snakeCase(k)
		}
		v, ok := got[key]
		if !ok && want == false {
			continue // false is the default
		}
		if fmt.Sprint(v) != fmt.Sprint(want) {
			t.Errorf("%s: %s = %v, want %v", what, key, v, want)
		}
	}
}

func snakeCase(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// checkRefreshSchedule: one EventBridge Scheduler schedule per cluster
// calls StartInstanceRefresh on its hosts' group every week at the
// account's host_refresh time (UTC), with a role that may do exactly that.
func checkRefreshSchedule(t *testing.T, s stackJSON, a *config.Account, asgID, asgName string) {
	t.Helper()
	var found []map[string]any
	for _, sch := range s.resources("aws_scheduler_schedule") {
		target := first(sch["target"])
		if target["arn"] != "arn:aws:scheduler:::aws-sdk:autoscaling:startInstanceRefresh" {
			continue
		}
		var in map[string]any
		if err := json.Unmarshal([]byte(target["input"].(string)), &in); err != nil {
			t.Fatalf("schedule %v: input is not JSON: %v", sch["name"], err)
		}
		if in["AutoScalingGroupName"] == asgName {
			found = append(found, sch)
			checkPreferences(t, "the scheduled refresh", in["Preferences"].(map[string]any), false)
			if in["Strategy"] != "Rolling" {
				t.Errorf("the scheduled refresh's strategy is %v, want Rolling", in["Strategy"])
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d schedules start an instance refresh of %s, want 1: without one, hosts keep their launch image (and Amazon Linux 2023 release) forever", len(found), asgName)
	}
	sch := found[0]
	day, hm, _ := strings.Cut(a.ECS.HostRefresh, ":")
	hh, mm, _ := strings.Cut(hm, ":")
	want := fmt.Sprintf("cron(%d %d ? * %s *)", atoi(mm), atoi(hh), strings.ToUpper(day))
	if sch["schedule_expression"] != want || sch["schedule_expression_timezone"] != "UTC" {
		t.Errorf("the refresh runs at %v (%v), want %s UTC (host_refresh %s)", sch["schedule_expression"], sch["schedule_expression_timezone"], want, a.ECS.HostRefresh)
	}
	if first(sch["flexible_time_window"])["mode"] != "OFF" {
		t.Errorf("the refresh schedule has a flexible window %v: it should start in the window it names", sch["flexible_time_window"])
	}
	role := tfjson.Ref(first(sch["target"])["role_arn"])
	var trust, policy string
	for id, r := range s.resources("aws_iam_role") {
		if "aws_iam_role."+id+".arn" == role || "aws_iam_role."+id == strings.TrimSuffix(role, ".arn") {
			trust, _ = r["assume_role_policy"].(string)
			for _, p := range s.resources("aws_iam_role_policy") {
				if strings.HasPrefix(tfjson.Ref(p["role"]), "aws_iam_role."+id) {
					policy, _ = p["policy"].(string)
				}
			}
		}
	}
	if !strings.Contains(trust, `"scheduler.amazonaws.com"`) || !strings.Contains(trust, `"aws:SourceAccount"`) {
		t.Errorf("the schedule's role trust %s: want scheduler.amazonaws.com, limited to this account", trust)
	}
	if !strings.Contains(policy, `"autoscaling:StartInstanceRefresh"`) || !strings.Contains(policy, "aws_autoscaling_group."+asgID+".arn") || strings.Count(policy, `"Action"`) != 1 {
		t.Errorf("the schedule's role may %s; want autoscaling:StartInstanceRefresh on %s only", policy, asgName)
	}
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

// alarmOn is one metric an alarm watches, with the alarm's threshold.
type alarmOn struct {
	namespace, metric string
	dims              map[string]string
	threshold         float64
	name              string
}

// alarmsOn lists every metric each alarm of a stack watches (one entry
// per input of a metric math alarm).
func alarmsOn(s stackJSON) []alarmOn {
	var out []alarmOn
	dimsOf := func(v any) map[string]string {
		d := map[string]string{}
		if m, ok := v.(map[string]any); ok {
			for k, x := range m {
				d[k] = fmt.Sprint(x)
			}
		}
		return d
	}
	for _, a := range s.resources("aws_cloudwatch_metric_alarm") {
		th, _ := a["threshold"].(float64)
		name, _ := a["alarm_name"].(string)
		if ns, ok := a["namespace"].(string); ok {
			out = append(out, alarmOn{ns, a["metric_name"].(string), dimsOf(a["dimensions"]), th, name})
		}
		if qs, ok := a["metric_query"].([]any); ok {
			for _, q := range qs {
				if m, ok := q.(map[string]any)["metric"].(map[string]any); ok {
					out = append(out, alarmOn{m["namespace"].(string), m["metric_name"].(string), dimsOf(m["dimensions"]), th, name})
				}
			}
		}
	}
	return out
}

// watching returns the alarms on namespace/metric with all of dims.
func watching(all []alarmOn, namespace, metric string, dims map[string]string) []alarmOn {
	var out []alarmOn
	for _, a := range all {
		if a.namespace != namespace || a.metric != metric {
			continue
		}
		ok := true
		for k, v := range dims {
			if a.dims[k] != v {
				ok = false
			}
		}
		if ok {
			out = append(out, a)
		}
	}
	return out
}

// TestHostsAndTheVPNHaveTheirAlarms: for every config, each ECS host group
// and the VPN server alarm on the CloudWatch agent's memory and disk use
// (which the agent aggregates per group), each cluster on its CPU and
// memory reservation, each host group on the age of its hosts' Amazon Linux
// release and on failed instance refreshes, and the VPN server on CPU and
// on the days its CRL has left; thresholds come from config.
func TestHostsAndTheVPNHaveTheirAlarms(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		out := synthOf(t, f)
		th := f.Cfg.Monitoring.Thresholds
		need := func(t *testing.T, all []alarmOn, what, ns, metric string, dims map[string]string, threshold float64) {
			t.Helper()
			got := watching(all, ns, metric, dims)
			if len(got) == 0 {
				t.Errorf("no alarm watches %s (%s/%s %v)", what, ns, metric, dims)
				return
			}
			if got[0].threshold != threshold {
				t.Errorf("%s: alarm %s has threshold %v, want %v", what, got[0].name, got[0].threshold, threshold)
			}
		}
		var report []string
		for _, acct := range appAccounts(f.Cfg) {
			s := readStack(t, out, acct)
			all := alarmsOn(s)
			env := envName(f.Cfg, acct)
			hosts := map[string]string{"AutoScalingGroupName": ecscluster.HostsName(env)}
			need(t, all, acct+" host memory", cwagent.Namespace, "mem_used_percent", hosts, float64(th.HostMemoryPercent))
			need(t, all, acct+" host disk", cwagent.Namespace, "disk_used_percent", hosts, float64(th.HostDiskPercent))
			need(t, all, acct+" host release age", ecscluster.MetricNamespace, ecscluster.ReleaseAgeMetric, hosts, float64(th.HostReleaseAgeDays))
			cluster := map[string]string{"ClusterName": env}
			need(t, all, acct+" cluster CPU reservation", "AWS/ECS", "CPUReservation", cluster, float64(th.ClusterReservationPercent))
			need(t, all, acct+" cluster memory reservation", "AWS/ECS", "MemoryReservation", cluster, float64(th.ClusterReservationPercent))
			refresh := false
			for _, r := range s.resources("aws_cloudwatch_event_rule") {
				p, _ := r["event_pattern"].(string)
				if strings.Contains(p, "EC2 Auto Scaling Instance Refresh Failed") && strings.Contains(p, `"`+ecscluster.HostsName(env)+`"`) {
					refresh = true
				}
			}
			if !refresh {
				t.Errorf("%s: no EventBridge rule reports a failed instance refresh of %s", acct, ecscluster.HostsName(env))
			}
			report = append(report, fmt.Sprintf("%s: %d alarms", acct, len(s.resources("aws_cloudwatch_metric_alarm"))))
		}
		sharedName, _ := f.Cfg.AccountOfKind(config.KindShared)
		s := readStack(t, out, sharedName)
		all := alarmsOn(s)
		server := map[string]string{"AutoScalingGroupName": f.Cfg.NamePrefix + "-openvpn"}
		need(t, all, "VPN CPU", "AWS/EC2", "CPUUtilization", server, float64(th.VPNCPUPercent))
		need(t, all, "VPN memory", cwagent.Namespace, "mem_used_percent", server, float64(th.HostMemoryPercent))
		need(t, all, "VPN disk", cwagent.Namespace, "disk_used_percent", server, float64(th.HostDiskPercent))
		need(t, all, "VPN CRL", vpn.MetricNamespace, vpn.CRLDaysLeftMetric, server, float64(vpn.CRLDays-vpn.CRLAlarmAfterDays))
		for _, stack := range append(appAccounts(f.Cfg), sharedName) {
			for _, p := range readStack(t, out, stack).resources("aws_ssm_parameter") {
				name, _ := p["name"].(string)
				if !strings.HasSuffix(name, "/cloudwatch-agent") {
					continue
				}
				var agent struct {
					Metrics struct {
						Aggregation [][]string `json:"aggregation_dimensions"`
					} `json:"metrics"`
				}
				if err := json.Unmarshal([]byte(strings.ReplaceAll(p["value"].(string), "$${", "${")), &agent); err != nil {
					t.Fatalf("%s: %s: %v", stack, name, err)
				}
				if fmt.Sprint(agent.Metrics.Aggregation) != "[[AutoScalingGroupName]]" {
					t.Errorf("%s: the agent config %s aggregates %v; want [[AutoScalingGroupName]], or the group-level alarms get no data", stack, name, agent.Metrics.Aggregation)
				}
			}
		}
		sort.Strings(report)
		t.Logf("%s: %s; %s: %d alarms", f.Name, strings.Join(report, ", "), sharedName, len(s.resources("aws_cloudwatch_metric_alarm")))
	})
}
