// Package peering connects a VPC to a VPC in another account: the
// requester side in this stack's account, the accepter side through a
// second (aliased) provider for the peer account, routes both ways in every
// route table, and DNS resolution across the connection; and, in the peer
// account, the narrow roles that second provider assumes (NewRoles).
//
// It finds the peer VPC and its route tables by their Name tags, which
// config determines, so it never reads another stack's state. It owns the
// connection, the accepter, the options and all routes. Entry points: New,
// NewRoles.
package peering

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawsroutetable"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawsvpc"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcpeeringconnection"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcpeeringconnectionaccepter"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcpeeringconnectionoptions"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/network"
	"github.com/acme/landing-zone/constructs/role"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// Props configures a peering.
type Props struct {
	// Name tags the connection. Required.
	Name string
	// VPC is this stack's VPC, the requester. Required.
	VPC *network.Vpc
	// Peer is the aliased provider for the peer account. Required.
	Peer provider.AwsProvider
	// PeerAccountID owns the peer VPC, in this stack's region. Required.
	PeerAccountID string
	// PeerVPC is the peer VPC, made by another stack: only its name, range
	// and AZs are read (never its tokens, which would tie the two stacks'
	// states); it and its route tables are found by their Name tags.
	// Required.
	PeerVPC *network.Vpc
	// PeerTiers are the peer VPC's tiers whose route tables get a route
	// back. Default: every tier.
	PeerTiers []network.Tier
	// Tiers are this VPC's tiers whose route tables get a route to the
	// peer. Default: every tier.
	Tiers []network.Tier
}

// Peering is the created connection.
type Peering struct {
	ConnectionID *string
	// PeerVPCID is the peer VPC's ID, looked up by its Name tag.
	PeerVPCID *string
	// Peer is the provider of the peer account.
	Peer provider.AwsProvider
}

// New creates both sides of the peering.
func New(scope constructs.Construct, id string, p Props) *Peering {
	if p.VPC == nil || p.Peer == nil || p.PeerVPC == nil || p.PeerAccountID == "" {
		panic("peering.New: VPC, Peer, PeerVPC and PeerAccountID are required (" + id + ")")
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	peer := p.PeerVPC
	peerVPC := dataawsvpc.NewDataAwsVpc(s, tf.S("peer-vpc"), &dataawsvpc.DataAwsVpcConfig{
		Provider:  p.Peer,
		CidrBlock: tf.S(peer.CIDR),
		Filter: &[]*dataawsvpc.DataAwsVpcFilter{{
			Name: tf.S("tag:Name"),
			// The second value matches no VPC. Naming this VPC's ID makes the
			// lookup wait until this VPC exists, so a fresh stack plans
			// without calling AWS, and the lookup is never re-deferred (as
			// depends_on would do on any change, forcing a new connection).
			Values: tf.Ptrs(tf.S(peer.Name), p.VPC.ID),
		}},
	})
	peerVPCID := peerVPC.Id()
	conn := vpcpeeringconnection.NewVpcPeeringConnection(s, tf.S("connection"), &vpcpeeringconnection.VpcPeeringConnectionConfig{
		VpcId:       p.VPC.ID,
		PeerVpcId:   peerVPCID,
		PeerOwnerId: tf.S(p.PeerAccountID),
		PeerRegion:  tf.S(tf.EnvOf(s).Region),
		Tags:        tf.Name(p.Name),
	})
	accepter := vpcpeeringconnectionaccepter.NewVpcPeeringConnectionAccepterA(s, tf.S("accepter"), &vpcpeeringconnectionaccepter.VpcPeeringConnectionAccepterAConfig{
		Provider:               p.Peer,
		VpcPeeringConnectionId: conn.Id(),
		AutoAccept:             tf.B(true),
		Tags:                   tf.Name(p.Name),
	})
	// DNS options can only be set on an active connection, and each side
	// only by its own account.
	connID := accepter.Id()
	vpcpeeringconnectionoptions.NewVpcPeeringConnectionOptions(s, tf.S("requester-dns"), &vpcpeeringconnectionoptions.VpcPeeringConnectionOptionsConfig{
		VpcPeeringConnectionId: connID,
		Requester:              &vpcpeeringconnectionoptions.VpcPeeringConnectionOptionsRequester{AllowRemoteVpcDnsResolution: tf.B(true)},
	})
	vpcpeeringconnectionoptions.NewVpcPeeringConnectionOptions(s, tf.S("accepter-dns"), &vpcpeeringconnectionoptions.VpcPeeringConnectionOptionsConfig{
		Provider:               p.Peer,
		VpcPeeringConnectionId: connID,
		Accepter:               &vpcpeeringconnectionoptions.VpcPeeringConnectionOptionsAccepter{AllowRemoteVpcDnsResolution: tf.B(true)},
	})
	for _, t := range orEvery(p.Tiers) {
		for _, sn := range p.VPC.Select(t) {
			route.NewRoute(s, tf.S("to-peer-"+string(t)+"-"+sn.AZ), &route.RouteConfig{
				RouteTableId: sn.RouteTableID, DestinationCidrBlock: tf.S(peer.CIDR), VpcPeeringConnectionId: connID,
			})
		}
	}
	for i, rt := range peerRouteTables(peer, p.PeerTiers) {
		table := dataawsroutetable.NewDataAwsRouteTable(s, tf.S("peer-rt-"+rt.key), &dataawsroutetable.DataAwsRouteTableConfig{
			Provider: p.Peer,
			VpcId:    peerVPCID,
			Tags:     tf.Name(network.SubnetName(peer.Name, rt.tier, rt.az)),
		})
		back := &route.RouteConfig{
			Provider:               p.Peer,
			RouteTableId:           table.RouteTableId(),
			DestinationCidrBlock:   tf.S(p.VPC.CIDR),
			VpcPeeringConnectionId: connID,
		}
		r := route.NewRoute(s, tf.S("from-peer-"+rt.key), back)
		movedFrom(s, r, legacyRouteID(i), back)
	}
	return &Peering{ConnectionID: connID, PeerVPCID: peerVPCID, Peer: p.Peer}
}

func orEvery(tiers []network.Tier) []network.Tier {
	if len(tiers) == 0 {
		return network.Tiers
	}
	return tiers
}

// peerRouteTable is one route table of the peer VPC: a tier's, in an AZ.
type peerRouteTable struct {
	tier network.Tier
	az   string
	// key names its construct IDs, "<tier>-<AZ>" like the routes to the
	// peer: adding an AZ or a tier adds IDs and changes none.
	key string
}

// peerRouteTables lists the peer's route tables by tier, then AZ: the order
// in which earlier versions numbered them (legacyRouteID).
func peerRouteTables(peer *network.Vpc, tiers []network.Tier) []peerRouteTable {
	var out []peerRouteTable
	for _, t := range orEvery(tiers) {
		for _, az := range peer.AZs {
			out = append(out, peerRouteTable{tier: t, az: az, key: string(t) + "-" + az})
		}
	}
	return out
}

// legacyRouteID is the ID earlier versions gave the i-th route back from the
// peer, numbered by position: adding an AZ to the peer VPC renumbered, and
// so replaced, routes.
func legacyRouteID(i int) string { return fmt.Sprintf("from-peer-%d", i) }

// movedFrom writes a Terraform moved block from the route's legacy address
// to r, so that a state made by an earlier version keeps its routes. The
// legacy construct exists only to name that address: a moved resource is
// not synthesized, only its moved block. Terraform ignores a moved block
// whose old address is not in the state. The moved blocks can go once
// every environment has applied them.
func movedFrom(s constructs.Construct, r route.Route, legacyID string, config *route.RouteConfig) {
	legacy := route.NewRoute(s, tf.S(legacyID), config)
	legacy.MoveToId(tf.S("aws_route." + *cdktf.TerraformStack_Of(s).GetLogicalId(r)))
}

// RolesProps configures the roles in the peer account (shared-services)
// that one app account's stack assumes for its peer-side resources.
type RolesProps struct {
	// WriteName and ReadName name the two roles (ci.PeeringRole). Required.
	WriteName, ReadName string
	// AppAccountID is the requester's account, in this stack's region.
	// Required.
	AppAccountID string
	// Writers and Readers are the requester account's roles that may
	// assume each role (by aws:PrincipalArn, so that they need not exist
	// yet: the app stack makes its CI roles after this stack). Required.
	Writers, Readers []string
	// PeerVPC is this stack's VPC, the only one whose route tables and
	// peering connections the write role may change. Required.
	PeerVPC *network.Vpc
}

// Roles are the two roles' ARNs.
type Roles struct{ WriteARN, ReadARN string }

// NewRoles makes, in the peer account, the write role (accept the
// requester's peering connection into the peer VPC and set its options,
// add and remove routes in the peer VPC's route tables, associate the
// requester's private zone with the peer VPC; describe them) and the read
// role (describe them only), each trusting only the listed roles of the
// requester account. Nothing else in the peer account is theirs: not its
// images, its VPN, its IAM, its other VPCs.
func NewRoles(scope constructs.Construct, id string, p RolesProps) *Roles {
	if p.WriteName == "" || p.ReadName == "" || p.PeerVPC == nil || p.AppAccountID == "" || len(p.Writers) == 0 || len(p.Readers) == 0 {
		panic("peering.NewRoles: WriteName, ReadName, PeerVPC, AppAccountID, Writers and Readers are required (" + id + ")")
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	env := tf.EnvOf(s)
	ec2 := func(resource string) string { return env.ARN("ec2", resource) }
	vpc := ec2("vpc/" + *p.PeerVPC.ID)
	ownPeering := func(st iam.Statement) iam.Statement {
		return st.When("StringEquals", "ec2:AccepterVpc", vpc).
			When("ArnLike", "ec2:RequesterVpc", env.Partition.ARN("ec2", env.Region, p.AppAccountID, "vpc/*"))
	}
	describe := iam.Allow("Describe", DescribeActions, "*")
	write := []iam.Statement{
		describe,
		ownPeering(iam.Allow("AcceptOwnPeering", []string{"ec2:AcceptVpcPeeringConnection", "ec2:ModifyVpcPeeringConnectionOptions", "ec2:CreateTags", "ec2:DeleteTags"},
			ec2("vpc-peering-connection/*"))),
		iam.Allow("AcceptIntoPeerVPC", []string{"ec2:AcceptVpcPeeringConnection"}, vpc),
		iam.Allow("RoutesInPeerVPC", []string{"ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ReplaceRoute"}, ec2("route-table/*")).
			When("StringEquals", "ec2:Vpc", vpc),
		iam.Allow("AssociatePrivateZone", []string{"route53:AssociateVPCWithHostedZone", "route53:DisassociateVPCFromHostedZone"}, env.Partition.ARN("route53", "", "", "hostedzone/*")).
			When("ForAllValues:StringEquals", "route53:VPCs", "VPCId="+*p.PeerVPC.ID+",VPCRegion="+env.Region).
			When("Null", "route53:VPCs", "false"),
	}
	trust := func(roles []string) iam.Document {
		return iam.Policy(iam.Statement{Sid: "AppAccountRoles", Effect: "Allow", Action: []string{"sts:AssumeRole"}}.
			For("AWS", iam.AccountRoot(env.Partition, p.AppAccountID)).
			When("ArnEquals", "aws:PrincipalArn", roles...))
	}
	role.New(s, "write", role.Props{
		Name: p.WriteName, Description: "Peering, routes and zone association of account " + p.AppAccountID + " in the peer VPC",
		Trust: trust(p.Writers), MaxSessionSeconds: 3600, Statements: write,
	})
	role.New(s, "read", role.Props{
		Name: p.ReadName, Description: "Plans of account " + p.AppAccountID + ": describe its peering, routes and zone association",
		Trust: trust(p.Readers), MaxSessionSeconds: 3600, Statements: []iam.Statement{describe},
	})
	return &Roles{WriteARN: env.Role(p.WriteName), ReadARN: env.Role(p.ReadName)}
}

// DescribeActions are the reads Terraform makes of the peer-side
// resources: the peer VPC and its route tables (data sources), the
// peering connection, and the zone association.
var DescribeActions = []string{
	"ec2:DescribeRouteTables", "ec2:DescribeVpcAttribute", "ec2:DescribeVpcPeeringConnections", "ec2:DescribeVpcs",
	"route53:GetChange", "route53:GetHostedZone", "route53:ListHostedZonesByVPC",
}
