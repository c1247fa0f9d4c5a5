package tests

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/acme/landing-zone/constructs/alb"
	"github.com/acme/landing-zone/constructs/ecscluster"
	"github.com/acme/landing-zone/internal/cidr"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/naming"
	"github.com/acme/landing-zone/internal/tfjson"
)

// groupsNamed returns the addresses of security groups whose name ends in suffix.
func (s stackJSON) groupsNamed(suffix string) map[string]bool {
	out := map[string]bool{}
	for id, g := range s.resources("aws_security_group") {
		if strings.HasSuffix(g["name"].(string), suffix) {
			out["aws_security_group."+id] = true
		}
	}
	return out
}

// TestDataStoresAreReachableOnlyFromTheAppTier: every ingress rule on the
// database and Redis groups names the security group of a service that uses
// that store (never a CIDR), and every such service runs in the private-app
// subnets only. The one exception is vpn_data_access: then the VPN server's
// public subnets in the management VPC (where VPN clients' traffic comes
// from) may reach both stores, and nothing else.
func TestDataStoresAreReachableOnlyFromTheAppTier(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		_, shared := f.Cfg.AccountOfKind(config.KindShared)
		layout, err := cidr.Layout(netip.MustParsePrefix(shared.VPC.CIDR), len(shared.VPC.AZs), shared.VPC.Subnets.Lengths())
		if err != nil {
			t.Fatal(err)
		}
		vpnSubnets := map[string]bool{}
		for _, p := range layout[0] { // the public tier, where the VPN server runs
			vpnSubnets[p.String()] = true
		}
		for _, stack := range appAccounts(f.Cfg) {
			a := f.Cfg.Accounts[stack]
			s := readStack(t, synthOf(t, f), stack)
			stores := s.groupsNamed("-db")
			for k := range s.groupsNamed("-redis") {
				stores[k] = true
			}
			if want := enabledStores(a); len(stores) != want {
				t.Fatalf("%s: found %d data store security groups, want %d", stack, len(stores), want)
			}
			appTier := serviceGroupsInAppTier(t, s)
			wantRules := 0
			for _, svc := range a.Services {
				if svc.UseDatabase {
					wantRules++
				}
				if svc.UseCache {
					wantRules++
				}
			}
			rules, fromVPN := 0, 0
			for id, r := range s.resources("aws_vpc_security_group_ingress_rule") {
				if !stores[tfjson.Ref(r["security_group_id"])] {
					continue
				}
				if c, ok := r["cidr_ipv4"].(string); ok && a.DataOverVPN() && vpnSubnets[c] && r["cidr_ipv6"] == nil && r["referenced_security_group_id"] == nil {
					fromVPN++
					continue
				}
				rules++
				if r["cidr_ipv4"] != nil || r["cidr_ipv6"] != nil || r["prefix_list_id"] != nil {
					t.Errorf("%s: %s opens a data store to an address range %v (vpn_data_access %v)", stack, id, r["cidr_ipv4"], a.DataOverVPN())
				}
				if peer := tfjson.Ref(r["referenced_security_group_id"]); !appTier[peer] {
					t.Errorf("%s: %s opens a data store to %q, which is not an app-tier service", stack, id, peer)
				}
			}
			if rules != wantRules {
				t.Errorf("%s: %d service rules on the data stores, want one per use_database and use_cache (%d)", stack, rules, wantRules)
			}
			if want := map[bool]int{true: enabledStores(a) * len(vpnSubnets), false: 0}[a.DataOverVPN()]; fromVPN != want {
				t.Errorf("%s: %d VPN rules on the data stores, want %d (vpn_data_access %v)", stack, fromVPN, want, a.DataOverVPN())
			}
			for _, g := range s.resources("aws_db_subnet_group") {
				for _, sn := range g["subnet_ids"].([]any) {
					if !strings.Contains(sn.(string), "private-persistence") {
						t.Errorf("%s: database subnet %s is outside the persistence tier", stack, sn)
					}
				}
			}
		}
	})
}

// serviceGroupsInAppTier returns the security groups of ECS services whose
// tasks run only in private-app subnets without public IPs.
func serviceGroupsInAppTier(t *testing.T, s stackJSON) map[string]bool {
	out := map[string]bool{}
	for id, svc := range s.resources("aws_ecs_service") {
		nc := svc["network_configuration"].(map[string]any)
		if nc["assign_public_ip"] != false {
			t.Errorf("service %s assigns public IPs", id)
		}
		ok := true
		for _, sn := range nc["subnets"].([]any) {
			ok = ok && strings.Contains(sn.(string), "private-app")
		}
		for _, g := range nc["security_groups"].([]any) {
			if ok {
				out[tfjson.Ref(g)] = true
			}
		}
	}
	return out
}

// secretAttributes would carry a secret value into configuration or state.
var secretAttributes = []string{"master_password", "auth_token", "passwords", "secret_string", "secret_binary", "password", "private_key"}

// TestNoSecretValueAppearsInTheOutput walks every synthesized file, online
// and offline, for attributes that hold secret values, and for resources that
// would put a secret value into state.
func TestNoSecretValueAppearsInTheOutput(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		for _, out := range []string{synthOf(t, f), offlineSynthOf(t, f)} {
			docs := readDocs(t, out)
			for _, stack := range slices.Sorted(maps.Keys(docs)) {
				walkJSON(docs[stack], "", func(path string, key string, v any) {
					for _, attr := range secretAttributes {
						if key == attr && v != nil {
							t.Errorf("%s: %s holds a value for %q", stack, path, attr)
						}
					}
				})
				s := readStack(t, out, stack)
				for id, p := range s.resources("aws_ssm_parameter") {
					if p["type"] == "SecureString" {
						t.Errorf("%s: parameter %s keeps a secret in state", stack, id)
					}
				}
				for _, typ := range []string{"aws_secretsmanager_secret_version", "aws_iam_access_key", "aws_iam_user_login_profile"} {
					if len(s.resources(typ)) > 0 {
						t.Errorf("%s: has %s, which stores a secret value in state", stack, typ)
					}
				}
				for name, o := range s.Output {
					if strings.Contains(name, "secret") && !strings.HasSuffix(o["value"].(string), "secret_arn}") {
						t.Errorf("%s: output %s = %v is not an ARN", stack, name, o["value"])
					}
				}
			}
		}
	})
}

func walkJSON(v any, path string, fn func(path, key string, v any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			fn(path+"."+k, k, child)
			walkJSON(child, path+"."+k, fn)
		}
	case []any:
		for _, child := range x {
			walkJSON(child, path+"[]", fn)
		}
	}
}

// TestProfilesSetResilienceAndProtection: each app account's data stores
// and load balancers follow its config: prod's are protected from deletion
// (and its database keeps a final snapshot), others' are not; backups are
// kept as long as configured; the database has the configured instances
// spread over the AZs, and Redis is Multi-AZ with failover exactly when it
// has replicas.
func TestProfilesSetResilienceAndProtection(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		for _, stack := range appAccounts(f.Cfg) {
			a := f.Cfg.Accounts[stack]
			prod := a.Profile == config.ProfileProd
			s := readStack(t, synthOf(t, f), stack)
			clusters := s.resources("aws_rds_cluster")
			if want := boolCount(a.DatabaseEnabled()); len(clusters) != want {
				t.Errorf("%s: %d Aurora clusters, want %d", stack, len(clusters), want)
			}
			if !a.DatabaseEnabled() {
				continue
			}
			for id, c := range clusters {
				if c["deletion_protection"] != a.DatabaseDeletionProtection() {
					t.Errorf("%s (profile %s): cluster %s deletion protection %v", stack, a.Profile, id, c["deletion_protection"])
				}
				if prod && (c["skip_final_snapshot"] != false || c["final_snapshot_identifier"] == nil) {
					t.Errorf("%s: prod cluster %s keeps no final snapshot", stack, id)
				}
				if c["backup_retention_period"] != float64(a.Database.BackupRetentionDays) || c["engine"] != a.Database.Engine {
					t.Errorf("%s: cluster %s: %v %v-day backups, want %s %d", stack, id, c["engine"], c["backup_retention_period"], a.Database.Engine, a.Database.BackupRetentionDays)
				}
			}
			instances := s.resources("aws_rds_cluster_instance")
			azs := map[any]bool{}
			for _, inst := range instances {
				azs[inst["availability_zone"]] = true
			}
			if len(instances) != a.Database.Instances || len(azs) != min(a.Database.Instances, len(a.VPC.AZs)) {
				t.Errorf("%s: %d DB instances in %d AZs, want %d spread over %d AZs", stack, len(instances), len(azs), a.Database.Instances, min(a.Database.Instances, len(a.VPC.AZs)))
			}
			if prod && len(azs) < 2 {
				t.Errorf("%s: prod database in %d AZ(s), want 2+", stack, len(azs))
			}
			for id, g := range s.resources("aws_elasticache_replication_group") {
				multi := *a.Cache.Replicas > 0
				if g["multi_az_enabled"] != multi || g["automatic_failover_enabled"] != multi || g["num_cache_clusters"] != float64(*a.Cache.Replicas+1) {
					t.Errorf("%s: Redis %s: Multi-AZ %v, failover %v, %v nodes; want %v, %v, %d", stack, id, g["multi_az_enabled"], g["automatic_failover_enabled"], g["num_cache_clusters"], multi, multi, *a.Cache.Replicas+1)
				}
			}
			for id, lb := range s.resources("aws_lb") {
				if lb["enable_deletion_protection"] != prod {
					t.Errorf("%s (profile %s): load balancer %s deletion protection %v", stack, a.Profile, id, lb["enable_deletion_protection"])
				}
			}
		}
	})
}

func TestDataStoresAreEncryptedAndRedisUsesIAMAuth(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		for _, stack := range appAccounts(f.Cfg) {
			a := f.Cfg.Accounts[stack]
			s := readStack(t, synthOf(t, f), stack)
			for id, c := range s.resources("aws_rds_cluster") {
				if c["storage_encrypted"] != true || c["manage_master_user_password"] != true || tfjson.Ref(c["kms_key_id"]) == "" {
					t.Errorf("%s: cluster %s is not KMS-encrypted with an RDS-managed password", stack, id)
				}
				if !strings.Contains(c["db_cluster_parameter_group_name"].(string), "aws_rds_cluster_parameter_group") {
					t.Errorf("%s: cluster %s does not use the TLS parameter group", stack, id)
				}
			}
			tls := map[string]string{config.EnginePostgres: `"name":"rds.force_ssl","value":"1"`, config.EngineMySQL: `"name":"require_secure_transport","value":"ON"`}[a.Database.Engine]
			groups := s.resources("aws_rds_cluster_parameter_group")
			if want := boolCount(a.DatabaseEnabled()); len(groups) != want {
				t.Errorf("%s: %d cluster parameter groups, want %d", stack, len(groups), want)
			}
			for _, pg := range groups {
				b, _ := json.Marshal(pg["parameter"])
				if tls == "" || !strings.Contains(string(b), tls) {
					t.Errorf("%s: %s parameter group does not force TLS (want %s): %s", stack, a.Database.Engine, tls, b)
				}
			}
			for id, g := range s.resources("aws_elasticache_replication_group") {
				if g["at_rest_encryption_enabled"] != "true" || g["transit_encryption_enabled"] != true || tfjson.Ref(g["kms_key_id"]) == "" || g["user_group_ids"] == nil {
					t.Errorf("%s: Redis %s lacks encryption or RBAC", stack, id)
				}
			}
			modes := map[string]string{}
			for _, u := range s.resources("aws_elasticache_user") {
				modes[u["user_name"].(string)] = u["authentication_mode"].(map[string]any)["type"].(string) + " " + u["access_string"].(string)
			}
			if !a.CacheEnabled() {
				if len(modes) != 0 {
					t.Errorf("%s: Redis users %v where the cache is off", stack, modes)
				}
				continue
			}
			if !strings.HasPrefix(modes["default"], "no-password-required off") {
				t.Errorf("%s: the default Redis user is not switched off: %q", stack, modes["default"])
			}
			app := naming.Fit(envName(f.Cfg, stack)+"-app", 40)
			if !strings.HasPrefix(modes[app], "iam on") || len(modes) != 2 {
				t.Errorf("%s: Redis users %v; want default off and %s with IAM", stack, modes, app)
			}
		}
	})
}

func TestLoadBalancersServeCurrentTLSAndRedirectHTTP(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		for _, stack := range appAccounts(f.Cfg) {
			s := readStack(t, synthOf(t, f), stack)
			lbs := s.resources("aws_lb")
			if len(lbs) != 2 {
				t.Fatalf("%s: %d load balancers, want public and internal", stack, len(lbs))
			}
			for id, lb := range lbs {
				if lb["drop_invalid_header_fields"] != true || lb["access_logs"].(map[string]any)["enabled"] != true {
					t.Errorf("%s: %s keeps invalid headers or has no access logs", stack, id)
				}
			}
			https, redirects := 0, 0
			for id, l := range s.resources("aws_lb_listener") {
				switch l["protocol"] {
				case "HTTPS":
					https++
					if l["ssl_policy"] != alb.TLSPolicy || l["certificate_arn"] == nil {
						t.Errorf("%s: %s has policy %v", stack, id, l["ssl_policy"])
					}
				case "HTTP":
					b, _ := json.Marshal(l["default_action"])
					if !strings.Contains(string(b), `"protocol":"HTTPS"`) || !strings.Contains(string(b), "HTTP_301") {
						t.Errorf("%s: HTTP listener %s does not redirect to HTTPS: %s", stack, id, b)
					}
					redirects++
				default:
					t.Errorf("%s: listener %s speaks %v", stack, id, l["protocol"])
				}
			}
			if https != 2 || redirects != 1 {
				t.Errorf("%s: %d HTTPS and %d redirecting HTTP listeners, want 2 and 1", stack, https, redirects)
			}
		}
	})
}

// TestServicesRunOnTheirCapacityAndRoutes: each service runs on the
// capacity its config names (EC2 through the cluster's Auto Scaling
// capacity provider, or FARGATE / FARGATE_SPOT), behind the load balancer
// it names, and routed by its host and, when set, its path pattern.
func TestServicesRunOnTheirCapacityAndRoutes(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		for _, stack := range appAccounts(f.Cfg) {
			a := f.Cfg.Accounts[stack]
			s := readStack(t, synthOf(t, f), stack)
			env := envName(f.Cfg, stack)
			byName := map[string]map[string]any{}
			for _, svc := range s.resources("aws_ecs_service") {
				byName[svc["name"].(string)] = svc
			}
			if len(byName) != len(a.Services) {
				t.Errorf("%s: %d ECS services for %d configured", stack, len(byName), len(a.Services))
			}
			var ec2 []string
			for _, cp := range s.resources("aws_ecs_capacity_provider") {
				ec2 = append(ec2, cp["name"].(string))
			}
			if len(ec2) != 1 {
				t.Fatalf("%s: %d EC2 capacity providers, want the cluster's one", stack, len(ec2))
			}
			rules := map[string]string{}
			for _, r := range s.resources("aws_lb_listener_rule") {
				b, _ := json.Marshal(r["condition"])
				rules[tfjson.Ref(r["listener_arn"])+" "+string(b)] = tfjson.Ref(r["action"].([]any)[0].(map[string]any)["target_group_arn"])
			}
			for _, name := range a.ServiceNames() {
				cs := a.Services[name]
				svc := byName[env+"-"+name]
				if svc == nil {
					t.Errorf("%s: no ECS service %s-%s", stack, env, name)
					continue
				}
				b, _ := json.Marshal(svc["capacity_provider_strategy"])
				want := map[string]string{config.CapacityFargate: `"capacity_provider":"FARGATE"`, config.CapacityFargateSpot: `"capacity_provider":"FARGATE_SPOT"`}[cs.Capacity]
				if cs.Capacity == config.CapacityEC2 {
					want = `"capacity_provider":"` + ec2[0] + `"`
				}
				if want == "" || !strings.Contains(string(b), want) || strings.Count(string(b), `"capacity_provider"`) != 1 {
					t.Errorf("%s: service %s (capacity %s) runs on %s", stack, name, cs.Capacity, b)
				}
				found := 0
				for cond := range rules {
					if strings.Contains(cond, `"`+cs.Host+".") && (cs.Path == "" || strings.Contains(cond, `"`+cs.Path+`"`)) {
						found++
					}
				}
				if found == 0 {
					t.Errorf("%s: no listener rule routes host %s path %q", stack, cs.Host, cs.Path)
				}
			}
		}
	})
}

func TestECSHostsRequireIMDSv2AndEncryptedVolumes(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		for _, stack := range vpcAccounts(f.Cfg) {
			lts := readStack(t, synthOf(t, f), stack).resources("aws_launch_template")
			if len(lts) != 1 {
				t.Errorf("%s: %d launch templates, want 1 (ECS hosts or the VPN server)", stack, len(lts))
			}
			for id, lt := range lts {
				md := lt["metadata_options"].(map[string]any)
				if md["http_tokens"] != "required" || md["http_put_response_hop_limit"] != 1.0 {
					t.Errorf("%s: %s allows IMDSv1 or container access to IMDS", stack, id)
				}
				ebs := lt["block_device_mappings"].([]any)[0].(map[string]any)["ebs"].(map[string]any)
				if ebs["encrypted"] != "true" {
					t.Errorf("%s: %s root volume is not encrypted", stack, id)
				}
				if !strings.HasPrefix(lt["image_id"].(string), "resolve:ssm:") {
					t.Errorf("%s: %s does not resolve its AMI through SSM", stack, id)
				}
			}
		}
	})
}

func TestUserDataJoinsTheClusterAndPatches(t *testing.T) {
	b, err := base64.StdEncoding.DecodeString(ecscluster.RenderUserData("acme-dev", "us-east-1", "/acme-dev-ecs-host/cloudwatch-agent"))
	if err != nil {
		t.Fatal(err)
	}
	// Patching is by replacement (help/patching.md); the host reports its
	// release age for the alarm that shows it stopped.
	for _, want := range []string{"ECS_CLUSTER=acme-dev\n", "ECS_AWSVPC_BLOCK_IMDS=true", "--dimensions AutoScalingGroupName=acme-dev-ecs-hosts", "fetch-config -m ec2 -s -c ssm:/acme-dev-ecs-host/cloudwatch-agent"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("user data lacks %q:\n%s", want, b)
		}
	}
}

// TestServiceRolesReachOnlyWhatTheyRead checks the api service's roles: the
// execution role reads its own secrets and logs, the task role may only
// connect to Redis as the app user; the web service's task role has nothing.
func TestServiceRolesReachOnlyWhatTheyRead(t *testing.T) {
	s := readStack(t, online(t), "stage")
	policies := map[string]string{}
	for _, p := range s.resources("aws_iam_role_policy") {
		policies[tfjson.Ref(p["role"])] = p["policy"].(string)
	}
	roles := map[string]string{}
	for id, r := range s.resources("aws_iam_role") {
		roles[r["name"].(string)] = "aws_iam_role." + id
	}
	exec := policies[roles["acme-stage-api-exec"]]
	for _, want := range []string{"secret:acme/stage/api/STRIPE_API_KEY-??????", "log-group:/ecs/acme-stage-api:*", "repository/api"} {
		if !strings.Contains(exec, want) {
			t.Errorf("api execution policy lacks %q: %s", want, exec)
		}
	}
	if strings.Contains(exec, "acme-stage-web") {
		t.Errorf("api execution policy reaches web's resources: %s", exec)
	}
	task := policies[roles["acme-stage-api-task"]]
	if !strings.Contains(task, `"elasticache:Connect"`) || !strings.Contains(task, ":user:acme-stage-app") ||
		!strings.Contains(task, `"rds-db:connect"`) || !strings.Contains(task, ".cluster_resource_id}/svc_api") || strings.Count(task, `"Action"`) != 2 {
		t.Errorf("api task policy should only grant elasticache:Connect as the app user and rds-db:connect as svc_api: %s", task)
	}
	if strings.Contains(exec, "secretsmanager:GetSecretValue\"],\"Resource\":[\"${aws_rds_cluster") || strings.Contains(exec, "master_user_secret") {
		t.Errorf("api execution policy reads the database master secret: %s", exec)
	}
	if p, ok := policies[roles["acme-stage-web-task"]]; ok {
		t.Errorf("web needs no AWS access, but its task role has: %s", p)
	}
}

// TestExampleDeclaresPublicAndInternalServices guards the example
// fixture's promise, which the literal tests above rely on: at least two
// services per environment, one on each load balancer.
func TestExampleDeclaresPublicAndInternalServices(t *testing.T) {
	cfg := loadExample(t)
	for _, env := range appAccounts(cfg) {
		lbs := map[string]int{}
		for _, s := range cfg.Accounts[env].Services {
			lbs[s.LoadBalancer]++
		}
		if len(cfg.Accounts[env].Services) < 2 || lbs["public"] == 0 || lbs["internal"] == 0 {
			t.Errorf("%s declares %v services by load balancer; want at least one public and one internal", env, lbs)
		}
	}
}

// enabledStores is how many data stores (Aurora, Redis) the account has.
func enabledStores(a *config.Account) int {
	return boolCount(a.DatabaseEnabled()) + boolCount(a.CacheEnabled())
}

func boolCount(b bool) int {
	if b {
		return 1
	}
	return 0
}
