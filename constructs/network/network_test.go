package network_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/constructs/network"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/tf"
)

// TestNetworkConstructOpensTrustedRangesAndPublicPorts builds the construct
// alone, with props the example config does not use.
func TestNetworkConstructOpensTrustedRangesAndPublicPorts(t *testing.T) {
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: tf.S(t.TempDir())})
	stack := cdktf.NewTerraformStack(app, tf.S("unit"))
	tf.SetEnv(stack, awsenv.New("123456789012", "eu-west-1"))
	key := kms.New(stack, "key", kms.Props{Alias: "unit", Description: "unit"})
	v := network.New(stack, "net", network.Props{
		Name: "unit", CIDR: "10.9.0.0/20", AZs: []string{"eu-west-1a", "eu-west-1b"},
		LogKey:       key,
		TrustedCIDRs: map[network.Tier][]string{network.Public: {"10.0.0.0/16"}, network.PrivateApp: {"10.0.0.0/16"}, network.PrivatePersistence: {"10.0.0.0/16"}},
		PublicPorts:  []network.Port{{Protocol: "udp", Number: 1194}},
	})
	if got := v.Select(network.PrivateApp)[0].CIDR; got != "10.9.0.0/24" {
		t.Errorf("first private-app subnet of a /20 = %s, want the default /24 at the start", got)
	}
	var s struct {
		Resource map[string]map[string]map[string]any `json:"resource"`
	}
	if err := json.Unmarshal([]byte(*cdktf.Testing_Synth(stack, tf.B(false))), &s); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Resource["aws_nat_gateway"]); n != 2 {
		t.Errorf("SingleNAT left false gives %d NAT gateways, want 2", n)
	}
	acls := s.Resource["aws_network_acl"]
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
