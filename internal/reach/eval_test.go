package reach

import (
	"net/netip"
	"strings"
	"testing"
)

func acl(rules ...ACLRule) *ACL {
	return &ACL{Res: &Resource{Stack: "s", Addr: "aws_network_acl.x"}, Ingress: rules, Egress: rules}
}

func rule(no int, allow bool, proto string, from, to int, cidr string) ACLRule {
	return ACLRule{No: no, Allow: allow, Protocol: proto, From: from, To: to, CIDR: netip.MustParsePrefix(cidr)}
}

func subnetWith(a *ACL) *Subnet {
	return &Subnet{Res: &Resource{Stack: "s", Addr: "aws_subnet.x"}, CIDR: netip.MustParsePrefix("10.0.0.0/24"), ACL: a}
}

// Network ACLs: first match by rule number wins, explicit denies count, and
// nothing matched is refused.
func TestACLFirstMatchWins(t *testing.T) {
	peer := Outside("peer", "198.51.100.1")
	cases := []struct {
		name string
		acl  *ACL
		port int
		want bool
	}{
		{"allow", acl(rule(100, true, "tcp", 443, 443, "0.0.0.0/0")), 443, true},
		{"implicit deny", acl(rule(100, true, "tcp", 443, 443, "0.0.0.0/0")), 80, false},
		{"deny before allow", acl(rule(100, false, "tcp", 22, 22, "0.0.0.0/0"), rule(110, true, "-1", 0, 0, "0.0.0.0/0")), 22, false},
		{"allow before deny", acl(rule(90, true, "tcp", 22, 22, "0.0.0.0/0"), rule(100, false, "tcp", 22, 22, "0.0.0.0/0")), 22, true},
		{"other range", acl(rule(100, true, "tcp", 22, 22, "10.0.0.0/8")), 22, false},
		{"no ACL: the default allows", nil, 22, true},
	}
	for _, c := range cases {
		var tr Trace
		tr.aclIn(subnetWith(c.acl), peer, "tcp", c.port)
		if tr.OK() != c.want {
			t.Errorf("%s: admitted=%v, want %v (%v)", c.name, tr.OK(), c.want, tr)
		}
	}
}

// The reply range must be admitted whole, except the admin ports that CIS
// 5.1 carves out.
func TestACLReplyRange(t *testing.T) {
	peer := Outside("peer", "198.51.100.1")
	cases := []struct {
		name string
		acl  *ACL
		want bool
	}{
		{"whole range", acl(rule(100, true, "tcp", 1024, 65535, "0.0.0.0/0")), true},
		{"admin carve-out", acl(rule(90, false, "tcp", 3389, 3389, "0.0.0.0/0"), rule(100, true, "tcp", 1024, 65535, "0.0.0.0/0")), true},
		{"half the range", acl(rule(100, true, "tcp", 1024, 32767, "0.0.0.0/0")), false},
		{"a wider deny", acl(rule(90, false, "tcp", 40000, 40100, "0.0.0.0/0"), rule(100, true, "tcp", 1024, 65535, "0.0.0.0/0")), false},
		{"udp only", acl(rule(100, true, "udp", 1024, 65535, "0.0.0.0/0")), false},
	}
	for _, c := range cases {
		var tr Trace
		tr.aclReturnIn(subnetWith(c.acl), peer, "tcp", AnyEphemeral)
		if tr.OK() != c.want {
			t.Errorf("%s: admitted=%v, want %v (%v)", c.name, tr.OK(), c.want, tr)
		}
	}
}

func TestLongestPrefixWins(t *testing.T) {
	rt := &RouteTable{Routes: []Route{
		{Dest: netip.MustParsePrefix("0.0.0.0/0"), Kind: ToNAT},
		{Dest: netip.MustParsePrefix("10.0.0.0/16"), Kind: ToLocal},
		{Dest: netip.MustParsePrefix("10.0.5.0/24"), Kind: ToPeering},
	}}
	for ip, want := range map[string]string{"10.0.5.9": ToPeering, "10.0.6.9": ToLocal, "8.8.8.8": ToNAT} {
		if r, _ := rt.Lookup(netip.MustParseAddr(ip)); r.Kind != want {
			t.Errorf("%s: %s, want %s", ip, r.Kind, want)
		}
	}
}

func TestHostStaysInsideItsSubnet(t *testing.T) {
	for _, c := range []string{"192.168.0.0/28", "10.0.0.0/24", "10.0.0.0/16"} {
		p := netip.MustParsePrefix(c)
		for i := range 100 {
			a := hostIn(p, i)
			if !p.Contains(a) || a == p.Addr() {
				t.Fatalf("hostIn(%s, %d) = %s", c, i, a)
			}
		}
	}
}

// A security group admits a referenced group's members, not others.
func TestSecurityGroupReferences(t *testing.T) {
	db := &SG{Res: &Resource{Stack: "s", Addr: "aws_security_group.db", Attrs: map[string]any{"name": "db"}}}
	app := &SG{Res: &Resource{Stack: "s", Addr: "aws_security_group.app", Attrs: map[string]any{"name": "app"}}}
	other := &SG{Res: &Resource{Stack: "s", Addr: "aws_security_group.other", Attrs: map[string]any{"name": "other"}}}
	db.Ingress = []SGRule{{Res: db.Res, Protocol: "tcp", From: 5432, To: 5432, Group: app}}
	for _, c := range []struct {
		from *SG
		want bool
	}{{app, true}, {other, false}} {
		var tr Trace
		tr.sgCheck("ingress", []*SG{db}, false, Endpoint{Label: "x", IP: netip.MustParseAddr("10.0.0.9"), SGs: []*SG{c.from}}, "tcp", 5432)
		if tr.OK() != c.want {
			t.Errorf("from %s: admitted=%v, want %v", c.from.Name(), tr.OK(), c.want)
		}
	}
}

// A data source resolves to the one resource it selects, or to nothing.
func TestDataSourcesResolveByTags(t *testing.T) {
	s, err := Parse(map[string][]byte{
		"a": []byte(`{"resource":{"aws_vpc":{"v":{"cidr_block":"10.0.0.0/16","tags":{"Name":"mgmt"}}}}}`),
		"b": []byte(`{"data":{"aws_vpc":{"peer":{"cidr_block":"10.0.0.0/16","filter":[{"name":"tag:Name","values":["mgmt","x"]}]},
			"none":{"cidr_block":"10.9.0.0/16","filter":[{"name":"tag:Name","values":["mgmt"]}]}}},
			"resource":{"aws_route":{"r":{"x":"${data.aws_vpc.peer.id}","y":"${data.aws_vpc.none.id}"}}}}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := s.OfType("b", "aws_route")[0]
	if got := s.Ref("b", r.Attrs["x"]); got == nil || !strings.HasPrefix(got.Where(), "a: aws_vpc.v") {
		t.Errorf("the lookup resolved to %v", got.Where())
	}
	if got := s.Ref("b", r.Attrs["y"]); got != nil {
		t.Errorf("a lookup that matches nothing resolved to %s", got.Where())
	}
}
