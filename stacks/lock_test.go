package stacks

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestProviderLockMatchesTheConstraint: terraform init rewrites a lock
// whose constraints differ from the stacks' (and the offline plan then
// fails), so the two must agree, and the locked version must satisfy them.
func TestProviderLockMatchesTheConstraint(t *testing.T) {
	lock := string(ProviderLock)
	constraints := field(t, lock, "constraints")
	if want := normalize(ProviderConstraint); constraints != want {
		t.Fatalf("providers.lock.hcl constraints = %q, want %q (ProviderConstraint %q): run make lock", constraints, want, ProviderConstraint)
	}
	v := version(field(t, lock, "version"))
	lo, hi := bounds(t, ProviderConstraint)
	if less(v, lo) || !less(v, hi) {
		t.Fatalf("locked version %v is outside %s", v, ProviderConstraint)
	}
	if n := strings.Count(lock, `"zh:`); n < 5 {
		t.Fatalf("the lock has %d zh: hashes; every platform's package needs one (make lock)", n)
	}
}

func field(t *testing.T, lock, name string) string {
	m := regexp.MustCompile(`(?m)^\s*` + name + `\s*=\s*"([^"]*)"`).FindStringSubmatch(lock)
	if m == nil {
		t.Fatalf("providers.lock.hcl has no %s", name)
	}
	return m[1]
}

// normalize writes ">= 5.84, < 6.0" the way Terraform records it.
func normalize(c string) string {
	return regexp.MustCompile(`\d+(\.\d+)*`).ReplaceAllStringFunc(c, func(v string) string {
		for strings.Count(v, ".") < 2 {
			v += ".0"
		}
		return v
	})
}

func bounds(t *testing.T, c string) (lo, hi []int) {
	m := regexp.MustCompile(`^>= ([\d.]+), < ([\d.]+)$`).FindStringSubmatch(c)
	if m == nil {
		t.Fatalf("ProviderConstraint %q is not \">= A, < B\"", c)
	}
	return version(m[1]), version(m[2])
}

func version(s string) []int {
	var out []int
	for _, p := range strings.Split(normalize(s), ".") {
		n, _ := strconv.Atoi(p)
		out = append(out, n)
	}
	return out
}

func less(a, b []int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}
