package cidr

import (
	"net/netip"
	"strings"
	"testing"
)

func TestAllocatePlacesLargestFirstAndKeepsRequestOrder(t *testing.T) {
	got, err := Allocate(netip.MustParsePrefix("10.0.0.0/16"), []int{24, 20, 24, 20})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.32.0/24", "10.0.0.0/20", "10.0.33.0/24", "10.0.16.0/20"}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("subnet %d: got %s, want %s", i, got[i], want[i])
		}
	}
}

func TestAllocatedSubnetsNeverOverlapAndStayInside(t *testing.T) {
	parent := netip.MustParsePrefix("172.16.0.0/20")
	got, err := Allocate(parent, []int{24, 22, 28, 22, 24, 28, 26})
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range got {
		if !parent.Contains(a.Addr()) || a.Masked() != a {
			t.Errorf("%s is not an aligned subnet of %s", a, parent)
		}
		for _, b := range got[i+1:] {
			if Overlaps(a, b) {
				t.Errorf("%s overlaps %s", a, b)
			}
		}
	}
}

func TestAllocateFillsTheRangeExactly(t *testing.T) {
	got, err := Allocate(netip.MustParsePrefix("10.1.0.0/24"), []int{25, 26, 26})
	if err != nil {
		t.Fatal(err)
	}
	if got[2].String() != "10.1.0.192/26" {
		t.Errorf("last subnet = %s, want 10.1.0.192/26", got[2])
	}
}

func TestAllocateRejectsARangeOneAddressTooSmall(t *testing.T) {
	_, err := Allocate(netip.MustParsePrefix("10.1.0.0/24"), []int{25, 26, 26, 28})
	if err == nil || !strings.Contains(err.Error(), "need 272") {
		t.Fatalf("want a 'need 272' error, got %v", err)
	}
}

func TestAllocateRejectsASubnetLargerThanTheParent(t *testing.T) {
	if _, err := Allocate(netip.MustParsePrefix("10.1.0.0/24"), []int{23}); err == nil {
		t.Fatal("want an error for a /23 in a /24")
	}
}

func TestParse(t *testing.T) {
	cases := []struct {
		in, wantErr string
	}{
		{"10.0.0.0/16", ""},
		{"10.0.0.1/16", "host bits"},
		{"10.0.0.0/33", "not an IPv4 CIDR"},
		{"fd00::/8", "not an IPv4 CIDR"},
		{"ten/8", "not an IPv4 CIDR"},
	}
	for _, c := range cases {
		_, err := Parse(c.in)
		if (err == nil) != (c.wantErr == "") || (err != nil && !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("Parse(%q) error = %v, want %q", c.in, err, c.wantErr)
		}
	}
}

func TestOverlaps(t *testing.T) {
	a := netip.MustParsePrefix("10.0.0.0/16")
	if !Overlaps(a, netip.MustParsePrefix("10.0.128.0/17")) {
		t.Error("a range and its sub-range must overlap")
	}
	if Overlaps(a, netip.MustParsePrefix("10.1.0.0/16")) {
		t.Error("adjacent ranges must not overlap")
	}
}

func TestLayoutGroupsSubnetsByTierThenAZ(t *testing.T) {
	got, err := Layout(netip.MustParsePrefix("10.20.0.0/16"), 3, []int{24, 20, 24})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"10.20.48.0/24", "10.20.49.0/24", "10.20.50.0/24"},
		{"10.20.0.0/20", "10.20.16.0/20", "10.20.32.0/20"},
		{"10.20.51.0/24", "10.20.52.0/24", "10.20.53.0/24"},
	}
	for tier := range want {
		for az := range want[tier] {
			if got[tier][az].String() != want[tier][az] {
				t.Errorf("tier %d az %d: got %s, want %s", tier, az, got[tier][az], want[tier][az])
			}
		}
	}
}
