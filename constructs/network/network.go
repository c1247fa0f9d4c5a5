// Package network makes a VPC laid out in three subnet tiers across the
// configured AZs: public, private-app and private-persistence.
//
// It owns the VPC, subnets, internet and NAT gateways, route tables and
// routes, network ACLs, flow logs (with their log group and IAM role), the
// S3 and DynamoDB gateway endpoints and the default security group (stripped
// of all rules). It does not own peering or any security group other than
// the default: those belong to the layers that need them, which take the
// typed handles exposed here. Entry point: New.
package network

import (
	"fmt"
	"net/netip"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/defaultsecuritygroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpc"

	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/constructs/loggroup"
	"github.com/acme/landing-zone/internal/cidr"
	"github.com/acme/landing-zone/internal/tf"
)

// Tier names a subnet tier. Consumers choose subnets by tier, never by ID.
type Tier string

// The tiers, in layout order.
const (
	Public             Tier = "public"
	PrivateApp         Tier = "private-app"
	PrivatePersistence Tier = "private-persistence"
)

// Tiers lists every tier in layout order.
var Tiers = []Tier{Public, PrivateApp, PrivatePersistence}

// DefaultFlowLogRetentionDays keeps flow logs a year when props leave it out.
const DefaultFlowLogRetentionDays = 365

// Props configures a VPC.
type Props struct {
	// Name names the VPC and prefixes its resources' Name tags; flow logs
	// go to the log group "<Name>-vpc-flow-logs". Required.
	Name string
	// CIDR is the VPC's IPv4 range. Required.
	CIDR string
	// AZs are the availability zones; each tier gets one subnet per AZ.
	// Required, at least two.
	AZs []string
	// SingleNAT makes one NAT gateway in the first AZ for all private
	// subnets. Cheaper (one gateway's hourly and data charges), but an outage
	// of that AZ cuts internet egress for every AZ, and cross-AZ traffic is
	// billed. Default: false, one NAT gateway per AZ.
	SingleNAT bool
	// PrefixLengths sizes each tier's subnets. Default: VPC prefix + 8 for
	// public and private-persistence, + 4 for private-app.
	PrefixLengths map[Tier]int
	// FlowLogRetentionDays keeps flow logs. Default: 365.
	FlowLogRetentionDays int
	// LogKey encrypts the flow log group. Required.
	LogKey *kms.Key
	// TrustedCIDRs are ranges outside the VPC (peered VPCs) that a tier's
	// network ACL lets in and out, by tier. Default: none, in every tier.
	TrustedCIDRs map[Tier][]string
	// PublicPorts are opened to the internet in the public tier's network
	// ACL, on top of TCP 80 and 443. Default: none.
	PublicPorts []Port
}

// Port is a protocol ("tcp" or "udp") and port number.
type Port struct {
	Protocol string
	Number   int
}

// Subnet is one subnet with its layout known at synth time.
type Subnet struct {
	ID           *string
	CIDR         string
	AZ           string
	Tier         Tier
	RouteTableID *string
}

// Vpc is the created network.
type Vpc struct {
	Resource vpc.Vpc
	ID       *string
	Name     string
	CIDR     string
	AZs      []string
	// Subnets holds each tier's subnets in AZ order.
	Subnets map[Tier][]Subnet
	// NATGatewayIDs are in AZ order (one entry when SingleNAT).
	NATGatewayIDs []*string
	// FlowLogGroup receives the VPC's flow logs.
	FlowLogGroup *loggroup.Group
}

// New creates the VPC and everything it owns under a scope named id.
func New(scope constructs.Construct, id string, p Props) *Vpc {
	p = withDefaults(p)
	layout := layoutOf(p)
	s := constructs.NewConstruct(scope, tf.S(id))

	v := vpc.NewVpc(s, tf.S("vpc"), &vpc.VpcConfig{
		CidrBlock:          tf.S(p.CIDR),
		EnableDnsHostnames: tf.B(true),
		EnableDnsSupport:   tf.B(true),
		Tags:               tf.Name(p.Name),
	})
	out := &Vpc{Resource: v, ID: v.Id(), Name: p.Name, CIDR: p.CIDR, AZs: p.AZs, Subnets: map[Tier][]Subnet{}}

	// The default security group is the one a resource lands in when its
	// author forgets to pick one; with no rules it allows nothing.
	defaultsecuritygroup.NewDefaultSecurityGroup(s, tf.S("default-sg"), &defaultsecuritygroup.DefaultSecurityGroupConfig{
		VpcId: out.ID,
		Tags:  tf.Name(p.Name + "-default-deny"),
	})

	out.buildSubnets(s, p, layout)
	out.buildRouting(s, p)
	out.buildACLs(s, p)
	out.buildEndpoints(s, p)
	out.buildFlowLogs(s, p)
	return out
}

// Select returns a tier's subnets. Asking for a tier the VPC does not have is
// a programming error.
func (v *Vpc) Select(t Tier) []Subnet {
	subnets, ok := v.Subnets[t]
	if !ok {
		panic(fmt.Sprintf("network %s: no tier %q; tiers are %v", v.Name, t, Tiers))
	}
	return subnets
}

// SubnetIDs returns a tier's subnet IDs in AZ order.
func (v *Vpc) SubnetIDs(t Tier) *[]*string {
	var ids []*string
	for _, s := range v.Select(t) {
		ids = append(ids, s.ID)
	}
	return tf.Ptrs(ids...)
}

// RouteTableIDs returns a tier's route table IDs in AZ order.
func (v *Vpc) RouteTableIDs(t Tier) *[]*string {
	var ids []*string
	for _, s := range v.Select(t) {
		ids = append(ids, s.RouteTableID)
	}
	return tf.Ptrs(ids...)
}

// PrivateRouteTableIDs returns the route tables of both private tiers.
func (v *Vpc) PrivateRouteTableIDs() *[]*string {
	ids := append(*v.RouteTableIDs(PrivateApp), *v.RouteTableIDs(PrivatePersistence)...)
	return &ids
}

func withDefaults(p Props) Props {
	if p.Name == "" || p.CIDR == "" || len(p.AZs) < 2 || p.LogKey == nil {
		panic("network.New: Name, CIDR, two or more AZs and LogKey are required (" + p.Name + ")")
	}
	if p.FlowLogRetentionDays == 0 {
		p.FlowLogRetentionDays = DefaultFlowLogRetentionDays
	}
	bits := netip.MustParsePrefix(p.CIDR).Bits()
	lengths := map[Tier]int{Public: bits + 8, PrivateApp: bits + 4, PrivatePersistence: bits + 8}
	for t, l := range p.PrefixLengths {
		if l != 0 {
			lengths[t] = l
		}
	}
	p.PrefixLengths = lengths
	return p
}

// layoutOf computes every subnet's CIDR in Go; config validation has already
// run the same computation, so an error here is a programming error.
func layoutOf(p Props) [][]netip.Prefix {
	var lengths []int
	for _, t := range Tiers {
		lengths = append(lengths, p.PrefixLengths[t])
	}
	layout, err := cidr.Layout(netip.MustParsePrefix(p.CIDR), len(p.AZs), lengths)
	if err != nil {
		panic("network " + p.Name + ": " + err.Error())
	}
	return layout
}

// SubnetName is the Name tag of a tier's subnet and route table in an AZ.
// Other stacks find the route tables by it, so it is part of the contract.
func SubnetName(vpcName string, t Tier, az string) string {
	return vpcName + "-" + string(t) + "-" + azSuffix(az)
}

// azSuffix is the stable part of construct IDs: "a" for us-east-1a.
func azSuffix(az string) string { return az[len(az)-1:] }
