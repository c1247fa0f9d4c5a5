package naming

import "testing"

func TestFitKeepsShortNames(t *testing.T) {
	if got := Fit("acme-dev-public", 32); got != "acme-dev-public" {
		t.Errorf("got %q", got)
	}
}

func TestFitShortensLongNamesStablyAndDistinctly(t *testing.T) {
	a := Fit("acme-shared-services-internal-alb", 32)
	b := Fit("acme-shared-services-internal-alc", 32)
	if len(a) != 32 || a == b || a != Fit("acme-shared-services-internal-alb", 32) {
		t.Errorf("Fit gave %q and %q", a, b)
	}
}
