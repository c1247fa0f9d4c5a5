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
	// PeerAccountID and Region place the peer VPC. Required.
	PeerAccountID, Region string
	// PeerVPCName and PeerCIDR identify the peer VPC; PeerRouteTables are the
	// Name tags of its route tables (network.SubnetName). Required.
	PeerVPCName, PeerCIDR string
	PeerRouteTables       []string
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
	if p.VPC == nil || p.Peer == nil || p.PeerVPCName == "" {
		panic("peering.New: VPC, Peer and PeerVPCName are required (" + id + ")")
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	peerVPC := dataawsvpc.NewDataAwsVpc(s, tf.S("peer-vpc"), &dataawsvpc.DataAwsVpcConfig{
		Provider:  p.Peer,
		CidrBlock: tf.S(p.PeerCIDR),
		Filter: &[]*dataawsvpc.DataAwsVpcFilter{{
			Name: tf.S("tag:Name"),
			// The second value matches no VPC. Naming this VPC's ID makes the
			// lookup wait until this VPC exists, so a fresh stack plans
			// without calling AWS, and the lookup is never re-deferred (as
			// depends_on would do on any change, forcing a new connection).
			Values: tf.Ptrs(tf.S(p.PeerVPCName), p.VPC.ID),
		}},
	})
	peerVPCID := peerVPC.Id()
	conn := vpcpeeringconnection.NewVpcPeeringConnection(s, tf.S("connection"), &vpcpeeringconnection.VpcPeeringConnectionConfig{
		VpcId:       p.VPC.ID,
		PeerVpcId:   peerVPCID,
		PeerOwnerId: tf.S(p.PeerAccountID),
		PeerRegion:  tf.S(p.Region),
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
	tiers := p.Tiers
	if len(tiers) == 0 {
		tiers = network.Tiers
	}
	for _, t := range tiers {
		for _, sn := range p.VPC.Select(t) {
			route.NewRoute(s, tf.S("to-peer-"+string(t)+"-"+sn.AZ), &route.RouteConfig{
				RouteTableId: sn.RouteTableID, DestinationCidrBlock: tf.S(p.PeerCIDR), VpcPeeringConnectionId: connID,
			})
		}
	}
	for i, name := range p.PeerRouteTables {
		rt := dataawsroutetable.NewDataAwsRouteTable(s, tf.S(fmt.Sprintf("peer-rt-%d", i)), &dataawsroutetable.DataAwsRouteTableConfig{
			Provider: p.Peer,
			VpcId:    peerVPCID,
			Tags:     tf.Name(name),
		})
		route.NewRoute(s, tf.S(fmt.Sprintf("from-peer-%d", i)), &route.RouteConfig{
			Provider:               p.Peer,
			RouteTableId:           rt.RouteTableId(),
			DestinationCidrBlock:   tf.S(p.VPC.CIDR),
			VpcPeeringConnectionId: connID,
		})
	}
	return &Peering{ConnectionID: connID, PeerVPCID: peerVPCID, Peer: p.Peer}
}

// RolesProps configures the roles in the peer account (shared-services)
// that one app account's stack assumes for its peer-side resources.
type RolesProps struct {
	// WriteName and ReadName name the two roles (ci.PeeringRole). Required.
	WriteName, ReadName string
	// AppAccountID is the requester's account. Required.
	AppAccountID string
	// Writers and Readers are the requester account's roles that may
	// assume each role (by aws:PrincipalArn, so that they need not exist
	// yet: the app stack makes its CI roles after this stack). Required.
	Writers, Readers []string
	// PeerAccountID and Region are the peer's (this stack's). Required.
	PeerAccountID, Region string
	// PeerVPCID is the peer VPC, the only one whose route tables and
	// peering connections the write role may change. Required.
	PeerVPCID *string
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
	if p.WriteName == "" || p.ReadName == "" || p.PeerVPCID == nil || len(p.Writers) == 0 || len(p.Readers) == 0 {
		panic("peering.NewRoles: WriteName, ReadName, PeerVPCID, Writers and Readers are required (" + id + ")")
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	ec2 := "arn:aws:ec2:" + p.Region + ":" + p.PeerAccountID + ":"
	vpc := ec2 + "vpc/" + *p.PeerVPCID
	ownPeering := func(st iam.Statement) iam.Statement {
		return st.When("StringEquals", "ec2:AccepterVpc", vpc).
			When("ArnLike", "ec2:RequesterVpc", "arn:aws:ec2:"+p.Region+":"+p.AppAccountID+":vpc/*")
	}
	describe := iam.Allow("Describe", DescribeActions, "*")
	write := []iam.Statement{
		describe,
		ownPeering(iam.Allow("AcceptOwnPeering", []string{"ec2:AcceptVpcPeeringConnection", "ec2:ModifyVpcPeeringConnectionOptions", "ec2:CreateTags", "ec2:DeleteTags"},
			ec2+"vpc-peering-connection/*")),
		iam.Allow("AcceptIntoPeerVPC", []string{"ec2:AcceptVpcPeeringConnection"}, vpc),
		iam.Allow("RoutesInPeerVPC", []string{"ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ReplaceRoute"}, ec2+"route-table/*").
			When("StringEquals", "ec2:Vpc", vpc),
		iam.Allow("AssociatePrivateZone", []string{"route53:AssociateVPCWithHostedZone", "route53:DisassociateVPCFromHostedZone"}, "arn:aws:route53:::hostedzone/*").
			When("ForAllValues:StringEquals", "route53:VPCs", "VPCId="+*p.PeerVPCID+",VPCRegion="+p.Region).
			When("Null", "route53:VPCs", "false"),
	}
	trust := func(roles []string) iam.Document {
		return iam.Policy(iam.Statement{Sid: "AppAccountRoles", Effect: "Allow", Action: []string{"sts:AssumeRole"}}.
			For("AWS", iam.AccountRoot(p.AppAccountID)).
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
	return &Roles{
		WriteARN: "arn:aws:iam::" + p.PeerAccountID + ":role/" + p.WriteName,
		ReadARN:  "arn:aws:iam::" + p.PeerAccountID + ":role/" + p.ReadName,
	}
}

// DescribeActions are the reads Terraform makes of the peer-side
// resources: the peer VPC and its route tables (data sources), the
// peering connection, and the zone association.
var DescribeActions = []string{
	"ec2:DescribeRouteTables", "ec2:DescribeVpcAttribute", "ec2:DescribeVpcPeeringConnections", "ec2:DescribeVpcs",
	"route53:GetChange", "route53:GetHostedZone", "route53:ListHostedZonesByVPC",
}
