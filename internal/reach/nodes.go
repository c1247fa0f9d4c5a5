package reach

import (
	"net/netip"
)

// Node is something with network interfaces: a load balancer, an ECS
// service's tasks, an Auto Scaling group's instances, a database or cache.
// It has one interface in each of its subnets.
type Node struct {
	Label     string
	Res       *Resource
	Subnets   []*Subnet
	SGs       []*SG
	Public    bool
	Ephemeral Ports
	// index spreads the node's addresses apart from other nodes'.
	index int
}

// Endpoints are the node's interfaces, one per subnet.
func (nd *Node) Endpoints() []Endpoint {
	var out []Endpoint
	for _, s := range nd.Subnets {
		out = append(out, Endpoint{Label: nd.Label, Subnet: s, IP: hostIn(s.CIDR, 10+nd.index), SGs: nd.SGs, Public: nd.Public, Ephemeral: nd.Ephemeral})
	}
	return out
}

func (n *Network) node(label string, r *Resource, subnets, sgs any, public bool, eph Ports) *Node {
	n.nodes++
	nd := &Node{Label: label, Res: r, Public: public, Ephemeral: eph, index: n.nodes % 200}
	for _, s := range n.Stacks.Refs(r.Stack, subnets) {
		if sn := n.Subnets[s]; sn != nil {
			nd.Subnets = append(nd.Subnets, sn)
		}
	}
	for _, g := range n.Stacks.Refs(r.Stack, sgs) {
		if sg := n.SGs[g]; sg != nil {
			nd.SGs = append(nd.SGs, sg)
		}
	}
	return nd
}

// LoadBalancer reads an aws_lb.
func (n *Network) LoadBalancer(label string, r *Resource) *Node {
	return n.node(label, r, r.Attrs["subnets"], r.Attrs["security_groups"], r.Attrs["internal"] != true, AnyEphemeral)
}

// Service reads an aws_ecs_service's task interfaces (awsvpc mode).
func (n *Network) Service(label string, r *Resource) *Node {
	nc := first(r.Attrs["network_configuration"])
	return n.node(label, r, nc["subnets"], nc["security_groups"], nc["assign_public_ip"] == true, LinuxEphemeral)
}

// Group reads an aws_autoscaling_group's instances through its launch
// template: security groups on the template or on its first interface.
func (n *Network) Group(label string, r *Resource) *Node {
	lt := n.Stacks.Ref(r.Stack, first(r.Attrs["launch_template"])["id"])
	if lt == nil {
		return &Node{Label: label, Res: r}
	}
	sgs, public := lt.Attrs["vpc_security_group_ids"], false
	if ni := first(lt.Attrs["network_interfaces"]); ni != nil {
		if ni["security_groups"] != nil {
			sgs = ni["security_groups"]
		}
		public = ni["associate_public_ip_address"] == "true" || ni["associate_public_ip_address"] == true
	}
	return n.node(label, r, r.Attrs["vpc_zone_identifier"], sgs, public, LinuxEphemeral)
}

// Database reads an aws_rds_cluster through its subnet group.
func (n *Network) Database(label string, r *Resource) *Node {
	g := n.byName(r.Stack, "aws_db_subnet_group", r.Attrs["db_subnet_group_name"])
	return n.node(label, r, attr(g, "subnet_ids"), r.Attrs["vpc_security_group_ids"], r.Attrs["publicly_accessible"] == true, LinuxEphemeral)
}

// Cache reads an aws_elasticache_replication_group through its subnet group.
func (n *Network) Cache(label string, r *Resource) *Node {
	g := n.byName(r.Stack, "aws_elasticache_subnet_group", r.Attrs["subnet_group_name"])
	return n.node(label, r, attr(g, "subnet_ids"), r.Attrs["security_group_ids"], false, LinuxEphemeral)
}

// byName resolves a reference that names a resource (a subnet group by
// its name attribute, or a literal name).
func (n *Network) byName(stack, typ string, v any) *Resource {
	if r := n.Stacks.Ref(stack, v); r != nil {
		return r
	}
	for _, r := range n.Stacks.OfType(stack, typ) {
		if r.Attrs["name"] == v {
			return r
		}
	}
	return nil
}

func attr(r *Resource, key string) any {
	if r == nil {
		return nil
	}
	return r.Attrs[key]
}

func first(v any) map[string]any {
	if b := blocks(v); len(b) > 0 {
		return b[0]
	}
	return nil
}

// Outside is an address outside every VPC.
func Outside(label, ip string) Endpoint {
	return Endpoint{Label: label, IP: netip.MustParseAddr(ip), AnySG: true, Ephemeral: AnyEphemeral}
}

// The outside addresses the model sends from and to; documentation ranges,
// so no real address is ever meant.
var (
	Internet = Outside("the internet", "198.51.100.7")
	AWSAPI   = Outside("AWS APIs and registries (public endpoints)", "198.51.100.200")
	S3       = Endpoint{Label: "S3 (image layers, through the gateway endpoint)", IP: ServicePrefix("s3").Addr().Next(), AnySG: true, Ephemeral: AnyEphemeral}
)

// Probe is an interface in a subnet that skips security groups: it asks
// whether routing and ACLs alone let a packet through.
func Probe(s *Subnet, public bool) Endpoint {
	return Endpoint{Label: "any host in " + s.Name(), Subnet: s, IP: hostIn(s.CIDR, 9), AnySG: true, Public: public, Ephemeral: AnyEphemeral}
}
