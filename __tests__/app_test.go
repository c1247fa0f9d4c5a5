package tests

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/acme/landing-zone/constructs/ecscluster"
	"github.com/acme/landing-zone/internal/tfjson"
)

var appStacks = []string{"dev", "stage", "prod"}

// refTo is the resource address a reference attribute points at.
func refTo(v any) string { return tfjson.Ref(v) }

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
// database and Redis groups names a service's security group (never a CIDR),
// and every such service runs in the private-app subnets only.
func TestDataStoresAreReachableOnlyFromTheAppTier(t *testing.T) {
	for _, stack := range appStacks {
		s := readStack(t, online(t), stack)
		stores := s.groupsNamed("-db")
		for k := range s.groupsNamed("-redis") {
			stores[k] = true
		}
		if len(stores) != 2 {
			t.Fatalf("%s: found %d data store security groups, want 2", stack, len(stores))
		}
		appTier := serviceGroupsInAppTier(t, s)
		rules := 0
		for id, r := range s.resources("aws_vpc_security_group_ingress_rule") {
			if !stores[refTo(r["security_group_id"])] {
				continue
			}
			rules++
			if r["cidr_ipv4"] != nil || r["cidr_ipv6"] != nil || r["prefix_list_id"] != nil {
				t.Errorf("%s: %s opens a data store to an address range", stack, id)
			}
			if peer := refTo(r["referenced_security_group_id"]); !appTier[peer] {
				t.Errorf("%s: %s opens a data store to %q, which is not an app-tier service", stack, id, peer)
			}
		}
		if rules == 0 {
			t.Errorf("%s: no service can reach the data stores; the example's api service should", stack)
		}
		for _, g := range s.resources("aws_db_subnet_group") {
			for _, sn := range g["subnet_ids"].([]any) {
				if !strings.Contains(sn.(string), "private-persistence") {
					t.Errorf("%s: database subnet %s is outside the persistence tier", stack, sn)
				}
			}
		}
	}
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
				out[refTo(g)] = true
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
	for _, out := range []string{online(t), offline(t)} {
		for _, stack := range stackNames(t, out) {
			b, err := os.ReadFile(stackFile(out, stack))
			if err != nil {
				t.Fatal(err)
			}
			var doc any
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			walkJSON(doc, "", func(path string, key string, v any) {
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

func TestProdIsResilientAndProtected(t *testing.T) {
	prod := readStack(t, online(t), "prod")
	for id, c := range prod.resources("aws_rds_cluster") {
		if c["deletion_protection"] != true || c["skip_final_snapshot"] != false || c["final_snapshot_identifier"] == nil {
			t.Errorf("prod cluster %s lacks deletion protection or a final snapshot", id)
		}
		if c["backup_retention_period"] != 30.0 {
			t.Errorf("prod cluster %s keeps backups %v days, want 30", id, c["backup_retention_period"])
		}
	}
	azs := map[any]bool{}
	for _, inst := range prod.resources("aws_rds_cluster_instance") {
		azs[inst["availability_zone"]] = true
	}
	if len(prod.resources("aws_rds_cluster_instance")) < 2 || len(azs) < 2 {
		t.Errorf("prod has %d DB instances in %d AZs, want 2+ across 2+ AZs", len(prod.resources("aws_rds_cluster_instance")), len(azs))
	}
	for id, g := range prod.resources("aws_elasticache_replication_group") {
		if g["multi_az_enabled"] != true || g["automatic_failover_enabled"] != true || g["num_cache_clusters"].(float64) < 2 {
			t.Errorf("prod Redis %s is not Multi-AZ with failover", id)
		}
	}
	for id, lb := range prod.resources("aws_lb") {
		if lb["enable_deletion_protection"] != true {
			t.Errorf("prod load balancer %s lacks deletion protection", id)
		}
	}
	dev := readStack(t, online(t), "dev")
	for id, c := range dev.resources("aws_rds_cluster") {
		if c["deletion_protection"] != false || c["backup_retention_period"] != 7.0 || len(dev.resources("aws_rds_cluster_instance")) != 1 {
			t.Errorf("dev cluster %s should be the cheap profile: no deletion protection, 7-day backups, one instance", id)
		}
	}
}

func TestDataStoresAreEncryptedAndRedisUsesIAMAuth(t *testing.T) {
	for _, stack := range appStacks {
		s := readStack(t, online(t), stack)
		for id, c := range s.resources("aws_rds_cluster") {
			if c["storage_encrypted"] != true || c["manage_master_user_password"] != true || refTo(c["kms_key_id"]) == "" {
				t.Errorf("%s: cluster %s is not KMS-encrypted with an RDS-managed password", stack, id)
			}
			if !strings.Contains(c["db_cluster_parameter_group_name"].(string), "aws_rds_cluster_parameter_group") {
				t.Errorf("%s: cluster %s does not use the TLS parameter group", stack, id)
			}
		}
		for _, pg := range s.resources("aws_rds_cluster_parameter_group") {
			b, _ := json.Marshal(pg["parameter"])
			if !strings.Contains(string(b), `"rds.force_ssl"`) {
				t.Errorf("%s: parameter group does not force TLS: %s", stack, b)
			}
		}
		for id, g := range s.resources("aws_elasticache_replication_group") {
			if g["at_rest_encryption_enabled"] != "true" || g["transit_encryption_enabled"] != true || refTo(g["kms_key_id"]) == "" || g["user_group_ids"] == nil {
				t.Errorf("%s: Redis %s lacks encryption or RBAC", stack, id)
			}
		}
		modes := map[string]string{}
		for _, u := range s.resources("aws_elasticache_user") {
			modes[u["user_name"].(string)] = u["authentication_mode"].(map[string]any)["type"].(string) + " " + u["access_string"].(string)
		}
		if !strings.HasPrefix(modes["default"], "no-password-required off") {
			t.Errorf("%s: the default Redis user is not switched off: %q", stack, modes["default"])
		}
		app := "acme-" + stack + "-app"
		if !strings.HasPrefix(modes[app], "iam on") {
			t.Errorf("%s: Redis user %s does not use IAM: %q", stack, app, modes[app])
		}
	}
}

func TestLoadBalancersServeCurrentTLSAndRedirectHTTP(t *testing.T) {
	for _, stack := range appStacks {
		s := readStack(t, online(t), stack)
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
				if l["ssl_policy"] != "ELBSecurityPolicy-TLS13-1-2-2021-06" || l["certificate_arn"] == nil {
					t.Errorf("%s: %s has policy %v", stack, id, l["ssl_policy"])
				}
			case "HTTP":
				b, _ := json.Marshal(l["default_action"])
				if !strings.Contains(string(b), `"protocol":"HTTPS"`) || !strings.Contains(string(b), "HTTP_301") {
					t.Errorf("%s: HTTP listener %s does not redirect to HTTPS: %s", stack, id, b)
				}
				redirects++
			}
		}
		if https != 2 || redirects != 1 {
			t.Errorf("%s: %d HTTPS and %d redirecting HTTP listeners, want 2 and 1", stack, https, redirects)
		}
	}
}

func TestECSHostsRequireIMDSv2AndEncryptedVolumes(t *testing.T) {
	for _, stack := range appStacks {
		for id, lt := range readStack(t, online(t), stack).resources("aws_launch_template") {
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
}

func TestUserDataJoinsTheClusterAndPatches(t *testing.T) {
	b, err := base64.StdEncoding.DecodeString(ecscluster.RenderUserData("acme-dev", "/acme-dev-ecs-host/cloudwatch-agent"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ECS_CLUSTER=acme-dev\n", "ECS_AWSVPC_BLOCK_IMDS=true", "dnf -y update --security", "fetch-config -m ec2 -s -c ssm:/acme-dev-ecs-host/cloudwatch-agent"} {
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
		policies[refTo(p["role"])] = p["policy"].(string)
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
	if !strings.Contains(task, `"elasticache:Connect"`) || !strings.Contains(task, ":user:acme-stage-app") || strings.Count(task, `"Action"`) != 1 {
		t.Errorf("api task policy should only grant elasticache:Connect as the app user: %s", task)
	}
	if p, ok := policies[roles["acme-stage-web-task"]]; ok {
		t.Errorf("web needs no AWS access, but its task role has: %s", p)
	}
}

// TestExampleDeclaresPublicAndInternalServices guards the example config's
// promise: at least two services per environment, one on each load balancer.
func TestExampleDeclaresPublicAndInternalServices(t *testing.T) {
	cfg := loadExample(t)
	for _, env := range appStacks {
		lbs := map[string]int{}
		for _, s := range cfg.Accounts[env].Services {
			lbs[s.LoadBalancer]++
		}
		if len(cfg.Accounts[env].Services) < 2 || lbs["public"] == 0 || lbs["internal"] == 0 {
			t.Errorf("%s declares %v services by load balancer; want at least one public and one internal", env, lbs)
		}
	}
}
