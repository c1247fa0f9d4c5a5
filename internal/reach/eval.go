package reach

import (
	"fmt"
	"net/netip"
)

// Ports is an inclusive port range.
type Ports struct{ From, To int }

// Ephemeral port ranges of the clients the model knows. Replies come back
// to the client's source port, so a stateless ACL must admit the whole
// range on the return path.
var (
	// LinuxEphemeral is Linux's default net.ipv4.ip_local_port_range
	// (ECS tasks and hosts, the VPN server).
	LinuxEphemeral = Ports{32768, 60999}
	// AnyEphemeral is what load balancers, NAT gateways and arbitrary
	// internet clients may use.
	AnyEphemeral = Ports{1024, 65535}
)

// AdminPorts are SSH and RDP: CIS AWS Foundations 5.1 asks that no network
// ACL admit them from 0.0.0.0/0, so an ACL may carve them out of an
// ephemeral range; the model accepts that gap on return paths.
var AdminPorts = []int{22, 3389}

// Endpoint is one end of a packet: a node's interface in one subnet, or an
// address outside every VPC (Subnet nil).
type Endpoint struct {
	Label  string
	Subnet *Subnet
	IP     netip.Addr
	// SGs are the interface's security groups; AnySG skips them (a probe
	// that asks only whether routing and ACLs let a packet through).
	SGs   []*SG
	AnySG bool
	// Public: the interface has a public address (internet-facing load
	// balancer, instance with a public IP).
	Public    bool
	Ephemeral Ports
}

// Hop is one decision on a packet's way.
type Hop struct {
	Step  string // "source security group egress", "route", ...
	OK    bool
	Where string // the resource that decided
	Why   string
}

// Trace is every decision for one packet and its reply.
type Trace []Hop

// OK says whether every hop let the packet (and its reply) through.
func (t Trace) OK() bool { return t.Blocked() == nil }

// Blocked is the first hop that dropped the packet, or nil.
func (t Trace) Blocked() *Hop {
	for i := range t {
		if !t[i].OK {
			return &t[i]
		}
	}
	return nil
}

// Admitted lists the hops that decided to let it through, for a forbidden
// flow that got through: the rules to remove.
func (t Trace) Admitted() []Hop {
	var out []Hop
	for _, h := range t {
		if h.OK && h.Where != "" {
			out = append(out, h)
		}
	}
	return out
}

func (t *Trace) add(step string, ok bool, where, why string, args ...any) {
	*t = append(*t, Hop{Step: step, OK: ok, Where: where, Why: fmt.Sprintf(why, args...)})
}

// Send traces one connection from src to dst on proto/port through
// security groups, route tables, network ACLs (both ways: they are
// stateless), NAT and internet gateways, gateway endpoints and peering.
func (n *Network) Send(src, dst Endpoint, proto string, port int) Trace {
	var t Trace
	if !src.AnySG {
		t.sgCheck("source security group egress", src.SGs, true, dst, proto, port)
	}
	switch {
	case src.Subnet == nil && dst.Subnet == nil:
		t.add("path", false, "", "neither end is in a VPC")
	case src.Subnet == nil:
		n.fromOutside(&t, src, dst, proto, port)
	case dst.Subnet == nil:
		n.toOutside(&t, src, dst, proto, port)
	default:
		n.between(&t, src, dst, proto, port)
	}
	if !dst.AnySG {
		t.sgCheck("destination security group ingress", dst.SGs, false, src, proto, port)
	}
	return t
}

// sgCheck asks whether any of the groups has a rule for the peer: egress
// rules of the sender, ingress rules of the receiver. A group admits a
// referenced group's members by membership, anyone else by address.
func (t *Trace) sgCheck(step string, groups []*SG, egress bool, peer Endpoint, proto string, port int) {
	for _, g := range groups {
		rules := g.Ingress
		if egress {
			rules = g.Egress
		}
		for _, r := range rules {
			if !protoPort(r.Protocol, r.From, r.To, proto, port) {
				continue
			}
			if (r.CIDR != nil && r.CIDR.Contains(peer.IP)) || (r.Group != nil && hasSG(peer.SGs, r.Group)) {
				t.add(step, true, r.Res.Where(), "%s admits %s %d %s %s", g.Name(), proto, port, direction(egress), peer.Label)
				return
			}
		}
	}
	names := ""
	for i, g := range groups {
		if i > 0 {
			names += ", "
		}
		names += g.Name()
	}
	where := ""
	if len(groups) > 0 {
		where = groups[0].Res.Where()
	}
	t.add(step, false, where, "no rule of [%s] admits %s %d %s %s", names, proto, port, direction(egress), peer.Label)
}

func direction(egress bool) string {
	if egress {
		return "to"
	}
	return "from"
}

func hasSG(list []*SG, g *SG) bool {
	for _, x := range list {
		if x == g {
			return true
		}
	}
	return false
}

func protoPort(ruleProto string, from, to int, proto string, port int) bool {
	if ruleProto == "-1" {
		return true
	}
	return ruleProto == proto && from <= port && port <= to
}

// fromOutside: an internet client reaches a public address in a VPC.
func (n *Network) fromOutside(t *Trace, src, dst Endpoint, proto string, port int) {
	if !dst.Public {
		t.add("public address", false, dst.Subnet.Res.Where(), "%s has no public address: nothing on the internet can address it", dst.Label)
		return
	}
	rt := n.tableOf(dst.Subnet)
	r, ok := rt.lookup(src.IP)
	if !ok || r.Kind != ToIGW || r.Target != dst.Subnet.VPC.IGW {
		t.add("return route", false, rt.where(dst.Subnet), "replies to %s leave %s by %s, not the VPC's internet gateway", src.IP, dst.Subnet.Name(), r.describe(ok))
		return
	}
	t.add("return route", true, r.where(rt, dst.Subnet), "replies leave by the internet gateway")
	t.aclIn(dst.Subnet, src, proto, port)
	t.aclReturnOut(dst.Subnet, src, proto)
}

// toOutside: a VPC interface reaches an address outside every VPC, through
// a gateway endpoint, the internet gateway or a NAT gateway.
func (n *Network) toOutside(t *Trace, src, dst Endpoint, proto string, port int) {
	rt := n.tableOf(src.Subnet)
	r, ok := rt.lookup(dst.IP)
	switch {
	case !ok || (r.Kind != ToEndpoint && r.Kind != ToIGW && r.Kind != ToNAT):
		t.add("route", false, rt.where(src.Subnet), "%s has no route out to %s (%s)", src.Subnet.Name(), dst.Label, r.describe(ok))
		return
	case r.Kind == ToIGW && !src.Public:
		t.add("route", false, r.where(rt, src.Subnet), "%s routes to the internet gateway but %s has no public address", src.Subnet.Name(), src.Label)
		return
	case r.Kind == ToIGW && r.Target != src.Subnet.VPC.IGW:
		t.add("route", false, r.where(rt, src.Subnet), "the internet gateway is not attached to this VPC")
		return
	}
	t.add("route", true, r.where(rt, src.Subnet), "%s reaches %s by %s", src.Subnet.Name(), dst.Label, r.Kind)
	t.aclOut(src.Subnet, dst, proto, port)
	t.aclReturnIn(src.Subnet, dst, proto, src.Ephemeral)
	if r.Kind == ToNAT {
		n.throughNAT(t, src, dst, r.Target, proto, port)
	}
}

// throughNAT follows a packet from the NAT gateway's subnet to the
// internet: the gateway rewrites the source on the way out and the
// destination on the way back.
func (n *Network) throughNAT(t *Trace, src, dst Endpoint, nat *Resource, proto string, port int) {
	ns := n.Subnets[n.Stacks.Ref(nat.Stack, nat.Attrs["subnet_id"])]
	if ns == nil || str(nat.Attrs["connectivity_type"]) == "private" || nat.Attrs["allocation_id"] == nil {
		t.add("NAT gateway", false, nat.Where(), "the NAT gateway has no public address or no subnet")
		return
	}
	natEnd := Endpoint{Label: "the NAT gateway", Subnet: ns, IP: hostIn(ns.CIDR, 5), Public: true, Ephemeral: AnyEphemeral}
	if ns != src.Subnet {
		t.aclIn(ns, src, proto, port)
		t.aclReturnOut(ns, src, proto)
	}
	rt := n.tableOf(ns)
	r, ok := rt.lookup(dst.IP)
	if !ok || r.Kind != ToIGW || r.Target != ns.VPC.IGW {
		t.add("NAT route", false, rt.where(ns), "the NAT gateway's subnet %s sends %s by %s, not the internet gateway", ns.Name(), dst.Label, r.describe(ok))
		return
	}
	t.add("NAT route", true, r.where(rt, ns), "the NAT gateway's subnet reaches the internet gateway")
	t.aclOut(ns, dst, proto, port)
	t.aclReturnIn(ns, dst, proto, natEnd.Ephemeral)
}

// between: both ends are in VPCs, the same one or two peered ones.
func (n *Network) between(t *Trace, src, dst Endpoint, proto string, port int) {
	if !n.routeBetween(t, "route", src, dst) || !n.routeBetween(t, "return route", dst, src) {
		return
	}
	if src.Subnet == dst.Subnet {
		return // network ACLs filter only what crosses a subnet's edge
	}
	t.aclOut(src.Subnet, dst, proto, port)
	t.aclIn(dst.Subnet, src, proto, port)
	t.aclReturnOut(dst.Subnet, src, proto, src.Ephemeral)
	t.aclReturnIn(src.Subnet, dst, proto, src.Ephemeral)
}

// routeBetween checks that from's route table delivers to to's address:
// by the local route in one VPC, by an accepted peering that joins both
// VPCs otherwise.
func (n *Network) routeBetween(t *Trace, step string, from, to Endpoint) bool {
	rt := n.tableOf(from.Subnet)
	r, ok := rt.lookup(to.IP)
	same := from.Subnet.VPC == to.Subnet.VPC
	switch {
	case same && ok && r.Kind == ToLocal:
		t.add(step, true, "", "local route")
		return true
	case same:
		t.add(step, false, rt.where(from.Subnet), "%s sends %s by %s, not the local route", from.Subnet.Name(), to.IP, r.describe(ok))
		return false
	case !ok || r.Kind != ToPeering:
		t.add(step, false, rt.where(from.Subnet), "%s has no route to %s (%s) across a peering (%s)", from.Subnet.Name(), to.IP, to.Label, r.describe(ok))
		return false
	}
	if why := n.peeringJoins(r.Target, from.Subnet.VPC, to.Subnet.VPC); why != "" {
		t.add(step, false, r.Target.Where(), "%s", why)
		return false
	}
	t.add(step, true, r.where(rt, from.Subnet), "%s reaches %s over the peering", from.Subnet.Name(), to.Label)
	return true
}

func (n *Network) peeringJoins(conn *Resource, a, b *VPC) string {
	if conn.Type != "aws_vpc_peering_connection" {
		return "the route's target is not a peering connection"
	}
	req := n.VPCs[n.Stacks.Ref(conn.Stack, conn.Attrs["vpc_id"])]
	acc := n.VPCs[n.Stacks.Ref(conn.Stack, conn.Attrs["peer_vpc_id"])]
	if !((req == a && acc == b) || (req == b && acc == a)) {
		return "the peering connection does not join these two VPCs"
	}
	if !n.Accepted[conn] {
		return "the peering connection is never accepted"
	}
	return ""
}

// tableOf is the subnet's route table: its association, or the main
// table, which has only the local route.
func (n *Network) tableOf(s *Subnet) *RouteTable {
	if s.RT != nil {
		return s.RT
	}
	return &RouteTable{VPC: s.VPC, Routes: []Route{{Dest: s.VPC.CIDR, Kind: ToLocal}}}
}

func (rt *RouteTable) lookup(a netip.Addr) (Route, bool) { return rt.Lookup(a) }

func (rt *RouteTable) where(s *Subnet) string {
	if rt.Res == nil {
		return s.Res.Where() + " (no route table association: the main route table)"
	}
	return rt.Res.Where()
}

func (r Route) where(rt *RouteTable, s *Subnet) string {
	if r.Res != nil {
		return r.Res.Where()
	}
	return rt.where(s)
}

func (r Route) describe(ok bool) string {
	if !ok {
		return "no matching route"
	}
	return r.Kind + " " + r.Dest.String()
}

// The four ACL checks of a connection across a subnet's edge.
func (t *Trace) aclOut(s *Subnet, peer Endpoint, proto string, port int) {
	t.aclPort("network ACL egress", s, s.ACL.rules(false), peer, proto, port)
}

func (t *Trace) aclIn(s *Subnet, peer Endpoint, proto string, port int) {
	t.aclPort("network ACL ingress", s, s.ACL.rules(true), peer, proto, port)
}

// aclReturnOut: replies leave s toward the client's ephemeral ports.
func (t *Trace) aclReturnOut(s *Subnet, client Endpoint, proto string, eph ...Ports) {
	r := client.Ephemeral
	if len(eph) > 0 {
		r = eph[0]
	}
	t.aclRange("network ACL egress (reply)", s, s.ACL.rules(false), client, proto, r)
}

// aclReturnIn: replies from server come into s to the client's ports.
func (t *Trace) aclReturnIn(s *Subnet, server Endpoint, proto string, eph Ports) {
	t.aclRange("network ACL ingress (reply)", s, s.ACL.rules(true), server, proto, eph)
}

func (a *ACL) rules(ingress bool) []ACLRule {
	if a == nil {
		return nil
	}
	if ingress {
		return a.Ingress
	}
	return a.Egress
}

func (t *Trace) aclPort(step string, s *Subnet, rules []ACLRule, peer Endpoint, proto string, port int) {
	if s.ACL == nil {
		t.add(step, true, "", "the default network ACL allows all")
		return
	}
	for _, r := range rules {
		if r.CIDR.Contains(peer.IP) && protoPort(r.Protocol, r.From, r.To, proto, port) {
			t.add(step, r.Allow, fmt.Sprintf("%s rule %d", s.ACL.Res.Where(), r.No), "%s rule %d %s %s %d with %s", s.Name(), r.No, verb(r.Allow), proto, port, peer.Label)
			return
		}
	}
	t.add(step, false, s.ACL.Res.Where(), "no rule of %s's network ACL admits %s %d with %s (implicit deny)", s.Name(), proto, port, peer.Label)
}

// aclRange checks a whole port range, rule by rule in number order: the
// ports no allow rule reaches first are refused.
func (t *Trace) aclRange(step string, s *Subnet, rules []ACLRule, peer Endpoint, proto string, r Ports) {
	if s.ACL == nil {
		t.add(step, true, "", "the default network ACL allows all")
		return
	}
	open := []Ports{r}
	var refused []Ports
	for _, rule := range rules {
		if !rule.CIDR.Contains(peer.IP) || (rule.Protocol != "-1" && rule.Protocol != proto) {
			continue
		}
		span := Ports{0, 65535}
		if rule.Protocol != "-1" {
			span = Ports{rule.From, rule.To}
		}
		var hit []Ports
		open, hit = cut(open, span)
		if !rule.Allow {
			refused = append(refused, hit...)
		}
	}
	refused = append(refused, open...)
	if gaps := withoutAdmin(refused); len(gaps) > 0 {
		t.add(step, false, s.ACL.Res.Where(), "%s's network ACL refuses %s replies with %s on ports %v of the ephemeral range %d-%d", s.Name(), proto, peer.Label, gaps, r.From, r.To)
		return
	}
	t.add(step, true, s.ACL.Res.Where(), "%s's network ACL admits the %s reply range %d-%d with %s", s.Name(), proto, r.From, r.To, peer.Label)
}

func verb(allow bool) string {
	if allow {
		return "allows"
	}
	return "denies"
}

// cut splits ranges into the parts outside span and the parts inside.
func cut(ranges []Ports, span Ports) (outside, inside []Ports) {
	for _, p := range ranges {
		lo, hi := max(p.From, span.From), min(p.To, span.To)
		if lo > hi {
			outside = append(outside, p)
			continue
		}
		inside = append(inside, Ports{lo, hi})
		if p.From < lo {
			outside = append(outside, Ports{p.From, lo - 1})
		}
		if hi < p.To {
			outside = append(outside, Ports{hi + 1, p.To})
		}
	}
	return outside, inside
}

// withoutAdmin drops single admin ports from a list of refused ranges.
func withoutAdmin(ranges []Ports) []Ports {
	var out []Ports
	for _, p := range ranges {
		if p.From == p.To && isAdmin(p.From) {
			continue
		}
		out = append(out, p)
	}
	return out
}

func isAdmin(port int) bool {
	for _, a := range AdminPorts {
		if a == port {
			return true
		}
	}
	return false
}

// hostIn is a usable address of a subnet: AWS reserves the first four and
// the last, so i wraps within the rest.
func hostIn(p netip.Prefix, i int) netip.Addr {
	size := 1 << min(32-p.Bits(), 16)
	a := p.Masked().Addr()
	if size > 5 {
		i = 4 + i%(size-5)
	}
	for range i {
		a = a.Next()
	}
	return a
}

func (p Ports) String() string {
	if p.From == p.To {
		return fmt.Sprint(p.From)
	}
	return fmt.Sprintf("%d-%d", p.From, p.To)
}
