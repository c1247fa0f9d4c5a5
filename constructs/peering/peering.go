// Package peering connects a VPC to a VPC in another account: the
// requester side in this stack's account, the accepter side through a
// second (aliased) provider for the peer account, routes both ways in every
// route table, and DNS resolution across the connection.
//
// It finds the peer VPC and its route tables by their Name tags, which
// config determines, so it never reads another stack's state. It owns the
// connection, the accepter, the options and all routes. Entry point: New.
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
