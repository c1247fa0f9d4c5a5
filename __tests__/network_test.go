package tests

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/constructs/network"
	"github.com/acme/landing-zone/internal/cidr"
	"github.com/acme/landing-zone/internal/tf"
)

func TestPerAZNATGivesEachAZItsOwnGateway(t *testing.T) {
	prod := readStack(t, online(t), "prod")
	nats := prod.resources("aws_nat_gateway")
	if len(nats) != 3 {
		t.Fatalf("prod has %d NAT gateways, want one per AZ (3)", len(nats))
	}
	used := map[string]bool{}
	for _, r := range prod.resources("aws_route") {
		if id, ok := r["nat_gateway_id"].(string); ok {
			used[id] = true
		}
	}
	if len(used) != 3 {
		t.Errorf("private-app routes use %d distinct NAT gateways, want 3", len(used))
	}
}

func TestSingleNATServesEveryAZ(t *testing.T) {
	dev := readStack(t, online(t), "dev")
	if n := len(dev.resources("aws_nat_gateway")); n != 1 {
		t.Fatalf("dev has %d NAT gateways, want 1", n)
	}
	routes := 0
	for _, r := range dev.resources("aws_route") {
		if _, ok := r["nat_gateway_id"]; ok {
			routes++
		}
	}
	if routes != 2 {
		t.Errorf("dev has %d NAT routes, want one per private-app route table (2)", routes)
	}
}

// TestPersistenceTierHasNoInternetRoute: data stores never reach the
// internet; their only routes outside the VPC go to peered VPCs.
func TestPersistenceTierHasNoInternetRoute(t *testing.T) {
	for _, stack := range []string{"dev", "stage", "prod", "shared-services"} {
		s := readStack(t, online(t), stack)
		checked := 0
		for name, r := range s.resources("aws_route") {
			if !strings.Contains(r["route_table_id"].(string), "persistence") {
				continue
			}
			checked++
			if r["destination_cidr_block"] == "0.0.0.0/0" || r["nat_gateway_id"] != nil || r["gateway_id"] != nil {
				t.Errorf("%s: route %s takes the persistence tier to the internet", stack, name)
			}
		}
		if stack != "shared-services" && checked == 0 {
			t.Errorf("%s: no persistence-tier routes at all; the peering should add one per table", stack)
		}
	}
}

func TestSubnetsFollowTheComputedLayout(t *testing.T) {
	cfg := loadExample(t)
	v := cfg.Accounts["stage"].VPC
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
	subnets := readStack(t, online(t), "stage").resources("aws_subnet")
	if len(subnets) != 9 {
		t.Fatalf("stage has %d subnets, want 3 tiers x 3 AZs", len(subnets))
	}
	for name, s := range subnets {
		if !want[s["cidr_block"].(string)] {
			t.Errorf("subnet %s has %s, which is not in the computed layout", name, s["cidr_block"])
		}
		if s["map_public_ip_on_launch"] != false {
			t.Errorf("subnet %s maps public IPs on launch", name)
		}
	}
}

func TestFlowLogsAreEncryptedAndTheirRoleIsScopedToTheirGroup(t *testing.T) {
	dev := readStack(t, online(t), "dev")
	var groups []map[string]any
	for _, g := range dev.resources("aws_cloudwatch_log_group") {
		if strings.HasSuffix(g["name"].(string), "-vpc-flow-logs") {
			groups = append(groups, g)
		}
	}
	if len(groups) != 1 {
		t.Fatalf("dev has %d flow log groups, want 1", len(groups))
	}
	for _, g := range groups {
		if g["name"] != "acme-dev-vpc-flow-logs" || g["retention_in_days"] != 30.0 {
			t.Errorf("flow log group = %v / %v days, want acme-dev-vpc-flow-logs / 30", g["name"], g["retention_in_days"])
		}
		if k, _ := g["kms_key_id"].(string); !strings.HasPrefix(k, "${aws_kms_key.") {
			t.Errorf("flow log group is not encrypted with the stack's KMS key: %v", g["kms_key_id"])
		}
	}
	for _, p := range dev.resources("aws_iam_role_policy") {
		if p["name"] != "write-flow-logs" {
			continue
		}
		var doc struct{ Statement []struct{ Resource []string } }
		if err := json.Unmarshal([]byte(p["policy"].(string)), &doc); err != nil {
			t.Fatal(err)
		}
		for _, st := range doc.Statement {
			for _, r := range st.Resource {
				if !strings.HasPrefix(r, "arn:aws:logs:us-east-1:444444444444:log-group:acme-dev-vpc-flow-logs") {
					t.Errorf("flow log role reaches %s, outside its log group", r)
				}
			}
		}
	}
	for _, k := range dev.resources("aws_kms_key") {
		if k["enable_key_rotation"] != true {
			t.Error("the logs key does not rotate")
		}
	}
}

func TestDefaultSecurityGroupIsStripped(t *testing.T) {
	for _, stack := range []string{"dev", "shared-services"} {
		for name, sg := range readStack(t, online(t), stack).resources("aws_default_security_group") {
			if sg["ingress"] != nil || sg["egress"] != nil {
				t.Errorf("%s: default security group %s keeps rules", stack, name)
			}
		}
	}
}

func TestGatewayEndpointsServeOnlyPrivateTiers(t *testing.T) {
	eps := readStack(t, online(t), "stage").resources("aws_vpc_endpoint")
	if len(eps) != 2 {
		t.Fatalf("want S3 and DynamoDB endpoints, got %d", len(eps))
	}
	for name, ep := range eps {
		rts := ep["route_table_ids"].([]any)
		if len(rts) != 6 {
			t.Errorf("%s is attached to %d route tables, want the 6 private ones", name, len(rts))
		}
		for _, rt := range rts {
			if strings.Contains(rt.(string), "public") {
				t.Errorf("%s is attached to public route table %s", name, rt)
			}
		}
	}
}

// TestNetworkConstructOpensTrustedRangesAndPublicPorts builds the construct
// alone, with props the example config does not use.
func TestNetworkConstructOpensTrustedRangesAndPublicPorts(t *testing.T) {
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: tf.S(t.TempDir())})
	stack := cdktf.NewTerraformStack(app, tf.S("unit"))
	key := kms.New(stack, "key", kms.Props{Alias: "unit", Description: "unit", AccountID: "123456789012", Region: "eu-west-1"})
	v := network.New(stack, "net", network.Props{
		Name: "unit", CIDR: "10.9.0.0/20", AZs: []string{"eu-west-1a", "eu-west-1b"},
		LogKey: key, AccountID: "123456789012", Region: "eu-west-1",
		TrustedCIDRs: map[network.Tier][]string{network.Public: {"10.0.0.0/16"}, network.PrivateApp: {"10.0.0.0/16"}, network.PrivatePersistence: {"10.0.0.0/16"}},
		PublicPorts:  []network.Port{{Protocol: "udp", Number: 1194}},
	})
	if got := v.Select(network.PrivateApp)[0].CIDR; got != "10.9.0.0/24" {
		t.Errorf("first private-app subnet of a /20 = %s, want the default /24 at the start", got)
	}
	var s stackJSON
	if err := json.Unmarshal([]byte(*cdktf.Testing_Synth(stack, tf.B(false))), &s); err != nil {
		t.Fatal(err)
	}
	if n := len(s.resources("aws_nat_gateway")); n != 2 {
		t.Errorf("SingleNAT left false gives %d NAT gateways, want 2", n)
	}
	acls := s.resources("aws_network_acl")
	if len(acls) != 3 {
		t.Fatalf("want one network ACL per tier, got %d", len(acls))
	}
	for name, acl := range acls {
		b, _ := json.Marshal(acl["ingress"])
		if !strings.Contains(string(b), `"cidr_block":"10.0.0.0/16"`) {
			t.Errorf("%s does not admit the trusted range", name)
		}
		vpn := strings.Contains(string(b), `"from_port":1194`)
		if vpn != strings.Contains(name, "public") {
			t.Errorf("%s: UDP 1194 open = %v; want it open in the public tier only", name, vpn)
		}
	}
}

func TestSelectingAMissingTierNamesTheTiers(t *testing.T) {
	defer func() {
		msg, _ := recover().(string)
		if !strings.Contains(msg, "private-app") {
			t.Errorf("panic %q does not list the tiers", msg)
		}
	}()
	(&network.Vpc{Name: "x", Subnets: map[network.Tier][]network.Subnet{}}).Select("dmz")
}
