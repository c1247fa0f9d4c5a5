package config

import (
	"fmt"
	"net/mail"
	"regexp"
)

// Monitoring configures alarms and where they go. Every account has a
// "critical" and a "warning" topic; both notify these subscribers.
type Monitoring struct {
	// AlarmEmails are subscribed to both topics (each address confirms by
	// email once). Default: none.
	AlarmEmails []string `yaml:"alarm_emails" json:"alarm_emails,omitempty"`
	// ChatWebhooks are HTTPS endpoints (chat tool integrations) subscribed to
	// both topics. Default: none.
	ChatWebhooks []string `yaml:"chat_webhooks" json:"chat_webhooks,omitempty"`
	// CentralLogs also ships every service's logs to the logs account
	// (CloudWatch Logs destination, Firehose, an encrypted bucket that
	// expires with baseline.log_buckets.expire_days). Default: false.
	CentralLogs bool `yaml:"central_logs" json:"central_logs,omitempty"`
	// Thresholds of the alarms.
	Thresholds Thresholds `yaml:"thresholds" json:"thresholds"`
}

// Thresholds of the alarms. Every field is optional; defaults in brackets.
type Thresholds struct {
	// ALB5xxPercent of requests answered 5xx over 5 minutes [5].
	ALB5xxPercent int `yaml:"alb_5xx_percent" json:"alb_5xx_percent,omitempty"`
	// ALBP95Millis is the p95 target response time [1000].
	ALBP95Millis int `yaml:"alb_p95_ms" json:"alb_p95_ms,omitempty"`
	// ServiceCPUPercent and ServiceMemoryPercent of a service's tasks [85].
	ServiceCPUPercent    int `yaml:"service_cpu_percent" json:"service_cpu_percent,omitempty"`
	ServiceMemoryPercent int `yaml:"service_memory_percent" json:"service_memory_percent,omitempty"`
	// DBCPUPercent of any Aurora instance [80].
	DBCPUPercent int `yaml:"db_cpu_percent" json:"db_cpu_percent,omitempty"`
	// DBFreeableMemoryMB below which an instance is short of memory [256].
	DBFreeableMemoryMB int `yaml:"db_freeable_memory_mb" json:"db_freeable_memory_mb,omitempty"`
	// DBConnections above which the cluster is near its limit [400].
	DBConnections int `yaml:"db_connections" json:"db_connections,omitempty"`
	// DBReplicaLagMillis of Aurora replicas [1000].
	DBReplicaLagMillis int `yaml:"db_replica_lag_ms" json:"db_replica_lag_ms,omitempty"`
	// RedisCPUPercent and RedisEngineCPUPercent [75, 80].
	RedisCPUPercent       int `yaml:"redis_cpu_percent" json:"redis_cpu_percent,omitempty"`
	RedisEngineCPUPercent int `yaml:"redis_engine_cpu_percent" json:"redis_engine_cpu_percent,omitempty"`
	// RedisMemoryPercent used [80].
	RedisMemoryPercent int `yaml:"redis_memory_percent" json:"redis_memory_percent,omitempty"`
	// RedisEvictions per 5 minutes [100].
	RedisEvictions int `yaml:"redis_evictions" json:"redis_evictions,omitempty"`
	// RedisReplicationLagSeconds [30].
	RedisReplicationLagSeconds int `yaml:"redis_replication_lag_s" json:"redis_replication_lag_s,omitempty"`
	// NATPacketDrops per 5 minutes [100]. Any NAT port allocation error
	// alarms.
	NATPacketDrops int `yaml:"nat_packet_drops" json:"nat_packet_drops,omitempty"`
	// HostMemoryPercent and HostDiskPercent used on the fullest ECS host or
	// VPN server, from the CloudWatch agent [90, 85].
	HostMemoryPercent int `yaml:"host_memory_percent" json:"host_memory_percent,omitempty"`
	HostDiskPercent   int `yaml:"host_disk_percent" json:"host_disk_percent,omitempty"`
	// ClusterReservationPercent of an ECS cluster's host CPU or memory
	// reserved by tasks, while its hosts are at max_size [90].
	ClusterReservationPercent int `yaml:"cluster_reservation_percent" json:"cluster_reservation_percent,omitempty"`
	// HostReleaseAgeDays is the age of an ECS host's Amazon Linux release
	// above which its group has missed its weekly refreshes [30].
	HostReleaseAgeDays int `yaml:"host_release_age_days" json:"host_release_age_days,omitempty"`
	// VPNCPUPercent of the VPN server [80].
	VPNCPUPercent int `yaml:"vpn_cpu_percent" json:"vpn_cpu_percent,omitempty"`
}

var budgetDefaults = map[string]int{KindLogs: 100, KindSecurity: 100, KindShared: 500, ProfileDev: 500, ProfileStage: 1000, ProfileProd: 5000}

func defaultMonitoring(c *Config) {
	t := &c.Monitoring.Thresholds
	setDefault(&t.ALB5xxPercent, 5)
	setDefault(&t.ALBP95Millis, 1000)
	setDefault(&t.ServiceCPUPercent, 85)
	setDefault(&t.ServiceMemoryPercent, 85)
	setDefault(&t.DBCPUPercent, 80)
	setDefault(&t.DBFreeableMemoryMB, 256)
	setDefault(&t.DBConnections, 400)
	setDefault(&t.DBReplicaLagMillis, 1000)
	setDefault(&t.RedisCPUPercent, 75)
	setDefault(&t.RedisEngineCPUPercent, 80)
	setDefault(&t.RedisMemoryPercent, 80)
	setDefault(&t.RedisEvictions, 100)
	setDefault(&t.RedisReplicationLagSeconds, 30)
	setDefault(&t.NATPacketDrops, 100)
	setDefault(&t.HostMemoryPercent, 90)
	setDefault(&t.HostDiskPercent, 85)
	setDefault(&t.ClusterReservationPercent, 90)
	setDefault(&t.HostReleaseAgeDays, 30)
	setDefault(&t.VPNCPUPercent, 80)
	for _, a := range c.Accounts {
		if a == nil {
			continue
		}
		setDefault(&a.MonthlyBudgetUSD, budgetDefaults[a.budgetKey()])
	}
}

// budgetKey names an account's default budget: its profile for app
// accounts, its kind otherwise.
func (a *Account) budgetKey() string {
	if a.Kind == KindApp {
		return a.Profile
	}
	return a.Kind
}

var webhookRe = regexp.MustCompile(`^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?$`)

func validateMonitoring(r *reporter, c *Config) {
	m := c.Monitoring
	for i, e := range m.AlarmEmails {
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
			r.add(fmt.Sprintf("monitoring.alarm_emails[%d]", i), "write a plain address such as ops@example.com", "%q is not an email address", clip(e))
		}
	}
	for i, u := range m.ChatWebhooks {
		if len(u) > 2048 || !webhookRe.MatchString(u) {
			r.add(fmt.Sprintf("monitoring.chat_webhooks[%d]", i), "use an https:// URL without spaces or ${", "%q is not an HTTPS endpoint", clip(u))
		}
	}
	t := m.Thresholds
	for path, v := range map[string]int{
		"alb_5xx_percent": t.ALB5xxPercent, "service_cpu_percent": t.ServiceCPUPercent, "service_memory_percent": t.ServiceMemoryPercent,
		"db_cpu_percent": t.DBCPUPercent, "redis_cpu_percent": t.RedisCPUPercent, "redis_engine_cpu_percent": t.RedisEngineCPUPercent,
		"redis_memory_percent": t.RedisMemoryPercent, "host_memory_percent": t.HostMemoryPercent, "host_disk_percent": t.HostDiskPercent,
		"cluster_reservation_percent": t.ClusterReservationPercent, "vpn_cpu_percent": t.VPNCPUPercent,
	} {
		inRange(r, "monitoring.thresholds."+path, v, 1, 100)
	}
	inRange(r, "monitoring.thresholds.host_release_age_days", t.HostReleaseAgeDays, 8, 365)
	for path, v := range map[string]int{
		"alb_p95_ms": t.ALBP95Millis, "db_freeable_memory_mb": t.DBFreeableMemoryMB, "db_connections": t.DBConnections,
		"db_replica_lag_ms": t.DBReplicaLagMillis, "redis_evictions": t.RedisEvictions,
		"redis_replication_lag_s": t.RedisReplicationLagSeconds, "nat_packet_drops": t.NATPacketDrops,
	} {
		inRange(r, "monitoring.thresholds."+path, v, 1, 1000000)
	}
	for _, name := range c.AccountNames() {
		a := c.Accounts[name]
		if a == nil || (a.MonthlyBudgetUSD == 0 && budgetDefaults[a.budgetKey()] == 0) {
			// No budget and no default for it: the unknown kind or profile
			// is the problem, and is reported on its own key.
			continue
		}
		inRange(r, "accounts."+name+".monthly_budget_usd", a.MonthlyBudgetUSD, 1, 100000000)
	}
}
