package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Load balancer choices for a service.
const (
	LBPublic   = "public"
	LBInternal = "internal"
)

// Capacity choices for a service.
const (
	CapacityEC2         = "ec2"
	CapacityFargate     = "fargate"
	CapacityFargateSpot = "fargate_spot"
)

// Aurora engines.
const (
	EnginePostgres = "aurora-postgresql"
	EngineMySQL    = "aurora-mysql"
)

// ECS sizes an app environment's cluster. The cluster always has FARGATE and
// FARGATE_SPOT capacity; these fields size its EC2 Auto Scaling group.
type ECS struct {
	// InstanceType of the EC2 hosts. Default: t3.medium (dev), t3.large
	// (stage), m6i.large (prod).
	InstanceType string `yaml:"instance_type" json:"instance_type,omitempty"`
	// MinSize and MaxSize bound the Auto Scaling group; ECS managed scaling
	// moves it between them. Default: 1-2 (dev), 1-4 (stage), 2-6 (prod).
	MinSize int `yaml:"min_size" json:"min_size,omitempty"`
	MaxSize int `yaml:"max_size" json:"max_size,omitempty"`
	// LogRetentionDays keeps service logs. Default: 30 (dev), 90 (stage),
	// 365 (prod).
	LogRetentionDays int `yaml:"log_retention_days" json:"log_retention_days,omitempty"`
	// HostRefresh is when, every week, an instance refresh replaces the
	// hosts with ones launched from the latest ECS-optimized Amazon Linux
	// 2023 AMI, one at a time, each drained by ECS before it goes
	// (help/patching.md): ddd:hh:mm in UTC, e.g. tue:04:00. Amazon Linux
	// 2023 hosts are patched only this way. Default: tue:04:00 (dev),
	// wed:04:00 (stage), thu:04:00 (prod), so that each week's image
	// usually reaches dev first.
	HostRefresh string `yaml:"host_refresh" json:"host_refresh,omitempty"`
	// ExecGroups are the security account's IAM groups (baseline.groups,
	// default groups included) whose members may open a shell in the
	// environment's running containers with ECS Exec (help/ecs-exec.md),
	// through the role <name_prefix>-<account>-ecs-exec, with MFA. Naming any
	// turns ECS Exec on for the environment's services, with every session
	// logged to a KMS-encrypted log group. No other role of the account may
	// use ECS Exec. Default: none in every profile (ECS Exec off).
	ExecGroups []string `yaml:"exec_groups" json:"exec_groups,omitempty"`
}

// hostRefreshDefaults stagger the weekly host refresh by profile.
var hostRefreshDefaults = map[string]string{ProfileDev: "tue:04:00", ProfileStage: "wed:04:00", ProfileProd: "thu:04:00"}

// Service is one Docker service behind a load balancer.
type Service struct {
	// Image is the container image, e.g. an ECR URI. Required.
	Image string `yaml:"image" json:"image"`
	// CPU units and memory MiB of the task (a valid Fargate pair).
	// Default: 256 and 512.
	CPU    int `yaml:"cpu" json:"cpu,omitempty"`
	Memory int `yaml:"memory" json:"memory,omitempty"`
	// Port the container listens on. Default: 8080.
	Port int `yaml:"port" json:"port,omitempty"`
	// DesiredCount, MinCount and MaxCount size the service; autoscaling on
	// CPU and memory moves it between min and max. Default: 1/1/2 (dev and
	// stage), 2/2/6 (prod).
	DesiredCount int `yaml:"desired_count" json:"desired_count,omitempty"`
	MinCount     int `yaml:"min_count" json:"min_count,omitempty"`
	MaxCount     int `yaml:"max_count" json:"max_count,omitempty"`
	// HealthCheckPath is probed by the load balancer. Default: /health.
	HealthCheckPath string `yaml:"health_check_path" json:"health_check_path,omitempty"`
	// LoadBalancer is "public" (internet-facing) or "internal" (east-west).
	// Required.
	LoadBalancer string `yaml:"load_balancer" json:"load_balancer"`
	// Host is the host name label: the service answers at
	// <host>.<account>.<domain> (public) or <host>.internal.<account>.<domain>
	// (internal). Default: the service name.
	Host string `yaml:"host" json:"host,omitempty"`
	// Path restricts routing to a path pattern such as /api/*. Default: all
	// paths of the host.
	Path string `yaml:"path" json:"path,omitempty"`
	// Capacity is ec2 (the cluster's Auto Scaling group), fargate or
	// fargate_spot. Default: ec2.
	Capacity string `yaml:"capacity" json:"capacity,omitempty"`
	// Env are plain environment variables. Never put secrets here.
	Env map[string]string `yaml:"env" json:"env,omitempty"`
	// Secrets are names of environment variables whose values live in
	// Secrets Manager: each gets a secret <prefix>/<account>/<service>/<NAME>
	// that operators fill in (help/secrets.md). Default: none.
	Secrets []string `yaml:"secrets" json:"secrets,omitempty"`
	// UseDatabase gives the service its own database user (svc_<name>),
	// which it connects as with an IAM authentication token (no password;
	// never the master user), injects DB_HOST, DB_PORT, DB_NAME, DB_USER
	// and DB_AUTH=iam, and opens the database to this service.
	// Default: false.
	UseDatabase bool `yaml:"use_database" json:"use_database,omitempty"`
	// UseCache injects REDIS_HOST, REDIS_PORT and REDIS_USER, grants IAM
	// authentication as that user, and opens Redis to this service.
	// Default: false.
	UseCache bool `yaml:"use_cache" json:"use_cache,omitempty"`
	// ReadOnlyRootFilesystem mounts the container's root filesystem
	// read-only; /tmp stays writable (a task volume). Set false for an
	// image that writes elsewhere (help/deploy-app.md). Default: true, or
	// false when the environment has ECS Exec on (ecs.exec_groups), whose
	// agent needs a writable root.
	ReadOnlyRootFilesystem *bool `yaml:"read_only_root_filesystem" json:"read_only_root_filesystem,omitempty"`
	// User runs the container's process: a user or uid, optionally with
	// :group or :gid. "0" (root) opts out of the non-root default.
	// Default: "1000:1000".
	User string `yaml:"user" json:"user,omitempty"`
}

// Database sizes the Aurora cluster.
type Database struct {
	// Engine is aurora-postgresql or aurora-mysql. Default: aurora-postgresql.
	Engine string `yaml:"engine" json:"engine,omitempty"`
	// EngineVersion, e.g. "16.4" or "8.0.mysql_aurora.3.08.0". Default: 16.4
	// for PostgreSQL, 8.0.mysql_aurora.3.08.0 for MySQL.
	EngineVersion string `yaml:"engine_version" json:"engine_version,omitempty"`
	// InstanceClass of every instance. Default: db.t4g.medium (dev, stage),
	// db.r6g.large (prod).
	InstanceClass string `yaml:"instance_class" json:"instance_class,omitempty"`
	// Instances is the writer plus readers, spread across AZs. Default: 1
	// (dev, stage), 2 (prod); prod needs at least 2.
	Instances int `yaml:"instances" json:"instances,omitempty"`
	// BackupRetentionDays, 1-35. Default: 7 (dev), 14 (stage), 30 (prod).
	BackupRetentionDays int `yaml:"backup_retention_days" json:"backup_retention_days,omitempty"`
	// DatabaseName is created at launch. Default: app.
	DatabaseName string `yaml:"database_name" json:"database_name,omitempty"`
	// Enabled makes the Aurora cluster. Default: true when a service of
	// the environment has use_database, false otherwise. Turning it off
	// destroys the cluster with a final snapshot (help/backup-restore.md).
	Enabled *bool `yaml:"enabled" json:"enabled,omitempty"`
	// SkipFinalSnapshot deletes the cluster without a final snapshot
	// <name_prefix>-<account>-final. Default: false, a final snapshot is
	// always taken (help/backup-restore.md).
	SkipFinalSnapshot bool `yaml:"skip_final_snapshot" json:"skip_final_snapshot,omitempty"`
	// DeletionProtection makes AWS refuse to delete the cluster: removing
	// it (enabled: false) then first needs an apply with
	// deletion_protection: false. Default: true (prod), false (dev, stage).
	DeletionProtection *bool `yaml:"deletion_protection" json:"deletion_protection,omitempty"`
}

// Cache sizes the Redis replication group.
type Cache struct {
	// NodeType of every node. Default: cache.t4g.small (dev, stage),
	// cache.r7g.large (prod).
	NodeType string `yaml:"node_type" json:"node_type,omitempty"`
	// Replicas beside the primary, 0-5; with any, the group is Multi-AZ with
	// automatic failover. Default: 0 (dev), 1 (stage, prod).
	Replicas *int `yaml:"replicas" json:"replicas,omitempty"`
	// EngineVersion of Redis. Default: 7.1.
	EngineVersion string `yaml:"engine_version" json:"engine_version,omitempty"`
	// SnapshotRetentionDays, 0-35. Default: 1 (dev), 7 (stage), 14 (prod).
	SnapshotRetentionDays int `yaml:"snapshot_retention_days" json:"snapshot_retention_days,omitempty"`
	// MaintenanceWindow in UTC. Default: sun:05:00-sun:06:00.
	MaintenanceWindow string `yaml:"maintenance_window" json:"maintenance_window,omitempty"`
	// Enabled makes the Redis group. Default: true when a service of the
	// environment has use_cache, false otherwise. Turning it off destroys
	// the group with a final snapshot (help/backup-restore.md).
	Enabled *bool `yaml:"enabled" json:"enabled,omitempty"`
	// SkipFinalSnapshot deletes the group without a final snapshot
	// <name_prefix>-<account>-final. Default: false, a final snapshot is
	// always taken.
	SkipFinalSnapshot bool `yaml:"skip_final_snapshot" json:"skip_final_snapshot,omitempty"`
}

// ServiceNames returns an app account's service names, sorted.
func (a *Account) ServiceNames() []string { return slices.Sorted(maps.Keys(a.Services)) }

type profileDefaults struct {
	instanceType                string
	ecsMin, ecsMax, logDays     int
	desired, minCount, maxCount int
	dbClass                     string
	dbInstances, backupDays     int
	nodeType                    string
	replicas, snapshotDays      int
}

var appDefaults = map[string]profileDefaults{
	ProfileDev:   {"t3.medium", 1, 2, 30, 1, 1, 2, "db.t4g.medium", 1, 7, "cache.t4g.small", 0, 1},
	ProfileStage: {"t3.large", 1, 4, 90, 1, 1, 2, "db.t4g.medium", 1, 14, "cache.t4g.small", 1, 7},
	ProfileProd:  {"m6i.large", 2, 6, 365, 2, 2, 6, "db.r6g.large", 2, 30, "cache.r7g.large", 1, 14},
}

var engineVersions = map[string]string{EnginePostgres: "16.4", EngineMySQL: "8.0.mysql_aurora.3.08.0"}

// forProfile is a profile's defaults; an unknown profile gets dev's
// (validation reports the profile itself).
func forProfile[T any](defaults map[string]T, profile string) T {
	if d, ok := defaults[profile]; ok {
		return d
	}
	return defaults[ProfileDev]
}

// defaultApp fills in an app account's layers. An unknown profile gets dev
// defaults; validation reports the profile itself.
func defaultApp(a *Account) {
	d := forProfile(appDefaults, a.Profile)
	if a.ECS == nil {
		a.ECS = &ECS{}
	}
	setDefault(&a.ECS.InstanceType, d.instanceType)
	setDefault(&a.ECS.MinSize, d.ecsMin)
	setDefault(&a.ECS.MaxSize, d.ecsMax)
	setDefault(&a.ECS.LogRetentionDays, d.logDays)
	refresh := forProfile(hostRefreshDefaults, a.Profile)
	setDefault(&a.ECS.HostRefresh, refresh)
	for name, s := range a.Services {
		if s == nil {
			continue
		}
		setDefault(&s.CPU, 256)
		setDefault(&s.Memory, 512)
		setDefault(&s.Port, 8080)
		setDefault(&s.DesiredCount, d.desired)
		setDefault(&s.MinCount, d.minCount)
		setDefault(&s.MaxCount, d.maxCount)
		setDefault(&s.HealthCheckPath, "/health")
		setDefault(&s.Host, name)
		setDefault(&s.Capacity, CapacityEC2)
	}
	if a.VPNDataAccess == nil {
		open := a.Profile != ProfileProd
		a.VPNDataAccess = &open
	}
	if a.Database == nil {
		a.Database = &Database{}
	}
	db := a.Database
	setDefault(&db.Engine, EnginePostgres)
	setDefault(&db.EngineVersion, engineVersions[db.Engine])
	setDefault(&db.InstanceClass, d.dbClass)
	setDefault(&db.Instances, d.dbInstances)
	setDefault(&db.BackupRetentionDays, d.backupDays)
	setDefault(&db.DatabaseName, "app")
	if a.Cache == nil {
		a.Cache = &Cache{}
	}
	c := a.Cache
	setDefault(&c.NodeType, d.nodeType)
	if c.Replicas == nil {
		r := d.replicas
		c.Replicas = &r
	}
	setDefault(&c.EngineVersion, "7.1")
	setDefault(&c.SnapshotRetentionDays, d.snapshotDays)
	setDefault(&c.MaintenanceWindow, "sun:05:00-sun:06:00")
	defaultData(a)
}

func setDefault[T comparable](field *T, value T) {
	var zero T
	if *field == zero {
		*field = value
	}
}

var (
	domainRe   = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	serviceRe  = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	imageRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9._/:@-]*$`)
	envNameRe  = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
	pathRe     = regexp.MustCompile(`^/[A-Za-z0-9._~/*?-]*$`)
	classRe    = regexp.MustCompile(`^(db|cache)\.[a-z0-9]+\.[a-z0-9]+$`)
	instTypeRe = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	versionRe  = regexp.MustCompile(`^[0-9]+(\.[0-9a-z_]+)*$`)
	windowRe   = regexp.MustCompile(`^(mon|tue|wed|thu|fri|sat|sun):[0-2][0-9]:[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):[0-2][0-9]:[0-5][0-9]$`)
	weeklyRe   = regexp.MustCompile(`^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$`)
)

// Task sizes Fargate accepts: CPU units to the allowed memory range (MiB).
var fargateMemory = map[int][2]int{256: {512, 2048}, 512: {1024, 4096}, 1024: {2048, 8192}, 2048: {4096, 16384}, 4096: {8192, 30720}}

// Env names the product sets itself; a service may not set them too.
var reservedEnv = []string{"DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD", "DB_AUTH", "REDIS_HOST", "REDIS_PORT", "REDIS_USER"}

func validateDomain(r *reporter, c *Config) {
	switch {
	case c.Domain == "":
		r.add("domain", "set it to the apex domain you own, e.g. example.com", "missing")
	case len(c.Domain) > 200 || !domainRe.MatchString(c.Domain):
		r.add("domain", "use a lowercase DNS name such as example.com", "%q is not a domain name", clip(c.Domain))
	}
}

// validateAppLayers checks the app-only keys of one account.
func validateAppLayers(r *reporter, path string, a *Account) {
	if a.Kind != KindApp {
		for key, set := range map[string]bool{"ecs": a.ECS != nil, "services": a.Services != nil, "database": a.Database != nil, "cache": a.Cache != nil, "backup": a.Backup != nil, "vpn_data_access": a.VPNDataAccess != nil} {
			if set {
				r.add(path+"."+key, "remove it: only app accounts run these", "is set on a %s account", a.Kind)
			}
		}
		return
	}
	validateECS(r, path+".ecs", a.ECS)
	hosts := map[string]string{}
	for _, name := range a.ServiceNames() {
		validateService(r, path+".services."+name, name, a.Services[name], hosts)
	}
	validateDatabase(r, path+".database", a.Profile, a.Database)
	validateCache(r, path+".cache", a.Cache)
	validateData(r, path, a)
}

func validateECS(r *reporter, path string, e *ECS) {
	if !instTypeRe.MatchString(e.InstanceType) {
		r.add(path+".instance_type", "use an EC2 instance type such as t3.medium", "%q is not an instance type", clip(e.InstanceType))
	}
	inRange(r, path+".min_size", e.MinSize, 0, 100)
	inRange(r, path+".max_size", e.MaxSize, 1, 100)
	if e.MinSize > e.MaxSize {
		r.add(path+".min_size", "make min_size at most max_size", "%d is above max_size %d", e.MinSize, e.MaxSize)
	}
	if !containsInt(retentionDays, e.LogRetentionDays) {
		r.add(path+".log_retention_days", fmt.Sprintf("use one of %v", retentionDays), "%d is not a retention CloudWatch Logs accepts", e.LogRetentionDays)
	}
	if !weeklyRe.MatchString(e.HostRefresh) {
		r.add(path+".host_refresh", "write ddd:hh:mm in UTC, e.g. tue:04:00", "%q is not a weekly time", clip(e.HostRefresh))
	}
}

func validateService(r *reporter, path, name string, s *Service, hosts map[string]string) {
	if s == nil {
		r.add(path, "give the service at least image and load_balancer", "is empty")
		return
	}
	if len(name) > 24 || !serviceRe.MatchString(name) {
		r.add(path, "use up to 24 lowercase letters, digits and single hyphens", "%q is not a valid service name", clip(name))
	}
	switch {
	case s.Image == "":
		r.add(path+".image", "set the container image, e.g. 333333333333.dkr.ecr.us-east-1.amazonaws.com/web:1.0.0", "missing")
	case len(s.Image) > 255 || !imageRe.MatchString(s.Image):
		r.add(path+".image", "use a plain image reference: registry/repository:tag", "%q is not an image reference", clip(s.Image))
	}
	if s.LoadBalancer == "" {
		r.add(path+".load_balancer", "set it to public or internal", "missing")
	} else {
		oneOf(r, path+".load_balancer", s.LoadBalancer, LBPublic, LBInternal)
	}
	oneOf(r, path+".capacity", s.Capacity, CapacityEC2, CapacityFargate, CapacityFargateSpot)
	if mem, ok := fargateMemory[s.CPU]; !ok {
		r.add(path+".cpu", "use 256, 512, 1024, 2048 or 4096", "%d is not a task CPU size", s.CPU)
	} else if s.Memory < mem[0] || s.Memory > mem[1] {
		r.add(path+".memory", fmt.Sprintf("with cpu %d use %d to %d MiB", s.CPU, mem[0], mem[1]), "%d MiB does not fit the task size", s.Memory)
	}
	inRange(r, path+".port", s.Port, 1, 65535)
	validateCounts(r, path, s)
	if !pathRe.MatchString(s.HealthCheckPath) {
		r.add(path+".health_check_path", "use a path starting with /", "%q is not a URL path", clip(s.HealthCheckPath))
	}
	if s.Path != "" && (len(s.Path) > 128 || !pathRe.MatchString(s.Path)) {
		r.add(path+".path", "use a path pattern starting with /, e.g. /api/*", "%q is not a path pattern", clip(s.Path))
	}
	if len(s.Host) > 40 || !serviceRe.MatchString(s.Host) {
		r.add(path+".host", "use one DNS label: lowercase letters, digits and hyphens", "%q is not a host label", clip(s.Host))
	}
	route := s.LoadBalancer + ":" + s.Host + s.Path
	if other, dup := hosts[route]; dup {
		r.add(path+".host", "give each service its own host or path", "routes the same host and path as service %s", other)
	}
	hosts[route] = path[strings.LastIndex(path, ".")+1:]
	validateEnv(r, path, s)
}

func validateCounts(r *reporter, path string, s *Service) {
	inRange(r, path+".min_count", s.MinCount, 0, 1000)
	inRange(r, path+".max_count", s.MaxCount, 1, 1000)
	if s.MinCount > s.DesiredCount || s.DesiredCount > s.MaxCount {
		r.add(path+".desired_count", "keep min_count <= desired_count <= max_count", "%d is outside %d-%d", s.DesiredCount, s.MinCount, s.MaxCount)
	}
}

func validateEnv(r *reporter, path string, s *Service) {
	seen := map[string]bool{}
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		if !envNameRe.MatchString(k) || containsString(reservedEnv, k) {
			r.add(path+".env."+k, "use UPPER_SNAKE_CASE names not set by the product ("+strings.Join(reservedEnv, ", ")+")", "%q is not an allowed variable name", clip(k))
		}
		if strings.Contains(s.Env[k], "${") {
			r.add(path+".env."+k, "remove the ${ sequence; for secrets use the secrets list", "value contains ${, which Terraform would interpolate")
		}
		seen[k] = true
	}
	for i, k := range s.Secrets {
		p := fmt.Sprintf("%s.secrets[%d]", path, i)
		switch {
		case !envNameRe.MatchString(k) || containsString(reservedEnv, k):
			r.add(p, "use UPPER_SNAKE_CASE names not set by the product", "%q is not an allowed variable name", clip(k))
		case seen[k]:
			r.add(p, "set each variable once, in env or in secrets", "%s is already set", k)
		}
		seen[k] = true
	}
}

func validateDatabase(r *reporter, path, profile string, d *Database) {
	oneOf(r, path+".engine", d.Engine, EnginePostgres, EngineMySQL)
	if !versionRe.MatchString(d.EngineVersion) {
		r.add(path+".engine_version", "use a version such as 16.4", "%q is not an engine version", clip(d.EngineVersion))
	}
	if !classRe.MatchString(d.InstanceClass) || !strings.HasPrefix(d.InstanceClass, "db.") {
		r.add(path+".instance_class", "use an RDS class such as db.r6g.large", "%q is not an instance class", clip(d.InstanceClass))
	}
	inRange(r, path+".instances", d.Instances, 1, 15)
	if profile == ProfileProd && d.Instances < 2 {
		r.add(path+".instances", "use 2 or more: prod keeps a reader in another AZ for failover", "%d is too few for prod", d.Instances)
	}
	inRange(r, path+".backup_retention_days", d.BackupRetentionDays, 1, 35)
	if !regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`).MatchString(d.DatabaseName) {
		r.add(path+".database_name", "use lowercase letters, digits and underscores, starting with a letter", "%q is not a database name", clip(d.DatabaseName))
	}
}

func validateCache(r *reporter, path string, c *Cache) {
	if !classRe.MatchString(c.NodeType) || !strings.HasPrefix(c.NodeType, "cache.") {
		r.add(path+".node_type", "use a node type such as cache.t4g.small", "%q is not a node type", clip(c.NodeType))
	}
	inRange(r, path+".replicas", *c.Replicas, 0, 5)
	if !versionRe.MatchString(c.EngineVersion) {
		r.add(path+".engine_version", "use a version such as 7.1", "%q is not an engine version", clip(c.EngineVersion))
	}
	inRange(r, path+".snapshot_retention_days", c.SnapshotRetentionDays, 0, 35)
	if !windowRe.MatchString(c.MaintenanceWindow) {
		r.add(path+".maintenance_window", "write ddd:hh:mm-ddd:hh:mm in UTC, e.g. sun:05:00-sun:06:00", "%q is not a maintenance window", clip(c.MaintenanceWindow))
	}
}

func inRange(r *reporter, path string, v, lo, hi int) {
	if v < lo || v > hi {
		r.add(path, fmt.Sprintf("use a value from %d to %d", lo, hi), "%d is out of range", v)
	}
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func containsString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// DataOverVPN says whether operators on the VPN may reach the
// environment's database and cache (vpn_data_access, after defaults).
func (a *Account) DataOverVPN() bool { return a.VPNDataAccess != nil && *a.VPNDataAccess }
