package reach

import (
	"encoding/base64"
	"fmt"
	"net"
	"strings"

	"github.com/acme/landing-zone/internal/config"
)

// env is one app environment as the model found it in its stack.
type env struct {
	name             string
	acct             *config.Account
	vpc              *VPC
	public, internal *Node
	hosts            *Node
	db, cache        *Node
	dbPort           int
	services         map[string]*Node
	serviceRes       map[string]*Resource
	problems         []string
}

// Prove derives every intended and forbidden flow from the config and
// evaluates it over the synthesized stacks.
func Prove(s *Stacks, cfg *config.Config) []Flow {
	n := Build(s)
	p := &prover{n: n, cfg: cfg}
	for _, name := range cfg.AccountNames() {
		if cfg.Accounts[name].Kind == config.KindApp {
			p.envs = append(p.envs, p.readEnv(name))
		}
	}
	p.readVPN()
	for _, e := range p.envs {
		p.appFlows(e)
	}
	p.vpnFlows()
	p.forbidden()
	return p.flows
}

type prover struct {
	n      *Network
	cfg    *config.Config
	envs   []*env
	shared string
	vpn    *Node
	// vpnScript is the VPN server's decoded user data.
	vpnScript string
	flows     []Flow
}

func (p *prover) add(f Flow) { p.flows = append(p.flows, f) }

// one finds the single resource of a type in a stack that matches keep.
func (p *prover) one(stack, typ, what string, keep func(*Resource) bool, problems *[]string) *Resource {
	var found []*Resource
	for _, r := range p.n.Stacks.OfType(stack, typ) {
		if keep == nil || keep(r) {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		*problems = append(*problems, fmt.Sprintf("%s: want one %s (%s), found %d", stack, what, typ, len(found)))
		return nil
	}
	return found[0]
}

func (p *prover) readEnv(name string) *env {
	e := &env{name: name, acct: p.cfg.Accounts[name], services: map[string]*Node{}, serviceRes: map[string]*Resource{}}
	n := p.n
	if v := p.one(name, "aws_vpc", "VPC", nil, &e.problems); v != nil {
		e.vpc = n.VPCs[v]
	}
	lb := func(internal bool) func(*Resource) bool {
		return func(r *Resource) bool { return (r.Attrs["internal"] == true) == internal }
	}
	if r := p.one(name, "aws_lb", "internet-facing load balancer", lb(false), &e.problems); r != nil {
		e.public = n.LoadBalancer(name+" public ALB", r)
	}
	if r := p.one(name, "aws_lb", "internal load balancer", lb(true), &e.problems); r != nil {
		e.internal = n.LoadBalancer(name+" internal ALB", r)
	}
	if r := p.one(name, "aws_autoscaling_group", "ECS host group", nil, &e.problems); r != nil {
		e.hosts = n.Group(name+" ECS hosts", r)
	}
	// The data stores exist only where the config enables them (a
	// service uses them, or database/cache.enabled); where it does not,
	// the stack must have none.
	if !e.acct.DatabaseEnabled() {
		p.none(name, "aws_rds_cluster", "Aurora cluster (database.enabled is false)", &e.problems)
	} else if r := p.one(name, "aws_rds_cluster", "Aurora cluster", nil, &e.problems); r != nil {
		e.db, e.dbPort = n.Database(name+" Aurora", r), dbPort(r)
	}
	if !e.acct.CacheEnabled() {
		p.none(name, "aws_elasticache_replication_group", "Redis group (cache.enabled is false)", &e.problems)
	} else if r := p.one(name, "aws_elasticache_replication_group", "Redis group", nil, &e.problems); r != nil {
		e.cache = n.Cache(name+" Redis", r)
	}
	for _, svc := range e.acct.ServiceNames() {
		full := p.cfg.NamePrefix + "-" + name + "-" + svc
		if r := p.one(name, "aws_ecs_service", "ECS service named "+full, func(r *Resource) bool { return r.Attrs["name"] == full }, &e.problems); r != nil {
			e.services[svc], e.serviceRes[svc] = n.Service(name+" "+svc+" tasks", r), r
		}
	}
	return e
}

// none records a problem when a stack has a resource of a type it must not.
func (p *prover) none(stack, typ, what string, problems *[]string) {
	if n := len(p.n.Stacks.OfType(stack, typ)); n > 0 {
		*problems = append(*problems, fmt.Sprintf("%s: want no %s (%s), found %d", stack, what, typ, n))
	}
}

// dbPort is the cluster's port, or its engine's default.
func dbPort(r *Resource) int {
	if p := num(r.Attrs["port"]); p != 0 {
		return p
	}
	if strings.Contains(str(r.Attrs["engine"]), "mysql") {
		return 3306
	}
	return 5432
}

// cachePort is the group's port (Redis' default 6379).
func cachePort(e *env) int {
	if e.cache != nil {
		if p := num(e.cache.Res.Attrs["port"]); p != 0 {
			return p
		}
	}
	return 6379
}

func (p *prover) readVPN() {
	name, _ := p.cfg.AccountOfKind(config.KindShared)
	p.shared = name
	var problems []string
	r := p.one(name, "aws_autoscaling_group", "VPN server group with a public address", func(r *Resource) bool {
		return p.n.Group("", r).Public
	}, &problems)
	if r == nil {
		return
	}
	p.vpn = p.n.Group("VPN server", r)
	lt := p.n.Stacks.Ref(r.Stack, first(r.Attrs["launch_template"])["id"])
	b, _ := base64.StdEncoding.DecodeString(str(attr(lt, "user_data")))
	p.vpnScript = string(b)
}

func (p *prover) flow(e *env, from, to string, ports []port, want bool, ok bool, detail string) {
	stacks := []string{e.name}
	if strings.Contains(from, "VPN") {
		stacks = append(stacks, p.shared)
	}
	p.add(Flow{Stacks: stacks, From: from, To: to, Ports: portList(ports), Want: want, Got: ok, Detail: detail})
}

// appFlows are one environment's intended flows: the internet to its
// public load balancer, each load balancer to its services, services to
// their data stores and to AWS, hosts to AWS.
func (p *prover) appFlows(e *env) {
	if len(e.problems) > 0 {
		p.flow(e, e.name+" stack", "its network", nil, true, false, strings.Join(e.problems, "; "))
		return
	}
	for _, pt := range []port{tcp(80), tcp(443)} {
		ok, d := p.n.reachable([]Endpoint{Internet}, e.public.Endpoints(), []port{pt})
		if ok && !hasListener(p.n, e.public.Res, pt.n) {
			ok, d = false, "no listener on "+pt.String()+" of "+e.public.Res.Where()
		}
		p.flow(e, "the internet", e.public.Label, []port{pt}, true, ok, d)
	}
	for _, svc := range e.acct.ServiceNames() {
		s := e.acct.Services[svc]
		task := e.services[svc]
		lb := e.public
		if s.LoadBalancer == config.LBInternal {
			lb = e.internal
		}
		ok, d := false, ""
		if why := forwards(p.n, lb.Res, e.serviceRes[svc], s.Port); why != "" {
			d = why
		} else {
			ok, d = p.n.reachable(lb.Endpoints(), task.Endpoints(), []port{tcp(s.Port)})
		}
		p.flow(e, lb.Label, task.Label, []port{tcp(s.Port)}, true, ok, d)
		p.dataFlows(e, task, s.UseDatabase, s.UseCache)
		p.awsFlows(e, task)
	}
	p.awsFlows(e, e.hosts)
}

// dataFlows: a service reaches the data stores it uses, and only those.
func (p *prover) dataFlows(e *env, task *Node, db, cache bool) {
	for _, d := range []struct {
		node *Node
		port int
		want bool
	}{{e.db, e.dbPort, db}, {e.cache, cachePort(e), cache}} {
		if d.node == nil {
			continue // not made: nothing to reach (validation keeps users of it out)
		}
		ports := []port{tcp(d.port)}
		ok, detail := p.check(task.Endpoints(), d.node.Endpoints(), ports, d.want)
		p.flow(e, task.Label, d.node.Label, ports, d.want, ok, detail)
	}
}

// check runs reachable for intended flows and anyReachable for forbidden
// ones, so a forbidden flow fails on its first admitted packet.
func (p *prover) check(srcs, dsts []Endpoint, ports []port, want bool) (bool, string) {
	if want {
		return p.n.reachable(srcs, dsts, ports)
	}
	return p.n.anyReachable(srcs, dsts, ports)
}

// awsFlows: tasks and hosts reach AWS APIs and registries on 443 through
// NAT, and S3 (image layers) through the gateway endpoint.
func (p *prover) awsFlows(e *env, nd *Node) {
	for _, dst := range []Endpoint{AWSAPI, S3} {
		ok, d := p.n.reachable(nd.Endpoints(), []Endpoint{dst}, []port{tcp(443)})
		p.flow(e, nd.Label, dst.Label, []port{tcp(443)}, true, ok, d)
	}
}

// vpnFlows: clients reach the server on the VPN port; through it (source
// NAT to the server's address) each environment's internal load balancer,
// and its data stores where the environment opts in.
func (p *prover) vpnFlows() {
	sh := p.cfg.Accounts[p.shared]
	client := clientIn(sh.VPN.AllowedCIDRs)
	vpnPort := []port{{"udp", sh.VPN.Port}}
	ok, d := false, "no VPN server group with a public address in "+p.shared
	if p.vpn != nil {
		ok, d = p.n.reachable([]Endpoint{client}, p.vpn.Endpoints(), vpnPort)
	}
	p.add(Flow{Stacks: []string{p.shared}, From: client.Label, To: "VPN server", Ports: portList(vpnPort), Want: true, Got: ok, Detail: d})
	if !ok {
		return
	}
	for _, e := range p.envs {
		if len(e.problems) > 0 {
			continue
		}
		from := "VPN clients (" + sh.VPN.ClientCIDR + ")"
		targets := []struct {
			node *Node
			port int
			want bool
		}{{e.internal, 443, true}, {e.db, e.dbPort, e.acct.DataOverVPN()}, {e.cache, cachePort(e), e.acct.DataOverVPN()}}
		for _, t := range targets {
			if t.node == nil {
				continue // a data store the environment does not have
			}
			ports := []port{tcp(t.port)}
			ok, d := p.check(p.vpn.Endpoints(), t.node.Endpoints(), ports, t.want)
			if why := p.forwardsClients(sh.VPN.ClientCIDR, e.vpc); ok && why != "" {
				ok, d = false, why
			}
			p.flow(e, from, t.node.Label, ports, t.want, ok, d)
		}
	}
}

// forwardsClients checks the server's rendered user data: it pushes a
// route to the VPC, forwards packets and hides clients behind its own
// address (the VPCs route only the server's subnets back).
func (p *prover) forwardsClients(clientCIDR string, v *VPC) string {
	s := p.vpnScript
	_, ipnet, _ := net.ParseCIDR(v.CIDR.String())
	push := fmt.Sprintf(`push "route %s %s"`, ipnet.IP, net.IP(ipnet.Mask))
	for _, want := range []string{push, "net.ipv4.ip_forward = 1", "-s " + clientCIDR, "MASQUERADE"} {
		if !strings.Contains(s, want) {
			return fmt.Sprintf("the VPN server's user data lacks %q", want)
		}
	}
	return ""
}

// forwards checks the load balancer hop: an HTTPS listener of lb has a
// rule that forwards to a target group of svc, on the service's port.
func forwards(n *Network, lb, svc *Resource, want int) string {
	if lb == nil || svc == nil {
		return "no load balancer or service"
	}
	for _, b := range blocks(svc.Attrs["load_balancer"]) {
		tg := n.Stacks.Ref(svc.Stack, b["target_group_arn"])
		if tg == nil || num(b["container_port"]) != want || num(tg.Attrs["port"]) != want {
			continue
		}
		for _, rule := range n.Stacks.OfType(svc.Stack, "aws_lb_listener_rule") {
			l := n.Stacks.Ref(rule.Stack, rule.Attrs["listener_arn"])
			if l == nil || n.Stacks.Ref(l.Stack, l.Attrs["load_balancer_arn"]) != lb || num(l.Attrs["port"]) != 443 {
				continue
			}
			for _, a := range blocks(rule.Attrs["action"]) {
				if str(a["type"]) == "forward" && n.Stacks.Ref(rule.Stack, a["target_group_arn"]) == tg {
					return ""
				}
			}
		}
	}
	return fmt.Sprintf("no HTTPS listener rule of %s forwards to a target group of %s on port %d", lb.Where(), svc.Where(), want)
}

func hasListener(n *Network, lb *Resource, port int) bool {
	for _, l := range n.Stacks.OfType(lb.Stack, "aws_lb_listener") {
		if n.Stacks.Ref(l.Stack, l.Attrs["load_balancer_arn"]) == lb && num(l.Attrs["port"]) == port {
			return true
		}
	}
	return false
}
