// Package cidr does the IPv4 address arithmetic for VPC layouts: carving
// subnets out of a VPC range and detecting overlaps. It is pure Go so that
// every CIDR in the synthesized output is a literal, never a Terraform call.
package cidr

import (
	"fmt"
	"net/netip"
	"sort"
)

// Parse parses an IPv4 CIDR and insists that it is written in canonical
// form (no host bits set), because a range like 10.0.0.1/16 is almost always
// a typo for 10.0.0.0/16.
func Parse(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("%q is not an IPv4 CIDR", s)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("%q has host bits set; the range starts at %s", s, p.Masked())
	}
	return p, nil
}

// Overlaps reports whether two prefixes share any address.
func Overlaps(a, b netip.Prefix) bool { return a.Overlaps(b) }

// Size returns the number of addresses in a prefix of length bits.
func Size(bits int) uint64 { return 1 << (32 - bits) }

// Allocate carves one subnet per requested prefix length out of parent.
// Larger subnets are placed first so that every subnet is aligned without
// gaps; the result is in request order. Equal sizes keep request order, so the
// layout is a pure function of its input.
func Allocate(parent netip.Prefix, lengths []int) ([]netip.Prefix, error) {
	order := make([]int, len(lengths))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return lengths[order[a]] < lengths[order[b]] })

	out := make([]netip.Prefix, len(lengths))
	next := uint64(toUint(parent.Addr()))
	end := next + Size(parent.Bits())
	for _, i := range order {
		bits := lengths[i]
		if bits < parent.Bits() || bits > 32 {
			return nil, fmt.Errorf("a /%d subnet cannot fit in %s", bits, parent)
		}
		if next+Size(bits) > end {
			return nil, fmt.Errorf("%s has %d addresses but the subnets need %d", parent, Size(parent.Bits()), Need(lengths))
		}
		out[i] = netip.PrefixFrom(fromUint(uint32(next)), bits)
		next += Size(bits)
	}
	return out, nil
}

// Need returns the number of addresses that subnets of the given lengths take.
func Need(lengths []int) uint64 {
	var n uint64
	for _, l := range lengths {
		n += Size(l)
	}
	return n
}

func toUint(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func fromUint(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Layout carves azCount subnets for each tier, where tierLengths gives each
// tier's prefix length. The result is indexed [tier][az]. Config validation
// and the network construct both call it, so a config that validates always
// lays out exactly as it synthesizes.
func Layout(parent netip.Prefix, azCount int, tierLengths []int) ([][]netip.Prefix, error) {
	var lengths []int
	for _, l := range tierLengths {
		for range azCount {
			lengths = append(lengths, l)
		}
	}
	flat, err := Allocate(parent, lengths)
	if err != nil {
		return nil, err
	}
	out := make([][]netip.Prefix, len(tierLengths))
	for t := range tierLengths {
		out[t] = flat[t*azCount : (t+1)*azCount]
	}
	return out, nil
}
