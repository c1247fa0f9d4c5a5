package tests

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/acme/landing-zone/internal/cidr"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/tfjson"
)

// TestNATGatewaysFollowEachVPCsMode: per_az gives each AZ its own NAT
// gateway, used by that AZ's private-app routes; single gives one, used by
// every private-app route table.
func TestNATGatewaysFollowEachVPCsMode(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		modes := map[string]bool{}
		for _, name := range vpcAccounts(f.Cfg) {
			v := f.Cfg.Accounts[name].VPC
			modes[v.NAT] = true
			s := readStack(t, synthOf(t, f), name)
			want := 1
			if v.NAT == config.NATPerAZ {
				want = len(v.AZs)
			}
			if n := len(s.resources("aws_nat_gateway")); n != want {
				t.Errorf("%s (nat %s, %d AZs) has %d NAT gateways, want %d", name, v.NAT, len(v.AZs), n, want)
			}
			used, routes := map[string]bool{}, 0
			for _, r := range s.resources("aws_route") {
				if id, ok := r["nat_gateway_id"].(string); ok {
					used[id] = true
					routes++
					if r["destination_cidr_block"] != "0.0.0.0/0" || !strings.Contains(r["route_table_id"].(string), "private-app") {
						t.Errorf("%s: NAT route %v -> %v is not the private-app default route", name, r["route_table_id"], r["destination_cidr_block"])
					}
				}
			}
			if len(used) != want || routes != len(v.AZs) {
				t.Errorf("%s: %d NAT routes use %d gateways, want one route per private-app route table (%d) over %d", name, routes, len(used), len(v.AZs), want)
			}
		}
		t.Logf("NAT modes checked: %v", modes)
	})
}

// TestPersistenceTierHasNoInternetRoute: data stores never reach the
// internet; their only routes outside the VPC go to the peered management
// VPC, and only where operators may reach them over the VPN.
func TestPersistenceTierHasNoInternetRoute(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		_, shared := f.Cfg.AccountOfKind(config.KindShared)
		for _, name := range vpcAccounts(f.Cfg) {
			a := f.Cfg.Accounts[name]
			checked := 0
			for id, r := range readStack(t, synthOf(t, f), name).resources("aws_route") {
				if !strings.Contains(r["route_table_id"].(string), "persistence") {
					continue
				}
				checked++
				if r["destination_cidr_block"] != shared.VPC.CIDR || r["vpc_peering_connection_id"] == nil || r["nat_gateway_id"] != nil || r["gateway_id"] != nil {
					t.Errorf("%s: route %s takes the persistence tier to %v, not only to the management VPC over the peering", name, id, r["destination_cidr_block"])
				}
			}
			if a.Kind == config.KindApp && a.DataOverVPN() && checked != len(a.VPC.AZs) {
				t.Errorf("%s: %d persistence-tier routes; with vpn_data_access each of the %d tables should route to the management VPC", name, checked, len(a.VPC.AZs))
			}
		}
	})
}

// TestSubnetsFollowTheComputedLayout: every VPC has one subnet per AZ and
// tier, each exactly where internal/cidr lays it out, none mapping public IPs.
func TestSubnetsFollowTheComputedLayout(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		for _, name := range vpcAccounts(f.Cfg) {
			v := f.Cfg.Accounts[name].VPC
			layout, err := cidr.Layout(netip.MustParsePrefix(v.CIDR), len(v.AZs), v.Subnets.Lengths())
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{}
			for _, tier := range layout {
				for _, p := range tier {
					want[p.String()] = true
				}
			}
			subnets := readStack(t, synthOf(t, f), name).resources("aws_subnet")
			if len(subnets) != 3*len(v.AZs) || len(want) != len(subnets) {
				t.Errorf("%s has %d subnets, want 3 tiers x %d AZs", name, len(subnets), len(v.AZs))
			}
			for id, s := range subnets {
				if !want[s["cidr_block"].(string)] {
					t.Errorf("%s: subnet %s has %s, which is not in the computed layout", name, id, s["cidr_block"])
				}
				if s["map_public_ip_on_launch"] != false {
					t.Errorf("%s: subnet %s maps public IPs on launch", name, id)
				}
			}
		}
	})
}

// TestFlowLogsAreEncryptedAndTheirRoleIsScopedToTheirGroup: each VPC logs
// its flows to one group, kept as configured and encrypted with the stack's
// key; the flow log role may write to that group only.
func TestFlowLogsAreEncryptedAndTheirRoleIsScopedToTheirGroup(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		for _, name := range vpcAccounts(f.Cfg) {
			a := f.Cfg.Accounts[name]
			s := readStack(t, synthOf(t, f), name)
			want := envName(f.Cfg, name) + "-vpc-flow-logs"
			var groups []map[string]any
			for _, g := range s.resources("aws_cloudwatch_log_group") {
				if strings.HasSuffix(g["name"].(string), "-vpc-flow-logs") {
					groups = append(groups, g)
				}
			}
			if len(groups) != 1 {
				t.Fatalf("%s has %d flow log groups, want 1", name, len(groups))
			}
			g := groups[0]
			if g["name"] != want || g["retention_in_days"] != float64(a.VPC.FlowLogRetentionDays) {
				t.Errorf("%s: flow log group = %v / %v days, want %s / %d", name, g["name"], g["retention_in_days"], want, a.VPC.FlowLogRetentionDays)
			}
			if k, _ := g["kms_key_id"].(string); !strings.HasPrefix(k, "${aws_kms_key.") {
				t.Errorf("%s: flow log group is not encrypted with the stack's KMS key: %v", name, g["kms_key_id"])
			}
			arn := "arn:aws:logs:" + f.Cfg.Region + ":" + a.ID + ":log-group:" + want
			policies := 0
			for _, p := range s.resources("aws_iam_role_policy") {
				if p["name"] != "write-flow-logs" {
					continue
				}
				policies++
				var doc struct{ Statement []struct{ Resource []string } }
				if err := json.Unmarshal([]byte(p["policy"].(string)), &doc); err != nil {
					t.Fatal(err)
				}
				for _, st := range doc.Statement {
					for _, r := range st.Resource {
						if r != arn && !strings.HasPrefix(r, arn+":") {
							t.Errorf("%s: flow log role reaches %s, outside %s", name, r, arn)
						}
					}
				}
			}
			if policies != 1 {
				t.Errorf("%s: %d write-flow-logs policies, want 1", name, policies)
			}
			for id, k := range s.resources("aws_kms_key") {
				if k["enable_key_rotation"] != true {
					t.Errorf("%s: key %s does not rotate", name, id)
				}
			}
		}
	})
}

func TestDefaultSecurityGroupIsStripped(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		for _, name := range vpcAccounts(f.Cfg) {
			groups := map[string]map[string]any{}
			for id, sg := range readStack(t, synthOf(t, f), name).resources("aws_default_security_group") {
				// The default VPCs' groups: TestRegionalBaselineInEveryWatchedRegion.
				if !strings.HasPrefix(tfjson.Ref(sg["vpc_id"]), "aws_default_vpc.") {
					groups[id] = sg
				}
			}
			if len(groups) != 1 {
				t.Errorf("%s: %d default security groups managed, want 1", name, len(groups))
			}
			for id, sg := range groups {
				if sg["ingress"] != nil || sg["egress"] != nil {
					t.Errorf("%s: default security group %s keeps rules", name, id)
				}
			}
		}
	})
}

// TestGatewayEndpointsServeOnlyPrivateTiers: every VPC has S3 and DynamoDB
// gateway endpoints on each of its private route tables (two tiers, one
// table per AZ), and none on a public one.
func TestGatewayEndpointsServeOnlyPrivateTiers(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		for _, name := range vpcAccounts(f.Cfg) {
			v := f.Cfg.Accounts[name].VPC
			eps := readStack(t, synthOf(t, f), name).resources("aws_vpc_endpoint")
			if len(eps) != 2 {
				t.Fatalf("%s: want S3 and DynamoDB endpoints, got %d", name, len(eps))
			}
			for id, ep := range eps {
				rts := ep["route_table_ids"].([]any)
				if len(rts) != 2*len(v.AZs) {
					t.Errorf("%s: %s is attached to %d route tables, want the %d private ones", name, id, len(rts), 2*len(v.AZs))
				}
				for _, rt := range rts {
					if strings.Contains(rt.(string), "public") {
						t.Errorf("%s: %s is attached to public route table %s", name, id, rt)
					}
				}
			}
		}
	})
}
