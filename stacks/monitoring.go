package stacks

import (
	"strconv"

	"github.com/acme/landing-zone/constructs/alarms"
	"github.com/acme/landing-zone/constructs/centrallogs"
	"github.com/acme/landing-zone/constructs/costs"
	"github.com/acme/landing-zone/constructs/cwagent"
	"github.com/acme/landing-zone/constructs/ecscluster"
	"github.com/acme/landing-zone/constructs/loggroup"
	"github.com/acme/landing-zone/constructs/monitoring"
	"github.com/acme/landing-zone/constructs/network"
	"github.com/acme/landing-zone/constructs/vpn"
	"github.com/acme/landing-zone/internal/config"
)

// addMonitoring gives every account its alarm topics and cost alerts, and
// watches what each stack runs: NAT gateways and the VPN server in
// shared-services; load balancers, services, the ECS cluster and its hosts,
// Aurora, Redis, NAT gateways and public URLs in the app accounts, with a
// dashboard per environment. trails are the accounts' local trail copies
// (addBaseline); server is the VPN server (addSharedServices).
func (l *Landing) addMonitoring(trails map[*Account]*loggroup.Group, server *vpn.Server) {
	cfg := l.Logs.Config
	watchers := map[*Account]*monitoring.Watcher{}
	for _, a := range l.auditedStacks() {
		a.Topics = alarms.NewTopics(a.Stack, "alarm-topics", alarms.TopicsProps{
			Prefix: a.baselineName(), Emails: cfg.Monitoring.AlarmEmails, Webhooks: cfg.Monitoring.ChatWebhooks,
		})
		if a.Spec.MonthlyBudgetUSD > 0 { // the management account has none unless set
			costs.New(a.Stack, "costs", costs.Props{Name: a.baselineName(), MonthlyUSD: a.Spec.MonthlyBudgetUSD, TopicARN: a.Topics.WarningARN})
		}
		a.Output("alarm_topic_arns", "SNS topics for critical and warning alarms", []*string{a.Topics.CriticalARN, a.Topics.WarningARN})
		w := a.watcher()
		w.CloudTrail(trails[a].Name, trails[a].Resource)
		if a.Spec.Kind == config.KindManagement {
			w.OrganizationsChanges(trails[a].Name, trails[a].Resource)
		}
		watchers[a] = w
	}
	if cfg.Monitoring.CentralLogs {
		l.centralizeLogs()
	}
	w := watchers[l.Shared.Account]
	watchNAT(w, l.Shared.VPC)
	w.Instance("vpn", server.ASGName)
	w.VPNServer("vpn", server.ASGName)
	for _, app := range l.Apps {
		app.watchApp(watchers[app.Account])
	}
}

// centralizeLogs makes the destination in the logs account and subscribes
// every service's log group in the app accounts to it.
func (l *Landing) centralizeLogs() {
	cfg := l.Logs.Config
	name := cfg.NamePrefix + "-app-logs"
	var sources []string
	for _, app := range l.Apps {
		sources = append(sources, app.Spec.ID)
	}
	centrallogs.New(l.Logs.Stack, "central-logs", centrallogs.Props{
		Name: name, SourceAccounts: sources, ExpireDays: cfg.Baseline.LogBuckets.ExpireDays,
	})
	dest := centrallogs.DestinationARN(l.Logs.Env(), name)
	for _, app := range l.Apps {
		for _, svc := range app.Spec.ServiceNames() {
			centrallogs.Subscribe(app.Stack, "central-logs-"+svc, app.Services[svc].LogGroup, dest)
		}
	}
}

// watcher makes the stack's one monitoring scope.
func (a *Account) watcher() *monitoring.Watcher {
	return monitoring.New(a.Stack, "monitoring", a.baselineName(), a.Topics, monitoring.Thresholds(a.Config.Monitoring.Thresholds))
}

func watchNAT(w *monitoring.Watcher, v *network.Vpc) {
	for i, id := range v.NATGatewayIDs {
		w.NAT("nat-"+strconv.Itoa(i+1), id)
	}
}

func (a *App) watchApp(w *monitoring.Watcher) {
	acct := a.Spec
	watchNAT(w, a.VPC)
	d := w.NewDashboard()
	w.LoadBalancer("public-alb", a.PublicALB.ArnSuffix)
	w.LoadBalancer("internal-alb", a.InternalALB.ArnSuffix)
	w.WebACL("waf-public", a.WAF.Name, a.Config.Region, a.WAF.RuleMetrics, a.WAF.Block, acct.WAF.AlarmThreshold)
	d.Graph("Load balancer requests and 5xx", "Sum",
		[]any{"AWS/ApplicationELB", "RequestCount", "LoadBalancer", a.PublicALB.ArnSuffix},
		[]any{"AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", a.PublicALB.ArnSuffix},
		[]any{"AWS/ApplicationELB", "RequestCount", "LoadBalancer", a.InternalALB.ArnSuffix},
		[]any{"AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", a.InternalALB.ArnSuffix})
	var cpu, mem [][]any
	var urls *monitoring.Watcher // in us-east-1 (healthCheckWatcher)
	urlsDone := func() {}
	defer func() { urlsDone() }()
	for _, name := range acct.ServiceNames() {
		svc, s := a.Services[name], acct.Services[name]
		lb := a.PublicALB
		if s.LoadBalancer == config.LBInternal {
			lb = a.InternalALB
		}
		w.Service("svc-"+name, svc.Name, a.Cluster.Name, lb.ArnSuffix, svc.TargetGroupArnSuffix)
		if s.LoadBalancer == config.LBPublic {
			if urls == nil {
				urls, urlsDone = a.healthCheckWatcher(w)
			}
			urls.URL("url-"+name, s.Host+"."+a.DNS.Zone, s.HealthCheckPath)
		}
		cpu = append(cpu, []any{"AWS/ECS", "CPUUtilization", "ClusterName", a.Cluster.Name, "ServiceName", svc.Name})
		mem = append(mem, []any{"AWS/ECS", "MemoryUtilization", "ClusterName", a.Cluster.Name, "ServiceName", svc.Name})
	}
	d.Graph("ECS service CPU %", "Average", cpu...)
	d.Graph("ECS service memory %", "Average", mem...)
	hosts := ecscluster.HostsName(a.Cluster.Name)
	w.Hosts("ecs-hosts", hosts)
	w.ReleaseAge("ecs-hosts", hosts)
	w.RefreshFailures("ecs-hosts", hosts)
	w.Cluster(a.Cluster.Name, hosts)
	d.Graph("ECS hosts: fullest memory and disk %, cluster reservation %", "Maximum",
		[]any{cwagent.Namespace, "mem_used_percent", "AutoScalingGroupName", hosts},
		[]any{cwagent.Namespace, "disk_used_percent", "AutoScalingGroupName", hosts},
		[]any{"AWS/ECS", "CPUReservation", "ClusterName", a.Cluster.Name},
		[]any{"AWS/ECS", "MemoryReservation", "ClusterName", a.Cluster.Name})
	if a.Database != nil {
		w.Database(a.Database.ID, a.Database.Instances > 1)
		d.Graph("Aurora CPU % and connections", "Maximum",
			[]any{"AWS/RDS", "CPUUtilization", "DBClusterIdentifier", a.Database.ID},
			[]any{"AWS/RDS", "DatabaseConnections", "DBClusterIdentifier", a.Database.ID})
	}
	if a.Cache != nil {
		w.Cache(a.Cache.ID, a.Cache.Replicas)
		d.Graph("Redis CPU % and memory %", "Average",
			[]any{"AWS/ElastiCache", "EngineCPUUtilization", "CacheClusterId", a.Cache.ID + "-001"},
			[]any{"AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "CacheClusterId", a.Cache.ID + "-001"})
	}
	var nat [][]any
	for _, id := range a.VPC.NATGatewayIDs {
		nat = append(nat, []any{"AWS/NATGateway", "BytesOutToDestination", "NatGatewayId", id},
			[]any{"AWS/NATGateway", "PacketsDropCount", "NatGatewayId", id})
	}
	d.Graph("NAT gateway traffic and drops", "Sum", nat...)
	w.Dashboard(a.envName(), d)
}
