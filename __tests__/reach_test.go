package tests

import (
	"strings"
	"testing"

	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/reach"
)

// TestTrafficFlowsAsIntendedOnEveryConfig runs the reachability proof on
// every fixture and on config.yaml: every flow the config implies must be
// proven (reachable or not, as intended), and the proof must have covered
// each of them, derived here from the config, not from a list of names.
func TestTrafficFlowsAsIntendedOnEveryConfig(t *testing.T) {
	for _, f := range propertyConfigs(t) {
		t.Run(f.Name, func(t *testing.T) {
			s, err := reach.Read(synthOf(t, f))
			if err != nil {
				t.Fatal(err)
			}
			flows := reach.Prove(s, f.Cfg)
			for _, fl := range reach.FailuresOf(flows) {
				t.Errorf("%s: want reachable=%v: %s", fl.Name(), fl.Want, fl.Detail)
			}
			for _, want := range expectedFlows(f.Cfg) {
				if !hasFlow(flows, want) {
					t.Errorf("the proof never evaluated %s → %s (want reachable=%v)", want.From, want.To, want.Want)
				}
			}
		})
	}
}

// expectedFlows are the flows the config implies, by their ends.
func expectedFlows(cfg *config.Config) []reach.Flow {
	var out []reach.Flow
	add := func(from, to string, want bool) { out = append(out, reach.Flow{From: from, To: to, Want: want}) }
	_, shared := cfg.AccountOfKind(config.KindShared)
	vpnClients := "VPN clients (" + shared.VPN.ClientCIDR + ")"
	var apps []string
	for _, name := range cfg.AccountNames() {
		a := cfg.Accounts[name]
		if a.Kind != config.KindApp {
			continue
		}
		apps = append(apps, name)
		add("the internet", name+" public ALB", true)
		add("the internet", name+" public ALB", false)
		add("the internet", name+" private nodes (internal ALB, hosts, tasks, Aurora, Redis)", false)
		for _, svc := range a.ServiceNames() {
			s := a.Services[svc]
			tasks := name + " " + svc + " tasks"
			add(name+" "+s.LoadBalancer+" ALB", tasks, true)
			// A store the environment does not have has no flows.
			if a.DatabaseEnabled() {
				add(tasks, name+" Aurora", s.UseDatabase)
			}
			if a.CacheEnabled() {
				add(tasks, name+" Redis", s.UseCache)
			}
			add(tasks, reach.AWSAPI.Label, true)
			add(tasks, reach.S3.Label, true)
		}
		add(name+" ECS hosts", reach.AWSAPI.Label, true)
		add(vpnClients, name+" internal ALB", true)
		if a.DatabaseEnabled() {
			add(vpnClients, name+" Aurora", a.DataOverVPN())
		}
		if a.CacheEnabled() {
			add(vpnClients, name+" Redis", a.DataOverVPN())
		}
		add(name+" persistence tier", "the internet, either way", false)
		add("the internet", "network ACLs of "+name, false)
	}
	for _, a := range apps {
		for _, b := range apps {
			if a != b {
				add("any host in "+a, "any host in "+b, false)
			}
		}
	}
	return out
}

func hasFlow(flows []reach.Flow, want reach.Flow) bool {
	for _, f := range flows {
		if f.From == want.From && f.To == want.To && f.Want == want.Want {
			return true
		}
	}
	return false
}

func (d stackDocs) prove(t *testing.T, cfg *config.Config) []reach.Flow {
	t.Helper()
	s, err := reach.Parse(d.raw(t))
	if err != nil {
		t.Fatal(err)
	}
	return reach.Prove(s, cfg)
}

// aclRules edits the inline rules of a tier's network ACL.
func (d stackDocs) aclRules(t *testing.T, stack, tier, dir string, keep func(map[string]any) bool) {
	t.Helper()
	names := d.where(stack, "aws_network_acl", `"Name":"`)
	for _, n := range names {
		acl := d.of(stack, "aws_network_acl")[n].(map[string]any)
		if !strings.HasSuffix(acl["tags"].(map[string]any)["Name"].(string), "-"+tier) {
			continue
		}
		var kept []any
		for _, r := range acl[dir].([]any) {
			if keep(r.(map[string]any)) {
				kept = append(kept, r)
			}
		}
		acl[dir] = kept
		return
	}
	t.Fatalf("%s: no %s network ACL", stack, tier)
}

// TestReachabilityProofIsNoRubberStamp breaks one component at a time in
// the example's synthesized stacks and requires the proof to fail the
// affected flow at the right hop, naming the resource.
func TestReachabilityProofIsNoRubberStamp(t *testing.T) {
	f := fixtureConfig(t, exampleFixture)
	out := synthOf(t, f)
	cases := []struct {
		name      string
		breakIt   func(t *testing.T, d stackDocs)
		from, to  string
		hop       string // text the failing flow's detail must contain
		wantReach bool
	}{
		{"a missing egress rule", func(t *testing.T, d stackDocs) {
			d.remove(t, "dev", "aws_vpc_security_group_egress_rule", `"description":"Database clients: api"`)
		}, "dev api tasks", "dev Aurora", "source security group egress", true},
		{"a missing ingress rule", func(t *testing.T, d stackDocs) {
			d.remove(t, "dev", "aws_vpc_security_group_ingress_rule", `"description":"Redis clients: api"`)
		}, "dev api tasks", "dev Redis", "destination security group ingress", true},
		{"a network ACL without the return range", func(t *testing.T, d stackDocs) {
			d.aclRules(t, "dev", "private-app", "ingress", func(r map[string]any) bool { return r["from_port"] != 1024.0 || r["protocol"] != "tcp" })
		}, "dev api tasks", reach.AWSAPI.Label, "network ACL ingress (reply)", true},
		{"a network ACL whose deny comes first", func(t *testing.T, d stackDocs) {
			d.aclRules(t, "dev", "private-persistence", "ingress", func(r map[string]any) bool {
				r["action"] = "deny"
				return true
			})
		}, "dev api tasks", "dev Aurora", "network ACL ingress", true},
		{"a one-sided peering route (app side missing)", func(t *testing.T, d stackDocs) {
			d.remove(t, "dev", "aws_route", `"route_table_id":"${aws_route_table.network_private-app-`, "vpc_peering_connection_id")
		}, "VPN clients (172.16.0.0/20)", "dev internal ALB", "return route", true},
		{"a one-sided peering route (management side missing)", func(t *testing.T, d stackDocs) {
			d.remove(t, "dev", "aws_route", `"provider":"aws.shared"`)
		}, "VPN clients (172.16.0.0/20)", "dev internal ALB", "route", true},
		{"a missing subnet association", func(t *testing.T, d stackDocs) {
			d.remove(t, "dev", "aws_route_table_association", "network_private-app-a-rt")
		}, "dev api tasks", reach.AWSAPI.Label, "the main route table", true},
		{"a public subnet without its internet route", func(t *testing.T, d stackDocs) {
			d.remove(t, "dev", "aws_route", `"route_table_id":"${aws_route_table.network_public-a-rt`, "gateway_id")
		}, "the internet", "dev public ALB", "return route", true},
		{"a listener rule that forwards elsewhere", func(t *testing.T, d stackDocs) {
			d.remove(t, "dev", "aws_lb_listener_rule", "api.internal.")
		}, "dev internal ALB", "dev api tasks", "no HTTPS listener rule", true},
		{"an HTTPS port opened on the VPN server", func(t *testing.T, d stackDocs) {
			rules := d.of("shared-services", "aws_vpc_security_group_ingress_rule")
			for name, r := range rules {
				if strings.Contains(name, "vpn_sg-in") {
					ssh := map[string]any{}
					for k, v := range r.(map[string]any) {
						ssh[k] = v
					}
					ssh["ip_protocol"], ssh["from_port"], ssh["to_port"], ssh["cidr_ipv4"] = "tcp", 443.0, 443.0, "0.0.0.0/0"
					rules["broken-https"] = ssh
					return
				}
			}
			t.Fatal("no VPN ingress rule")
		}, "the internet", "VPN server", "admitted by", false},
		{"network ACLs without the admin-port denies", func(t *testing.T, d stackDocs) {
			d.aclRules(t, "dev", "public", "ingress", func(r map[string]any) bool { return r["action"] != "deny" })
		}, "the internet", "network ACLs of dev", "allows tcp 3389", false},
		{"a data store opened to a service that does not use it", func(t *testing.T, d stackDocs) {
			rules := d.of("dev", "aws_vpc_security_group_egress_rule")
			rules["broken-web-any"] = map[string]any{"security_group_id": "${aws_security_group." + d.where("dev", "aws_security_group", `"name":"acme-dev-web"`)[0] + ".id}",
				"ip_protocol": "-1", "cidr_ipv4": "0.0.0.0/0"}
			in := d.of("dev", "aws_vpc_security_group_ingress_rule")
			in["broken-db-vpc"] = map[string]any{"security_group_id": "${aws_security_group." + d.where("dev", "aws_security_group", `"name":"acme-dev-db"`)[0] + ".id}",
				"ip_protocol": "tcp", "from_port": 5432.0, "to_port": 5432.0, "cidr_ipv4": "10.10.0.0/16"}
		}, "dev web tasks", "dev Aurora", "admitted by", false},
	}
	clean := readDocs(t, out).prove(t, f.Cfg)
	if fails := reach.FailuresOf(clean); len(fails) > 0 {
		t.Fatalf("the unbroken example must pass first: %v", fails)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := readDocs(t, out)
			c.breakIt(t, d)
			var failed []reach.Flow
			for _, fl := range reach.FailuresOf(d.prove(t, f.Cfg)) {
				failed = append(failed, fl)
				if fl.From == c.from && fl.To == c.to && fl.Want == c.wantReach {
					if !strings.Contains(fl.Detail, c.hop) {
						t.Errorf("%s fails, but not at %q: %s", fl.Name(), c.hop, fl.Detail)
					}
					if !strings.Contains(fl.Detail, "dev: ") && !strings.Contains(fl.Detail, "shared-services: ") {
						t.Errorf("%s: the detail names no resource: %s", fl.Name(), fl.Detail)
					}
					t.Logf("fails as it must: %s: %s", fl.Name(), fl.Detail)
					return
				}
			}
			t.Errorf("breaking %s did not fail %s → %s; failures: %v", c.name, c.from, c.to, failed)
		})
	}
}
