// Package securitygroup makes security groups whose rules are separate
// resources (aws_vpc_security_group_ingress_rule / _egress_rule), so that
// other layers can open a group to their own callers without editing it.
//
// It owns the group and the rules added through its methods. A group starts
// with no ingress and no egress: every rule is explicit. Entry point: New.
package securitygroup

import (
	"strconv"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/securitygroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcsecuritygroupegressrule"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcsecuritygroupingressrule"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/network"
	"github.com/acme/landing-zone/internal/guardrails"
	"github.com/acme/landing-zone/internal/tf"
)

// Anywhere is the IPv4 internet.
const Anywhere = "0.0.0.0/0"

// Props configures a group.
type Props struct {
	// Name of the group, unique in the VPC. Required.
	Name string
	// Description says what the group guards. Required.
	Description string
	// VPC is the group's VPC. Required.
	VPC *network.Vpc
}

// Group is a security group. Its rule methods name each rule resource after
// the peer and port, so rules keep stable addresses as others are added.
type Group struct {
	Resource securitygroup.SecurityGroup
	ID       *string
	Name     string
	scope    constructs.Construct
	id       string
}

// New creates an empty group.
func New(scope constructs.Construct, id string, p Props) *Group {
	if p.Name == "" || p.Description == "" || p.VPC == nil {
		panic("securitygroup.New: Name, Description and VPC are required (" + id + ")")
	}
	sg := securitygroup.NewSecurityGroup(scope, tf.S(id), &securitygroup.SecurityGroupConfig{
		Name:        tf.S(p.Name),
		Description: tf.S(p.Description),
		VpcId:       p.VPC.ID,
		Tags:        tf.Name(p.Name),
		// Rules are separate resources; inline rules here would fight them.
		RevokeRulesOnDelete: tf.B(true),
	})
	return &Group{Resource: sg, ID: sg.Id(), Name: p.Name, scope: scope, id: id}
}

// Rule is one port (or port range) of one protocol.
type Rule struct {
	// Protocol is "tcp", "udp" or "-1" (all, ports ignored).
	Protocol string
	From, To int
	// Description is shown in the console and should say why.
	Description string
}

// TCP is a single TCP port.
func TCP(port int, why string) Rule { return Rule{"tcp", port, port, why} }

// UDP is a single UDP port.
func UDP(port int, why string) Rule { return Rule{"udp", port, port, why} }

// AllTraffic is every protocol and port.
func AllTraffic(why string) Rule { return Rule{"-1", 0, 0, why} }

// AllowFromGroup opens the rule to members of another group.
func (g *Group) AllowFromGroup(peerName string, peer *string, r Rule) {
	c := g.ingress(peerName, r)
	c.ReferencedSecurityGroupId = peer
	vpcsecuritygroupingressrule.NewVpcSecurityGroupIngressRule(g.scope, tf.S(g.ruleID("in", peerName, r)), c)
}

// AllowFromCIDR opens the rule to an IPv4 range.
func (g *Group) AllowFromCIDR(peerName, cidr string, r Rule) {
	c := g.ingress(peerName, r)
	c.CidrIpv4 = tf.S(cidr)
	vpcsecuritygroupingressrule.NewVpcSecurityGroupIngressRule(g.scope, tf.S(g.ruleID("in", peerName, r)), c)
}

// AllowToCIDR lets the group's members reach an IPv4 range.
func (g *Group) AllowToCIDR(peerName, cidr string, r Rule) {
	c := g.egress(peerName, r)
	c.CidrIpv4 = tf.S(cidr)
	vpcsecuritygroupegressrule.NewVpcSecurityGroupEgressRule(g.scope, tf.S(g.ruleID("out", peerName, r)), c)
}

// CIDRKey names a rule after the range it admits ("10.1.0.0/16" gives
// "10-1-0-0-16"), so that adding or removing another range never renames,
// and so replaces, it.
func CIDRKey(cidr string) string { return strings.NewReplacer(".", "-", "/", "-").Replace(cidr) }

// AllowFromCIDRs opens the rule to each range, each rule named prefix plus
// its range (CIDRKey). legacy(i) is the name earlier versions gave the i-th
// rule, by position: a moved block from it keeps a rule an earlier version
// created (see movedFrom).
func (g *Group) AllowFromCIDRs(prefix string, cidrs []string, r Rule, legacy func(i int) string) {
	g.cidrRules("in", "aws_vpc_security_group_ingress_rule", prefix, cidrs, r, legacy, func(id, peer, cidr string) cdktf.TerraformResource {
		c := g.ingress(peer, r)
		c.CidrIpv4 = tf.S(cidr)
		return vpcsecuritygroupingressrule.NewVpcSecurityGroupIngressRule(g.scope, tf.S(id), c)
	})
}

// AllowToCIDRs lets the group's members reach each range: AllowFromCIDRs'
// naming, outbound.
func (g *Group) AllowToCIDRs(prefix string, cidrs []string, r Rule, legacy func(i int) string) {
	g.cidrRules("out", "aws_vpc_security_group_egress_rule", prefix, cidrs, r, legacy, func(id, peer, cidr string) cdktf.TerraformResource {
		c := g.egress(peer, r)
		c.CidrIpv4 = tf.S(cidr)
		return vpcsecuritygroupegressrule.NewVpcSecurityGroupEgressRule(g.scope, tf.S(id), c)
	})
}

// cidrRules makes one rule per range with newRule, named by range, and the
// moved block from each legacy, positional name.
func (g *Group) cidrRules(dir, typ, prefix string, cidrs []string, r Rule, legacy func(int) string, newRule func(id, peer, cidr string) cdktf.TerraformResource) {
	for i, cidr := range cidrs {
		peer := prefix + CIDRKey(cidr)
		rule := newRule(g.ruleID(dir, peer, r), peer, cidr)
		old := newRule(g.ruleID(dir, legacy(i), r), peer, cidr)
		old.MoveToId(tf.S(typ + "." + *cdktf.TerraformStack_Of(g.scope).GetLogicalId(rule)))
	}
}

// AllowToInternet lets the group's members reach any IPv4 address on the
// rule's port. why is required: the security scan flags unrestricted
// egress, and the reason is recorded on the rule as an accepted finding.
func (g *Group) AllowToInternet(r Rule, why string) {
	c := g.egress("internet", r)
	c.CidrIpv4 = tf.S(Anywhere)
	rule := vpcsecuritygroupegressrule.NewVpcSecurityGroupEgressRule(g.scope, tf.S(g.ruleID("out", "internet", r)), c)
	guardrails.WaiveScan(rule, "AWS-0104", why)
}

// AllowToGroup lets the group's members reach another group.
func (g *Group) AllowToGroup(peerName string, peer *string, r Rule) {
	c := g.egress(peerName, r)
	c.ReferencedSecurityGroupId = peer
	vpcsecuritygroupegressrule.NewVpcSecurityGroupEgressRule(g.scope, tf.S(g.ruleID("out", peerName, r)), c)
}

// Connect lets a client group's members reach a server group's members on
// the rule's port: ingress on the server and egress on the client. Both
// ends need a rule, because a group Terraform creates has no egress.
// clientName and serverName name each end in the other's rule.
func Connect(client *Group, clientName string, server *Group, serverName string, r Rule) {
	server.AllowFromGroup(clientName, client.ID, r)
	client.AllowToGroup(serverName, server.ID, r)
}

func (g *Group) egress(peerName string, r Rule) *vpcsecuritygroupegressrule.VpcSecurityGroupEgressRuleConfig {
	c := &vpcsecuritygroupegressrule.VpcSecurityGroupEgressRuleConfig{
		SecurityGroupId: g.ID, IpProtocol: tf.S(r.Protocol),
		Description: tf.S(r.Description), Tags: tf.Name(g.Name + "-to-" + peerName),
	}
	if r.Protocol != "-1" {
		c.FromPort, c.ToPort = tf.N(r.From), tf.N(r.To)
	}
	return c
}

func (g *Group) ingress(peerName string, r Rule) *vpcsecuritygroupingressrule.VpcSecurityGroupIngressRuleConfig {
	c := &vpcsecuritygroupingressrule.VpcSecurityGroupIngressRuleConfig{
		SecurityGroupId: g.ID, IpProtocol: tf.S(r.Protocol),
		Description: tf.S(r.Description), Tags: tf.Name(g.Name + "-from-" + peerName),
	}
	if r.Protocol != "-1" {
		c.FromPort, c.ToPort = tf.N(r.From), tf.N(r.To)
	}
	return c
}

func (g *Group) ruleID(dir, peer string, r Rule) string {
	id := g.id + "-" + dir + "-" + peer + "-" + r.Protocol
	if r.Protocol != "-1" {
		id += "-" + strconv.Itoa(r.From)
		if r.To != r.From {
			id += "-" + strconv.Itoa(r.To)
		}
	}
	return id
}
