package reach

import (
	"fmt"
	"net/netip"
	"strings"
)

// Flow is one intended or forbidden connection and what the model found.
type Flow struct {
	// Stacks are the stacks whose resources the flow crosses.
	Stacks []string
	From   string
	To     string
	Ports  string
	// Want says the flow must be reachable; false: it must not be.
	Want bool
	Got  bool
	// Detail is the path taken, or what blocks (or wrongly admits) it.
	Detail string
}

// Pass says whether the flow behaves as intended.
func (f Flow) Pass() bool { return f.Want == f.Got }

// Name is "from → to (ports)".
func (f Flow) Name() string { return f.From + " → " + f.To + " (" + f.Ports + ")" }

// port is one protocol and port of a flow.
type port struct {
	proto string
	n     int
}

func (p port) String() string { return fmt.Sprintf("%s %d", p.proto, p.n) }

func tcp(n int) port { return port{"tcp", n} }

func portList(ps []port) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return strings.Join(out, ", ")
}

// reachable asks whether every source interface reaches every destination
// interface on every port. It returns the path kinds of the first pair, or
// the first failure.
func (n *Network) reachable(srcs, dsts []Endpoint, ports []port) (bool, string) {
	if len(srcs) == 0 || len(dsts) == 0 {
		return false, "no interfaces: " + missing(srcs, dsts)
	}
	path := ""
	for _, p := range ports {
		for _, s := range srcs {
			for _, d := range dsts {
				t := n.Send(s, d, p.proto, p.n)
				if h := t.Blocked(); h != nil {
					return false, fmt.Sprintf("%s from %s to %s: %s blocked at %s: %s", p, s.IP, d.IP, h.Step, h.Where, h.Why)
				}
				if path == "" {
					path = routeSummary(t)
				}
			}
		}
	}
	return true, path
}

// anyReachable asks whether any source interface reaches any destination
// interface on any port; it names the rules that admit the first one.
func (n *Network) anyReachable(srcs, dsts []Endpoint, ports []port) (bool, string) {
	blocked := ""
	for _, p := range ports {
		for _, s := range srcs {
			for _, d := range dsts {
				t := n.Send(s, d, p.proto, p.n)
				if t.OK() {
					var by []string
					for _, h := range t.Admitted() {
						by = append(by, h.Step+": "+h.Where)
					}
					return true, fmt.Sprintf("%s from %s to %s admitted by %s", p, s.IP, d.IP, strings.Join(by, "; "))
				}
				if blocked == "" {
					h := t.Blocked()
					blocked = fmt.Sprintf("blocked: %s (%s)", h.Step, h.Why)
				}
			}
		}
	}
	return false, blocked
}

func missing(srcs, dsts []Endpoint) string {
	if len(srcs) == 0 {
		return "the source has none"
	}
	return "the destination has none"
}

// routeSummary names the routes a packet took: "local", "NAT gateway", ...
func routeSummary(t Trace) string {
	var out []string
	for _, h := range t {
		if h.Step == "NAT route" {
			out = append(out, "internet gateway")
		}
		if h.Step == "route" {
			switch {
			case strings.Contains(h.Why, "local"):
				out = append(out, "local route")
			case strings.Contains(h.Why, "peering"):
				out = append(out, "peering")
			default:
				out = append(out, h.Why[strings.LastIndex(h.Why, " by ")+4:])
			}
		}
		if h.Step == "return route" && strings.Contains(h.Why, "internet gateway") {
			out = append(out, "internet gateway")
		}
	}
	if len(out) == 0 {
		return "same subnet"
	}
	return "via " + strings.Join(out, ", then ")
}

// endpoints lists the interfaces of several nodes.
func endpoints(nodes ...*Node) []Endpoint {
	var out []Endpoint
	for _, nd := range nodes {
		if nd != nil {
			out = append(out, nd.Endpoints()...)
		}
	}
	return out
}

// clientIn is an address a VPN client may connect from: the model's
// internet address when the allow-list admits it, else the list's first
// range.
func clientIn(allowed []string) Endpoint {
	e := Internet
	for _, c := range allowed {
		if p, err := netip.ParsePrefix(c); err == nil && p.Contains(Internet.IP) {
			return e
		}
	}
	if len(allowed) > 0 {
		if p, err := netip.ParsePrefix(allowed[0]); err == nil {
			e.IP, e.Label = hostIn(p, 7), "a VPN client at "+allowed[0]
		}
	}
	return e
}
