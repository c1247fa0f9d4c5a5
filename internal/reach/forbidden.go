package reach

import (
	"sort"
	"strings"
)

// probePorts are what the internet tries on every public address: admin
// ports, web ports, every service and data store port, the VPN port on
// both protocols and DNS.
func (p *prover) probePorts() []port {
	seen := map[port]bool{}
	add := func(ps ...port) {
		for _, x := range ps {
			seen[x] = true
		}
	}
	add(tcp(22), tcp(3389), tcp(80), tcp(443), tcp(6379), tcp(5432), tcp(3306), port{"udp", 53}, tcp(53))
	if sh := p.cfg.Accounts[p.shared]; sh != nil && sh.VPN != nil {
		add(port{"udp", sh.VPN.Port}, tcp(sh.VPN.Port))
	}
	for _, e := range p.envs {
		for _, s := range e.acct.Services {
			add(tcp(s.Port))
		}
	}
	var out []port
	for x := range seen {
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].proto != out[j].proto {
			return out[i].proto < out[j].proto
		}
		return out[i].n < out[j].n
	})
	return out
}

// forbidden are the flows that must not exist.
func (p *prover) forbidden() {
	p.internetProbes()
	p.betweenApps()
	p.persistenceOffline()
	p.adminPorts()
}

// internetProbes: from the internet, only the public load balancers' 80 and
// 443 (with a listener) and the VPN port answer; private nodes have no
// public address at all.
func (p *prover) internetProbes() {
	probe := func(stacks []string, nd *Node, open map[port]bool) {
		if nd == nil {
			return
		}
		var others []port
		for _, pt := range p.probePorts() {
			if !open[pt] {
				others = append(others, pt)
			}
		}
		got, detail := false, "every probed port is refused"
		for _, pt := range others {
			ok, d := p.n.anyReachable([]Endpoint{Internet}, nd.Endpoints(), []port{pt})
			if ok && nd.Res.Type == "aws_lb" && !hasListener(p.n, nd.Res, pt.n) {
				continue // the load balancer has nothing on that port
			}
			if ok {
				got, detail = true, d
				break
			}
		}
		p.add(Flow{Stacks: stacks, From: "the internet", To: nd.Label, Ports: "all but " + openList(open), Want: false, Got: got, Detail: detail})
	}
	if sh := p.cfg.Accounts[p.shared]; p.vpn != nil && sh.VPN != nil {
		probe([]string{p.shared}, p.vpn, map[port]bool{{"udp", sh.VPN.Port}: true})
	}
	for _, e := range p.envs {
		if len(e.problems) > 0 {
			continue
		}
		probe([]string{e.name}, e.public, map[port]bool{tcp(80): true, tcp(443): true})
		private := []*Node{e.internal, e.hosts, e.db, e.cache}
		for _, svc := range e.acct.ServiceNames() {
			private = append(private, e.services[svc])
		}
		got, detail := p.n.anyReachable([]Endpoint{Internet}, endpoints(private...), p.probePorts())
		p.add(Flow{Stacks: []string{e.name}, From: "the internet", To: e.name + " private nodes (internal ALB, hosts, tasks, Aurora, Redis)", Ports: "all probed", Want: false, Got: got, Detail: detail})
	}
}

func openList(open map[port]bool) string {
	var out []string
	for pt := range open {
		out = append(out, pt.String())
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// subnetsOf lists a VPC's subnets in name order.
func (p *prover) subnetsOf(v *VPC) []*Subnet {
	var out []*Subnet
	for _, s := range p.n.Subnets {
		if s.VPC == v {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

func probes(subnets []*Subnet, public bool) []Endpoint {
	var out []Endpoint
	for _, s := range subnets {
		out = append(out, Probe(s, public))
	}
	return out
}

// betweenApps: no host of one app VPC reaches any of another's, whatever
// its security groups say (routing and ACLs alone must stop it).
func (p *prover) betweenApps() {
	ports := []port{tcp(22), tcp(443), tcp(3306), tcp(5432), tcp(6379), tcp(8080)}
	for _, a := range p.envs {
		for _, b := range p.envs {
			if a == b || a.vpc == nil || b.vpc == nil {
				continue
			}
			got, d := p.n.anyReachable(probes(p.subnetsOf(a.vpc), false), probes(p.subnetsOf(b.vpc), false), ports)
			p.add(Flow{Stacks: []string{a.name, b.name}, From: "any host in " + a.name, To: "any host in " + b.name, Ports: portList(ports), Want: false, Got: got, Detail: d})
		}
	}
}

// persistenceOffline: the persistence tier has no internet path either way,
// even for a host that had a public address.
func (p *prover) persistenceOffline() {
	vpcs := map[string]*VPC{}
	for _, e := range p.envs {
		vpcs[e.name] = e.vpc
	}
	for _, v := range p.n.VPCs {
		if v.Res.Stack == p.shared {
			vpcs[p.shared] = v
		}
	}
	names := make([]string, 0, len(vpcs))
	for name := range vpcs {
		names = append(names, name)
	}
	sort.Strings(names)
	ports := []port{tcp(80), tcp(443)}
	for _, name := range names {
		var tier []*Subnet
		for _, s := range p.subnetsOf(vpcs[name]) {
			if tierOf(s) == "private-persistence" {
				tier = append(tier, s)
			}
		}
		out, d1 := p.n.anyReachable(probes(tier, true), []Endpoint{Internet}, ports)
		in, d2 := p.n.anyReachable([]Endpoint{Internet}, probes(tier, true), ports)
		detail := d1
		if in {
			detail = d2
		}
		if len(tier) == 0 {
			detail = "no private-persistence subnets found"
		}
		p.add(Flow{Stacks: []string{name}, From: name + " persistence tier", To: "the internet, either way", Ports: portList(ports), Want: false, Got: out || in || len(tier) == 0, Detail: detail})
	}
}

// tierOf reads a subnet's Tier tag.
func tierOf(s *Subnet) string {
	tags, _ := s.Res.Attrs["tags"].(map[string]any)
	return str(tags["Tier"])
}

// adminPorts: CIS 5.1, no network ACL admits SSH or RDP from 0.0.0.0/0.
func (p *prover) adminPorts() {
	for _, stack := range p.n.Stacks.Names() {
		acls := p.n.Stacks.OfType(stack, "aws_network_acl")
		if len(acls) == 0 {
			continue
		}
		var open []string
		for _, r := range acls {
			acl := &ACL{Res: r, Ingress: aclRules(r.Attrs["ingress"])}
			s := &Subnet{Res: r, ACL: acl}
			for _, admin := range AdminPorts {
				var t Trace
				t.aclIn(s, Internet, "tcp", admin)
				if t.OK() {
					open = append(open, t[0].Why+" ("+t[0].Where+")")
				}
			}
		}
		got, detail := len(open) > 0, "every network ACL refuses them from the internet"
		if got {
			detail = strings.Join(open, "; ")
		}
		ports := []port{tcp(AdminPorts[0]), tcp(AdminPorts[1])}
		p.add(Flow{Stacks: []string{stack}, From: "the internet", To: "network ACLs of " + stack, Ports: portList(ports), Want: false, Got: got, Detail: detail})
	}
}
