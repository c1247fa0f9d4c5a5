package config

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the loader. It must never panic; it
// either returns a config whose names cannot inject Terraform syntax and
// whose CIDRs parse, or a *Problems where every problem names a key.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("../../__tests__/testdata/bad-configs/*.yaml")
	fixtures, _ := filepath.Glob("../../__tests__/testdata/configs/*.yaml")
	seeds = append(seeds, fixtures...)
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data)
		if err != nil {
			var ps *Problems
			if !errors.As(err, &ps) || len(ps.List) == 0 {
				t.Fatalf("error is not a non-empty *Problems: %v", err)
			}
			for _, p := range ps.List {
				if p.Path == "" {
					t.Fatalf("problem without a key path: %q", p)
				}
			}
			return
		}
		for name, a := range cfg.Accounts {
			for _, s := range []string{name, a.ID, a.DeployRole, cfg.NamePrefix, cfg.Domain, cfg.SourceRepo} {
				if strings.Contains(s, "${") || strings.ContainsAny(s, "\"\n") {
					t.Fatalf("accepted an injectable value %q", s)
				}
			}
			if a.VPC != nil {
				if _, err := netip.ParsePrefix(a.VPC.CIDR); err != nil {
					t.Fatalf("accepted CIDR %q", a.VPC.CIDR)
				}
			}
		}
	})
}
