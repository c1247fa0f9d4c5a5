package peering

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/network"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/tf"
)

// synthesized is the part of a stack's JSON these tests read.
type synthesized struct {
	Resource map[string]map[string]map[string]any `json:"resource"`
	Data     map[string]map[string]map[string]any `json:"data"`
	Moved    []struct{ From, To string }          `json:"moved"`
}

// synth peers an app VPC with a management VPC in peerAZs, as the stacks
// do (the management VPC's public tier), and returns the app stack's JSON.
func synth(t *testing.T, peerAZs ...string) synthesized {
	t.Helper()
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: tf.S(t.TempDir())})
	stack := cdktf.NewTerraformStack(app, tf.S("dev"))
	tf.SetEnv(stack, awsenv.New("444444444444", "us-east-1"))
	provider.NewAwsProvider(stack, tf.S("aws"), &provider.AwsProviderConfig{Region: tf.S("us-east-1")})
	peer := provider.NewAwsProvider(stack, tf.S("aws-shared"), &provider.AwsProviderConfig{Region: tf.S("us-east-1"), Alias: tf.S("shared")})
	vpc := &network.Vpc{ID: tf.S("vpc-app"), Name: "acme-dev", CIDR: "10.1.0.0/16", AZs: []string{"us-east-1a", "us-east-1b"},
		Subnets: map[network.Tier][]network.Subnet{network.PrivateApp: {
			{AZ: "us-east-1a", Tier: network.PrivateApp, RouteTableID: tf.S("rtb-a")},
			{AZ: "us-east-1b", Tier: network.PrivateApp, RouteTableID: tf.S("rtb-b")},
		}}}
	New(stack, "peering", Props{
		Name: "acme-dev-to-shared", VPC: vpc, Peer: peer, PeerAccountID: "333333333333",
		PeerVPC:   &network.Vpc{Name: "acme-shared-services", CIDR: "10.0.0.0/16", AZs: peerAZs},
		PeerTiers: []network.Tier{network.Public}, Tiers: []network.Tier{network.PrivateApp},
	})
	var out synthesized
	if err := json.Unmarshal([]byte(*cdktf.Testing_Synth(stack, tf.B(false))), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRouteIDsSurviveANewPeerAZ: adding an AZ to the management VPC adds
// its routes and route table lookups, and keeps every other ID (a changed
// ID would replace the route).
func TestRouteIDsSurviveANewPeerAZ(t *testing.T) {
	two := synth(t, "us-east-1a", "us-east-1b")
	three := synth(t, "us-east-1a", "us-east-1b", "us-east-1c")
	for _, kind := range []struct {
		name string
		ids  func(synthesized) map[string]map[string]any
	}{
		{"aws_route", func(s synthesized) map[string]map[string]any { return s.Resource["aws_route"] }},
		{"data.aws_route_table", func(s synthesized) map[string]map[string]any { return s.Data["aws_route_table"] }},
	} {
		before, after := kind.ids(two), kind.ids(three)
		for id := range before {
			if _, ok := after[id]; !ok {
				t.Errorf("%s.%s is gone once the peer VPC has a third AZ: its ID depends on position", kind.name, id)
			}
		}
		if len(after) <= len(before) {
			t.Errorf("%s: %d with two peer AZs, %d with three; want more", kind.name, len(before), len(after))
		}
	}
}

// legacyAddresses are the addresses that earlier versions gave the routes
// back from the peer, numbered by position in the peer's route tables (tier,
// then AZ), as the committed snapshots had them before the IDs were keyed.
var legacyAddresses = []string{
	"aws_route.peering_from-peer-0_FBB29637",
	"aws_route.peering_from-peer-1_3BE10351",
	"aws_route.peering_from-peer-2_BD0EEB7B",
}

// TestMovedBlocksLeadFromEachLegacyAddressToItsRoute: every route back from
// the peer has one moved block, from the address earlier versions gave it
// to a route that exists, and that route goes through the same route table
// the legacy position named.
func TestMovedBlocksLeadFromEachLegacyAddressToItsRoute(t *testing.T) {
	peerAZs := []string{"us-east-1a", "us-east-1b", "us-east-1c"}
	s := synth(t, peerAZs...)
	routes, tables := s.Resource["aws_route"], s.Data["aws_route_table"]
	var back []string
	for _, id := range slices.Sorted(maps.Keys(routes)) {
		if strings.Contains(id, "from-peer") {
			back = append(back, id)
		}
	}
	if len(back) != len(peerAZs) || len(s.Moved) != len(back) {
		t.Fatalf("%d routes back from the peer and %d moved blocks, want %d of each", len(back), len(s.Moved), len(peerAZs))
	}
	targets := map[string]bool{}
	for i, m := range s.Moved {
		if m.From != legacyAddresses[i] {
			t.Errorf("moved block %d is from %s, want the legacy address %s", i, m.From, legacyAddresses[i])
		}
		id, ok := strings.CutPrefix(m.To, "aws_route.")
		r, exists := routes[id]
		if !ok || !exists {
			t.Errorf("moved block from %s leads to %s, which is not a route of the stack", m.From, m.To)
			continue
		}
		if _, stillThere := routes[strings.TrimPrefix(m.From, "aws_route.")]; stillThere {
			t.Errorf("%s is both moved and synthesized", m.From)
		}
		targets[m.To] = true
		// The legacy i-th route went through the peer's public route table
		// in the i-th AZ.
		want := network.SubnetName("acme-shared-services", network.Public, peerAZs[i])
		table := strings.TrimSuffix(strings.TrimPrefix(r["route_table_id"].(string), "${data.aws_route_table."), ".route_table_id}")
		if got := tables[table]["tags"].(map[string]any)["Name"]; got != want {
			t.Errorf("%s moves to %s, which goes through route table %v, want %s", m.From, m.To, got, want)
		}
	}
	if len(targets) != len(back) {
		t.Errorf("moved blocks lead to %d distinct routes, want one each for the %d routes back", len(targets), len(back))
	}
}
