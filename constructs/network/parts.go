package network

import (
	"fmt"
	"net/netip"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/eip"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/flowlog"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/internetgateway"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/natgateway"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/networkacl"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/routetable"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/routetableassociation"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/subnet"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcendpoint"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/loggroup"
	"github.com/acme/landing-zone/constructs/role"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

const anywhere = "0.0.0.0/0"

// Network ACL rules are numbered from FirstACLRule in steps of ACLRuleStep,
// leaving room for hand-added rules in between.
const (
	FirstACLRule = 100
	ACLRuleStep  = 10
)

// EphemeralPorts is the client port range that network ACLs admit replies
// on: the widest in use (the load balancers' and NAT gateways'), which
// covers Linux's 32768-60999.
var EphemeralPorts = struct{ From, To int }{1024, 65535}

// buildSubnets makes one subnet and one route table per tier and AZ. A
// route table per AZ (rather than per tier) lets each AZ's private subnets
// use their own AZ's NAT gateway and lets peering add routes per AZ.
func (v *Vpc) buildSubnets(s constructs.Construct, p Props, layout [][]netip.Prefix) {
	for ti, tier := range Tiers {
		for ai, az := range p.AZs {
			id := string(tier) + "-" + azSuffix(az)
			name := SubnetName(p.Name, tier, az)
			sn := subnet.NewSubnet(s, tf.S(id), &subnet.SubnetConfig{
				VpcId:            v.ID,
				CidrBlock:        tf.S(layout[ti][ai].String()),
				AvailabilityZone: tf.S(az),
				// Public subnets hold only load balancers, NAT gateways and
				// the VPN server, which all get addresses explicitly.
				MapPublicIpOnLaunch: tf.B(false),
				Tags:                tf.Tags(map[string]string{"Name": name, "Tier": string(tier)}),
			})
			rt := routetable.NewRouteTable(s, tf.S(id+"-rt"), &routetable.RouteTableConfig{VpcId: v.ID, Tags: tf.Name(name)})
			subnetID, rtID := sn.Id(), rt.Id()
			routetableassociation.NewRouteTableAssociation(s, tf.S(id+"-rta"), &routetableassociation.RouteTableAssociationConfig{
				SubnetId: subnetID, RouteTableId: rtID,
			})
			v.Subnets[tier] = append(v.Subnets[tier], Subnet{ID: subnetID, CIDR: layout[ti][ai].String(), AZ: az, Tier: tier, RouteTableID: rtID})
		}
	}
}

// buildRouting sends the public tier to the internet gateway and the
// private-app tier to a NAT gateway. The persistence tier gets no default
// route: databases and caches need no internet access.
func (v *Vpc) buildRouting(s constructs.Construct, p Props) {
	igw := internetgateway.NewInternetGateway(s, tf.S("igw"), &internetgateway.InternetGatewayConfig{VpcId: v.ID, Tags: tf.Name(p.Name)})
	igwID := igw.Id()
	for _, sn := range v.Select(Public) {
		route.NewRoute(s, tf.S("public-"+azSuffix(sn.AZ)+"-default"), &route.RouteConfig{
			RouteTableId: sn.RouteTableID, DestinationCidrBlock: tf.S(anywhere), GatewayId: igwID,
		})
	}
	natAZs := p.AZs
	if p.SingleNAT {
		natAZs = p.AZs[:1]
	}
	for i, az := range natAZs {
		id := "nat-" + azSuffix(az)
		ip := eip.NewEip(s, tf.S(id+"-eip"), &eip.EipConfig{Domain: tf.S("vpc"), Tags: tf.Name(p.Name + "-" + id)})
		nat := natgateway.NewNatGateway(s, tf.S(id), &natgateway.NatGatewayConfig{
			AllocationId: ip.AllocationId(),
			SubnetId:     v.Subnets[Public][i].ID,
			Tags:         tf.Name(p.Name + "-" + id),
			DependsOn:    &[]cdktf.ITerraformDependable{igw},
		})
		v.NATGatewayIDs = append(v.NATGatewayIDs, nat.Id())
	}
	for i, sn := range v.Select(PrivateApp) {
		natID := v.NATGatewayIDs[0]
		if !p.SingleNAT {
			natID = v.NATGatewayIDs[i]
		}
		route.NewRoute(s, tf.S("private-app-"+azSuffix(sn.AZ)+"-default"), &route.RouteConfig{
			RouteTableId: sn.RouteTableID, DestinationCidrBlock: tf.S(anywhere), NatGatewayId: natID,
		})
	}
}

type aclRule struct {
	protocol string // "tcp", "udp" or "-1" for all
	from, to int
	cidr     string
	deny     bool
}

// AdminPorts are SSH and RDP, which no network ACL admits from the
// internet (CIS AWS Foundations 5.1).
var AdminPorts = []int{22, 3389}

// buildACLs adds a stateless layer under the security groups. Ephemeral
// ports are open inbound from anywhere in the public and app tiers because
// network ACLs do not track connections: replies to outbound calls (through
// the NAT gateway or from the internet to the load balancers) arrive there.
// The admin ports are denied from the internet first, so the ephemeral
// range never admits them (CIS 5.1); traffic from inside is decided by the
// rules before.
func (v *Vpc) buildACLs(s constructs.Construct, p Props) {
	inside := func(t Tier) []aclRule {
		rules := []aclRule{{protocol: "-1", cidr: p.CIDR}}
		for _, c := range p.TrustedCIDRs[t] {
			rules = append(rules, aclRule{protocol: "-1", cidr: c})
		}
		return rules
	}
	var noAdmin []aclRule
	for _, port := range AdminPorts {
		noAdmin = append(noAdmin, aclRule{protocol: "tcp", from: port, to: port, cidr: anywhere, deny: true})
	}
	ephemeral := []aclRule{
		{protocol: "tcp", from: EphemeralPorts.From, to: EphemeralPorts.To, cidr: anywhere},
		{protocol: "udp", from: EphemeralPorts.From, to: EphemeralPorts.To, cidr: anywhere},
	}
	public := []aclRule{{protocol: "tcp", from: 443, to: 443, cidr: anywhere}, {protocol: "tcp", from: 80, to: 80, cidr: anywhere}}
	for _, port := range p.PublicPorts {
		public = append(public, aclRule{protocol: port.Protocol, from: port.Number, to: port.Number, cidr: anywhere})
	}
	everywhere := []aclRule{{protocol: "-1", cidr: anywhere}}

	v.acl(s, p, Public, concat(public, inside(Public), noAdmin, ephemeral), everywhere)
	v.acl(s, p, PrivateApp, concat(inside(PrivateApp), noAdmin, ephemeral), everywhere)
	v.acl(s, p, PrivatePersistence, inside(PrivatePersistence), inside(PrivatePersistence))
}

func (v *Vpc) acl(s constructs.Construct, p Props, tier Tier, ingress, egress []aclRule) {
	networkacl.NewNetworkAcl(s, tf.S(string(tier)+"-acl"), &networkacl.NetworkAclConfig{
		VpcId:     v.ID,
		SubnetIds: v.SubnetIDs(tier),
		Ingress: aclEntries[networkacl.NetworkAclIngress](ingress, func(r aclRule, n int) *networkacl.NetworkAclIngress {
			return &networkacl.NetworkAclIngress{Action: action(r), Protocol: tf.S(r.protocol), FromPort: tf.N(r.from), ToPort: tf.N(r.to), CidrBlock: tf.S(r.cidr), RuleNo: tf.N(n)}
		}),
		Egress: aclEntries[networkacl.NetworkAclEgress](egress, func(r aclRule, n int) *networkacl.NetworkAclEgress {
			return &networkacl.NetworkAclEgress{Action: action(r), Protocol: tf.S(r.protocol), FromPort: tf.N(r.from), ToPort: tf.N(r.to), CidrBlock: tf.S(r.cidr), RuleNo: tf.N(n)}
		}),
		Tags: tf.Name(p.Name + "-" + string(tier)),
	})
}

func action(r aclRule) *string {
	if r.deny {
		return tf.S("deny")
	}
	return tf.S("allow")
}

// aclEntries numbers rules FirstACLRule, + ACLRuleStep, ... in the order
// given.
func aclEntries[T any](rules []aclRule, mk func(aclRule, int) *T) *[]*T {
	out := make([]*T, len(rules))
	for i, r := range rules {
		out[i] = mk(r, FirstACLRule+ACLRuleStep*i)
	}
	return &out
}

func concat(lists ...[]aclRule) []aclRule {
	var out []aclRule
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// buildEndpoints keeps S3 and DynamoDB traffic from private subnets off the
// NAT gateway: cheaper, and it never leaves the AWS network.
func (v *Vpc) buildEndpoints(s constructs.Construct, p Props) {
	region := tf.EnvOf(s).Region
	for _, svc := range []string{"s3", "dynamodb"} {
		vpcendpoint.NewVpcEndpoint(s, tf.S(svc+"-endpoint"), &vpcendpoint.VpcEndpointConfig{
			VpcId:           v.ID,
			ServiceName:     tf.S(fmt.Sprintf("com.amazonaws.%s.%s", region, svc)),
			VpcEndpointType: tf.S("Gateway"),
			RouteTableIds:   v.PrivateRouteTableIDs(),
			Tags:            tf.Name(p.Name + "-" + svc),
		})
	}
}

// buildFlowLogs records all traffic to a KMS-encrypted log group, through a
// role that can write to that group only.
func (v *Vpc) buildFlowLogs(s constructs.Construct, p Props) {
	group := loggroup.New(s, "flow-logs", loggroup.Props{
		Name: p.Name + "-vpc-flow-logs", RetentionDays: p.FlowLogRetentionDays, Key: p.LogKey,
	})
	writer := role.New(s, "flow-logs-role", role.Props{
		Name:  p.Name + "-vpc-flow-logs",
		Trust: iam.ServiceTrust("vpc-flow-logs.amazonaws.com", tf.EnvOf(s).Account),
		Statements: []iam.Statement{iam.Allow("WriteFlowLogs",
			[]string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
			group.ARN, group.StreamsARN)},
		PolicyName: "write-flow-logs", PolicyID: "flow-logs-policy",
	}).Role
	flowlog.NewFlowLog(s, tf.S("flow-log"), &flowlog.FlowLogConfig{
		VpcId:              v.ID,
		TrafficType:        tf.S("ALL"),
		LogDestinationType: tf.S("cloud-watch-logs"),
		LogDestination:     tf.S(group.ARN),
		IamRoleArn:         writer.Arn(),
		Tags:               tf.Name(p.Name),
		DependsOn:          &[]cdktf.ITerraformDependable{group.Resource},
	})
	v.FlowLogGroup = group
}
