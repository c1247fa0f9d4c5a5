package reach

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// VPC is one VPC with what routes and filters its packets.
type VPC struct {
	Res  *Resource
	CIDR netip.Prefix
	// IGW is the internet gateway attached to it, if any.
	IGW *Resource
}

// Subnet is one subnet with the route table and network ACL in force.
type Subnet struct {
	Res  *Resource
	VPC  *VPC
	CIDR netip.Prefix
	AZ   string
	// RT is the associated route table; nil means the VPC's main table,
	// which Terraform-made VPCs leave with the local route only.
	RT *RouteTable
	// ACL is the associated network ACL; nil means the VPC's default ACL,
	// which allows everything both ways.
	ACL *ACL
}

// Name is the subnet's Name tag, or its address.
func (s *Subnet) Name() string {
	if tags, ok := s.Res.Attrs["tags"].(map[string]any); ok && str(tags["Name"]) != "" {
		return str(tags["Name"])
	}
	return s.Res.Addr
}

// Target kinds of a route.
const (
	ToLocal    = "local"
	ToIGW      = "internet gateway"
	ToNAT      = "NAT gateway"
	ToPeering  = "VPC peering"
	ToEndpoint = "gateway endpoint"
	ToOther    = "other"
)

// Route is one route of a route table.
type Route struct {
	Res  *Resource // nil for the implicit local route
	Dest netip.Prefix
	Kind string
	// Target is the gateway, NAT gateway, peering connection or endpoint.
	Target *Resource
	// Service is the gateway endpoint's service ("s3", "dynamodb").
	Service string
}

// RouteTable is a route table and its routes.
type RouteTable struct {
	Res    *Resource
	VPC    *VPC
	Routes []Route
}

// ACLRule is one numbered entry of a network ACL.
type ACLRule struct {
	No       int
	Allow    bool
	Protocol string // "tcp", "udp", "-1"
	From, To int
	CIDR     netip.Prefix
}

// ACL is a network ACL: rules evaluated in number order, first match
// wins, an implicit deny at the end.
type ACL struct {
	Res             *Resource
	Ingress, Egress []ACLRule
}

// SGRule is one rule of a security group.
type SGRule struct {
	Res      *Resource
	Protocol string
	From, To int
	CIDR     *netip.Prefix
	Group    *SG
}

// SG is a security group with its rules.
type SG struct {
	Res             *Resource
	Ingress, Egress []SGRule
}

// Name is the group's name.
func (g *SG) Name() string { return str(g.Res.Attrs["name"]) }

// Network is everything the model knows of the synthesized stacks.
type Network struct {
	Stacks  *Stacks
	VPCs    map[*Resource]*VPC
	Subnets map[*Resource]*Subnet
	RTs     map[*Resource]*RouteTable
	SGs     map[*Resource]*SG
	// Accepted are the peering connections that have an accepter.
	Accepted map[*Resource]bool
	nodes    int
}

// Build reads the network out of the stacks.
func Build(s *Stacks) *Network {
	n := &Network{Stacks: s, VPCs: map[*Resource]*VPC{}, Subnets: map[*Resource]*Subnet{},
		RTs: map[*Resource]*RouteTable{}, SGs: map[*Resource]*SG{}, Accepted: map[*Resource]bool{}}
	for _, r := range s.OfType("", "aws_vpc") {
		if p, err := netip.ParsePrefix(str(r.Attrs["cidr_block"])); err == nil {
			n.VPCs[r] = &VPC{Res: r, CIDR: p}
		}
	}
	for _, r := range s.OfType("", "aws_internet_gateway") {
		if v := n.VPCs[s.Ref(r.Stack, r.Attrs["vpc_id"])]; v != nil {
			v.IGW = r
		}
	}
	for _, r := range s.OfType("", "aws_subnet") {
		p, err := netip.ParsePrefix(str(r.Attrs["cidr_block"]))
		if v := n.VPCs[s.Ref(r.Stack, r.Attrs["vpc_id"])]; v != nil && err == nil {
			n.Subnets[r] = &Subnet{Res: r, VPC: v, CIDR: p, AZ: str(r.Attrs["availability_zone"])}
		}
	}
	n.buildRouteTables()
	n.buildACLs()
	n.buildSGs()
	for _, r := range s.OfType("", "aws_vpc_peering_connection_accepter") {
		if c := s.Ref(r.Stack, r.Attrs["vpc_peering_connection_id"]); c != nil {
			n.Accepted[c] = true
		}
	}
	return n
}

func (n *Network) buildRouteTables() {
	s := n.Stacks
	for _, r := range s.OfType("", "aws_route_table") {
		if v := n.VPCs[s.Ref(r.Stack, r.Attrs["vpc_id"])]; v != nil {
			rt := &RouteTable{Res: r, VPC: v, Routes: []Route{{Dest: v.CIDR, Kind: ToLocal}}}
			for _, b := range blocks(r.Attrs["route"]) {
				rt.add(n.route(r, b))
			}
			n.RTs[r] = rt
		}
	}
	for _, r := range s.OfType("", "aws_route") {
		if rt := n.RTs[s.Ref(r.Stack, r.Attrs["route_table_id"])]; rt != nil {
			rt.add(n.route(r, r.Attrs))
		}
	}
	for _, r := range s.OfType("", "aws_vpc_endpoint") {
		if str(r.Attrs["vpc_endpoint_type"]) != "Gateway" {
			continue
		}
		svc := str(r.Attrs["service_name"])
		svc = svc[strings.LastIndex(svc, ".")+1:]
		for _, t := range s.Refs(r.Stack, r.Attrs["route_table_ids"]) {
			if rt := n.RTs[t]; rt != nil {
				rt.add(Route{Res: r, Dest: ServicePrefix(svc), Kind: ToEndpoint, Target: r, Service: svc})
			}
		}
	}
	for _, r := range s.OfType("", "aws_route_table_association") {
		sn, rt := n.Subnets[s.Ref(r.Stack, r.Attrs["subnet_id"])], n.RTs[s.Ref(r.Stack, r.Attrs["route_table_id"])]
		if sn != nil && rt != nil {
			sn.RT = rt
		}
	}
}

func (rt *RouteTable) add(r Route) {
	if r.Dest.IsValid() {
		rt.Routes = append(rt.Routes, r)
	}
}

// route reads one route's destination and target.
func (n *Network) route(res *Resource, b map[string]any) Route {
	s := n.Stacks
	dest, _ := netip.ParsePrefix(str(b["destination_cidr_block"]))
	if dest == (netip.Prefix{}) {
		dest, _ = netip.ParsePrefix(str(b["cidr_block"]))
	}
	r := Route{Res: res, Dest: dest, Kind: ToOther}
	for key, kind := range map[string]string{
		"gateway_id": ToIGW, "nat_gateway_id": ToNAT, "vpc_peering_connection_id": ToPeering,
	} {
		if t := s.Ref(res.Stack, b[key]); t != nil {
			r.Kind, r.Target = kind, t
		}
	}
	// The accepter's ID is its connection's ID; routes often name it so
	// that they wait for the connection to be active.
	if r.Kind == ToPeering && r.Target.Type == "aws_vpc_peering_connection_accepter" {
		r.Target = s.Ref(r.Target.Stack, r.Target.Attrs["vpc_peering_connection_id"])
	}
	if r.Target == nil {
		r.Kind = ToOther
	}
	if r.Kind == ToIGW && r.Target.Type != "aws_internet_gateway" {
		r.Kind = ToOther
	}
	return r
}

// Lookup is the route a table picks for an address: the longest prefix.
func (rt *RouteTable) Lookup(a netip.Addr) (Route, bool) {
	best, found := Route{}, false
	for _, r := range rt.Routes {
		if r.Dest.Contains(a) && (!found || r.Dest.Bits() > best.Dest.Bits()) {
			best, found = r, true
		}
	}
	return best, found
}

func (n *Network) buildACLs() {
	s := n.Stacks
	for _, r := range s.OfType("", "aws_network_acl") {
		acl := &ACL{Res: r, Ingress: aclRules(r.Attrs["ingress"]), Egress: aclRules(r.Attrs["egress"])}
		for _, sn := range s.Refs(r.Stack, r.Attrs["subnet_ids"]) {
			if x := n.Subnets[sn]; x != nil {
				x.ACL = acl
			}
		}
	}
}

func aclRules(v any) []ACLRule {
	var out []ACLRule
	for _, b := range blocks(v) {
		p, err := netip.ParsePrefix(str(b["cidr_block"]))
		if err != nil {
			continue
		}
		out = append(out, ACLRule{No: num(b["rule_no"]), Allow: str(b["action"]) == "allow",
			Protocol: protocol(b["protocol"]), From: num(b["from_port"]), To: num(b["to_port"]), CIDR: p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].No < out[j].No })
	return out
}

// protocol normalizes "6"/"tcp", "17"/"udp" and "-1"/"all", as strings or
// numbers.
func protocol(v any) string {
	p := strings.ToLower(str(v))
	if f, ok := v.(float64); ok {
		p = strconv.Itoa(int(f))
	}
	switch p {
	case "6":
		return "tcp"
	case "17":
		return "udp"
	case "all", "-1":
		return "-1"
	}
	return p
}

func (n *Network) buildSGs() {
	s := n.Stacks
	for _, r := range s.OfType("", "aws_security_group") {
		n.SGs[r] = &SG{Res: r}
	}
	for _, g := range n.SGs {
		for _, b := range blocks(g.Res.Attrs["ingress"]) {
			g.Ingress = append(g.Ingress, n.inlineRules(g.Res, b)...)
		}
		for _, b := range blocks(g.Res.Attrs["egress"]) {
			g.Egress = append(g.Egress, n.inlineRules(g.Res, b)...)
		}
	}
	for typ, ingress := range map[string]bool{"aws_vpc_security_group_ingress_rule": true, "aws_vpc_security_group_egress_rule": false} {
		for _, r := range s.OfType("", typ) {
			g := n.SGs[s.Ref(r.Stack, r.Attrs["security_group_id"])]
			if g == nil {
				continue
			}
			rule := SGRule{Res: r, Protocol: protocol(r.Attrs["ip_protocol"]), From: num(r.Attrs["from_port"]), To: num(r.Attrs["to_port"])}
			if p, err := netip.ParsePrefix(str(r.Attrs["cidr_ipv4"])); err == nil {
				rule.CIDR = &p
			}
			rule.Group = n.SGs[s.Ref(r.Stack, r.Attrs["referenced_security_group_id"])]
			if ingress {
				g.Ingress = append(g.Ingress, rule)
			} else {
				g.Egress = append(g.Egress, rule)
			}
		}
	}
}

// inlineRules reads an ingress or egress block of aws_security_group.
func (n *Network) inlineRules(g *Resource, b map[string]any) []SGRule {
	base := SGRule{Res: g, Protocol: protocol(b["protocol"]), From: num(b["from_port"]), To: num(b["to_port"])}
	var out []SGRule
	for _, c := range strs(b["cidr_blocks"]) {
		if p, err := netip.ParsePrefix(c); err == nil {
			r := base
			r.CIDR = &p
			out = append(out, r)
		}
	}
	for _, ref := range n.Stacks.Refs(g.Stack, b["security_groups"]) {
		r := base
		r.Group = n.SGs[ref]
		out = append(out, r)
	}
	return out
}

// ServicePrefix stands in for an AWS service's public address range, as a
// gateway endpoint's prefix list does. The ranges are documentation-only
// space, so no real address is ever modelled as an AWS service.
func ServicePrefix(service string) netip.Prefix {
	switch service {
	case "s3":
		return netip.MustParsePrefix("203.0.113.0/25")
	case "dynamodb":
		return netip.MustParsePrefix("203.0.113.128/25")
	}
	return netip.Prefix{}
}
