package stacks

import (
	"fmt"
	"hash/fnv"
	"maps"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/alb"
	"github.com/acme/landing-zone/constructs/aurora"
	"github.com/acme/landing-zone/constructs/crossaccount"
	"github.com/acme/landing-zone/constructs/cwagent"
	"github.com/acme/landing-zone/constructs/dns"
	"github.com/acme/landing-zone/constructs/ecr"
	"github.com/acme/landing-zone/constructs/ecscluster"
	"github.com/acme/landing-zone/constructs/ecsservice"
	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/constructs/network"
	"github.com/acme/landing-zone/constructs/peering"
	"github.com/acme/landing-zone/constructs/redis"
	"github.com/acme/landing-zone/constructs/secrets"
	"github.com/acme/landing-zone/constructs/waf"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/iam"
)

// App is an app environment's stack: its network plus the layers that run
// and serve the services.
type App struct {
	*Network
	DNS         *dns.DNS
	PublicALB   *alb.ALB
	WAF         *waf.WAF // in front of PublicALB (help/waf.md)
	InternalALB *alb.ALB
	Cluster     *ecscluster.Cluster
	Database    *aurora.Cluster
	Cache       *redis.Redis
	Services    map[string]*ecsservice.Service
	ServiceURLs map[string]string
	SecretsKey  *kms.Key
	Peering     *peering.Peering
}

// NewAppAccount makes an app environment's stack: VPC, DNS and TLS, the
// public and internal load balancers, the ECS cluster, Aurora, Redis and the
// configured services.
func NewAppAccount(n *Network) *App {
	a := &App{Network: n, Services: map[string]*ecsservice.Service{}, ServiceURLs: map[string]string{}}
	cfg, acct, vpc := n.Config, n.Spec, n.VPC
	env := a.envName()
	prod := acct.Profile == config.ProfileProd

	a.DNS = dns.New(a.Stack, "dns", dns.Props{Zone: n.Name + "." + cfg.Domain, VPC: vpc})
	logs := alb.NewLogBucket(a.Stack, "alb-logs", alb.LogBucketProps{Name: env + "-alb-logs-" + acct.ID})
	a.PublicALB = alb.New(a.Stack, "alb-public", alb.Props{
		Name: publicALBName(cfg, n.Name), VPC: vpc, Tier: network.Public,
		CertificateARN: a.DNS.CertificateARN, LogBucket: logs, LogPrefix: "public", DeletionProtection: prod,
	})
	a.WAF = waf.New(a.Stack, "waf-public", waf.Props{
		Name: publicALBName(cfg, n.Name), ResourceARN: a.PublicALB.ARN, Block: acct.WAF.Blocks(),
		RateLimit: acct.WAF.RateLimit, LogKey: a.LogKey(), LogRetentionDays: acct.ECS.LogRetentionDays,
	})
	a.InternalALB = alb.New(a.Stack, "alb-internal", alb.Props{
		Name: env + "-internal", Internal: true, VPC: vpc, Tier: network.PrivateApp,
		// The management VPC reaches internal services over the peering (VPN
		// users appear as the VPN server's address).
		AllowedCIDRs:   append([]string{vpc.CIDR}, peerCIDRs(cfg, acct)...),
		CertificateARN: a.DNS.CertificateARN, LogBucket: logs, LogPrefix: "internal", DeletionProtection: prod,
	})
	agent := cwagent.New(a.Stack, "ecs-host-agent", cwagent.Props{
		Name:   env + "-ecs-host",
		Files:  []string{"/var/log/ecs/ecs-agent.log", "/var/log/ecs/ecs-init.log", "/var/log/cloud-init-output.log", "/var/log/dnf.log"},
		LogKey: a.LogKey(), RetentionDays: acct.ECS.LogRetentionDays,
	})
	var exec *ecscluster.ExecProps
	if acct.ExecOn() {
		exec = &ecscluster.ExecProps{LogKey: a.LogKey(), LogRetentionDays: acct.ECS.LogRetentionDays}
	}
	a.Cluster = ecscluster.New(a.Stack, "ecs", ecscluster.Props{
		Name: env, VPC: vpc, Tier: network.PrivateApp,
		InstanceType: acct.ECS.InstanceType, MinSize: acct.ECS.MinSize, MaxSize: acct.ECS.MaxSize,
		AgentParameter: agent.Parameter, HostStatements: agent.Statements,
		RefreshSchedule: ecscluster.WeeklyCron(acct.ECS.HostRefresh),
		Exec:            exec,
	})
	a.addExecRole()
	a.addDataStores(prod)
	a.SecretsKey = kms.New(a.Stack, "secrets-key", kms.Props{
		Alias: env + "-secrets", Description: "Encrypts the service secrets of " + env,
	})
	priorities := rulePriorities(acct)
	for _, name := range acct.ServiceNames() {
		a.addService(name, acct.Services[name], priorities[name], prod)
	}
	a.appOutputs()
	return a
}

func (a *App) envName() string { return envName(a.Config, a.Name) }

// addExecRole makes the role that the members of the groups named in
// ecs.exec_groups assume, with MFA, to run ECS Exec on the cluster's tasks
// (help/ecs-exec.md); their group policies name it (addIAMUsers).
func (a *App) addExecRole() {
	e := a.Cluster.Exec
	if e == nil {
		return
	}
	_, sec := a.Config.AccountOfKind(config.KindSecurity)
	r := crossaccount.NewCustom(a.Stack, "ecs-exec-role", crossaccount.CustomProps{
		Name: ecscluster.ExecRoleName(a.Cluster.Name), TrustedAccountID: sec.ID,
		Description: "ECS Exec into the containers of " + a.Cluster.Name + ", for the groups " + strings.Join(a.Spec.ECS.ExecGroups, ", ") + " of account " + sec.ID,
		Statements:  e.OperatorStatements(ecsservice.ContainerName), PolicyName: "ecs-exec",
		MaxSessionHours: a.Config.Baseline.RoleMaxSessionHours,
	})
	a.Output("ecs_exec_role_arn", "Role that ecs.exec_groups assume with MFA to run ECS Exec (help/ecs-exec.md)", r.ARN)
	a.Output("ecs_exec_log_group", "Log group holding every ECS Exec session", e.LogGroup.Name)
}

// envName prefixes an app environment's resource names.
func envName(cfg *config.Config, account string) string { return cfg.NamePrefix + "-" + account }

// publicALBName names an app environment's internet-facing load balancer.
// The guardrails admit internet ingress to its security group
// (alb.SecurityGroupName) and no other but the VPN's (GuardrailOptions).
func publicALBName(cfg *config.Config, account string) string {
	return envName(cfg, account) + "-public"
}

// DatabaseUserSetup is the script that creates an app account's
// IAM-authenticated database users (aurora.SetupScript), as the stack runs
// it at apply time, for running again by hand with the account's
// credentials (`landing-zone db-users ACCOUNT`).
func DatabaseUserSetup(cfg *config.Config, account string) (string, error) {
	acct := cfg.Accounts[account]
	if acct == nil || acct.Kind != config.KindApp {
		var apps []string
		for _, n := range cfg.AccountNames() {
			if cfg.Accounts[n].Kind == config.KindApp {
				apps = append(apps, n)
			}
		}
		return "", fmt.Errorf("%q is not an app account; the app accounts are %s", account, strings.Join(apps, ", "))
	}
	var users []string
	for _, name := range acct.ServiceNames() {
		if acct.Services[name].UseDatabase {
			users = append(users, aurora.UserName(name))
		}
	}
	if len(users) == 0 || !acct.DatabaseEnabled() {
		return "# No service of " + account + " uses the database.\n", nil
	}
	id := envName(cfg, account)
	arn := aurora.ClusterARN(awsenv.New(acct.ID, cfg.Region), id)
	return aurora.SetupScript(acct.Database.Engine, cfg.Region, id, arn, acct.Database.DatabaseName, users, ""), nil
}

func (a *App) addDataStores(prod bool) {
	acct, vpc := a.Spec, a.VPC
	db := acct.Database
	var users []string
	for _, name := range acct.ServiceNames() {
		if acct.Services[name].UseDatabase {
			users = append(users, aurora.UserName(name))
		}
	}
	setupRole := ""
	if len(a.Chain.Default) > 0 {
		setupRole = a.Chain.Default[0] // a person's deploy_role; CI is already in the account
	}
	// Each store exists only where a service uses it or the config asks
	// for it (database.enabled, cache.enabled); deleting one keeps a final
	// snapshot unless skip_final_snapshot (help/backup-restore.md).
	if acct.DatabaseEnabled() {
		a.Database = aurora.New(a.Stack, "db", aurora.Props{
			Users: users, SetupRole: setupRole,
			Name: a.envName(), Engine: db.Engine, EngineVersion: db.EngineVersion,
			InstanceClass: db.InstanceClass, Instances: db.Instances, VPC: vpc, Tier: network.PrivatePersistence,
			DatabaseName: db.DatabaseName, BackupRetentionDays: db.BackupRetentionDays,
			DeletionProtection: acct.DatabaseDeletionProtection(), SkipFinalSnapshot: db.SkipFinalSnapshot,
			KeyStatements: backupKeyStatements(a.Config),
			LogKey:        a.LogKey(), LogRetentionDays: acct.ECS.LogRetentionDays,
		})
	}
	c := acct.Cache
	if acct.CacheEnabled() {
		a.Cache = redis.New(a.Stack, "cache", redis.Props{
			Name: a.envName(), NodeType: c.NodeType, Replicas: *c.Replicas, EngineVersion: c.EngineVersion,
			SnapshotRetentionDays: c.SnapshotRetentionDays, MaintenanceWindow: c.MaintenanceWindow,
			SkipFinalSnapshot: c.SkipFinalSnapshot,
			VPC:               vpc, Tier: network.PrivatePersistence,
		})
	}
}

func (a *App) addService(name string, s *config.Service, priority int, prod bool) {
	cfg, acct := a.Config, a.Spec
	full := a.envName() + "-" + name
	lb, private := a.PublicALB, false
	if s.LoadBalancer == config.LBInternal {
		lb, private = a.InternalALB, true
	}
	host := a.DNS.Alias("svc-"+name+"-dns", s.Host, private, dns.Target{DNSName: lb.DNSName, ZoneID: lb.ZoneID})
	env := maps.Clone(s.Env)
	if env == nil {
		env = map[string]string{}
	}
	secretRefs := map[string]*string{}
	set := secrets.New(a.Stack, "svc-"+name+"-secret", secrets.Props{
		Prefix: cfg.NamePrefix + "/" + a.Name + "/" + name, Names: s.Secrets, Key: a.SecretsKey,
	})
	for _, sec := range set.Secrets {
		secretRefs[sec.Name] = sec.ARN
	}
	execGrants, taskGrants := set.ReadStatements(), []iam.Statement(nil)
	var after []cdktf.ITerraformDependable
	if s.UseDatabase {
		// Its own user, by IAM authentication: no password, and never the
		// master user (help/deploy-app.md).
		user := aurora.UserName(name)
		env["DB_PORT"], env["DB_NAME"] = strconv.Itoa(a.Database.Port), a.Database.DatabaseName
		env["DB_HOST"], env["DB_USER"], env["DB_AUTH"] = *a.Database.Endpoint, user, "iam"
		taskGrants = append(taskGrants, a.Database.ConnectStatement(user))
		after = append(after, a.Database.UsersReady)
	}
	if s.UseCache {
		env["REDIS_HOST"], env["REDIS_PORT"], env["REDIS_USER"] = *a.Cache.PrimaryEndpoint, strconv.Itoa(redis.Port), a.Cache.User
		taskGrants = append(taskGrants, a.Cache.ConnectStatement())
	}
	svc := ecsservice.New(a.Stack, "svc-"+name, ecsservice.Props{
		Name: full, Cluster: a.Cluster, CapacityProvider: a.capacityProvider(s.Capacity),
		Image: s.Image, ImageRepository: imageRepository(cfg, s.Image), CPU: s.CPU, Memory: s.Memory, Port: s.Port,
		DesiredCount: s.DesiredCount, MinCount: s.MinCount, MaxCount: s.MaxCount, HealthCheckPath: s.HealthCheckPath,
		LoadBalancer: lb, HostHeader: host, PathPattern: s.Path, Priority: priority,
		Env: env, Secrets: secretRefs, ExecutionStatements: execGrants, TaskStatements: taskGrants,
		LogKey: a.LogKey(), LogRetentionDays: acct.ECS.LogRetentionDays, ZeroDowntime: prod,
		After: after, WritableRoot: !s.ReadOnlyRoot(), User: s.User,
	})
	if s.UseDatabase {
		a.Database.AllowFrom(name, svc.SecurityGroup)
	}
	if s.UseCache {
		a.Cache.AllowFrom(name, svc.SecurityGroup)
	}
	a.Services[name] = svc
	a.ServiceURLs[name] = "https://" + host + s.Path
}

// imageRepository is the ARN of the shared-services repository an image is
// in, or "" for an image from elsewhere, which the product grants nothing
// to pull.
func imageRepository(cfg *config.Config, image string) string {
	repo, ok := cfg.RegistryRepository(image)
	if !ok {
		return ""
	}
	_, shared := cfg.AccountOfKind(config.KindShared)
	return ecr.RepositoryARN(awsenv.New(shared.ID, cfg.Region), repo)
}

func (a *App) capacityProvider(c string) string {
	switch c {
	case config.CapacityFargate:
		return ecscluster.Fargate
	case config.CapacityFargateSpot:
		return ecscluster.FargateSpot
	}
	return a.Cluster.EC2CapacityProvider
}

// rulePriorities gives each service a listener rule priority derived from
// its name, so adding or removing a service leaves the others' rules alone.
// Collisions move to the next free number, in name order.
func rulePriorities(acct *config.Account) map[string]int {
	const span = 40000
	used := map[string]bool{}
	out := map[string]int{}
	for _, name := range acct.ServiceNames() { // sorted
		h := fnv.New32a()
		h.Write([]byte(name))
		p := int(h.Sum32()%span) + 1
		lbKey := acct.Services[name].LoadBalancer
		for used[lbKey+strconv.Itoa(p)] {
			p = p%span + 1
		}
		used[lbKey+strconv.Itoa(p)] = true
		out[name] = p
	}
	return out
}

func (a *App) appOutputs() {
	a.Output("public_alb_dns_name", "DNS name of the internet-facing load balancer", a.PublicALB.DNSName)
	a.Output("internal_alb_dns_name", "DNS name of the internal load balancer", a.InternalALB.DNSName)
	a.Output("ecs_cluster_name", "ECS cluster name", a.Cluster.Name)
	a.Output("service_urls", "URL of each service", a.ServiceURLs)
	if a.Database != nil {
		a.Output("db_endpoint", "Aurora writer endpoint", a.Database.Endpoint)
		a.Output("db_reader_endpoint", "Aurora reader endpoint", a.Database.ReaderEndpoint)
		a.Output("db_secret_arn", "ARN of the RDS-managed master secret, for the user setup only: services connect as their own users (the value stays in Secrets Manager)", a.Database.SecretARN)
	}
	if a.Cache != nil {
		a.Output("redis_endpoint", "Redis primary endpoint (TLS, IAM authentication)", a.Cache.PrimaryEndpoint)
		a.Output("redis_user", "Redis user that services authenticate as with IAM", a.Cache.User)
	}
	a.Output("public_zone_name_servers", "Name servers to delegate "+a.DNS.Zone+" to from the parent zone", a.DNS.NameServers)
	a.Output("certificate_arn", "Validated ACM certificate for the environment's names", a.DNS.CertificateARN)
}
