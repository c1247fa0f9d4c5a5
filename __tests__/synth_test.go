// Package tests holds the snapshot, property and integration tests that run
// over whole synthesized stacks. Run them with `make test` (which names
// ./__tests__/... explicitly: `go test ./...` skips folders starting with _).
package tests

import (
	"io"
	"testing"

	"github.com/acme/landing-zone/app/synth"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/stacks"
)

// exampleConfig is the example fixture, a copy of the config.yaml the
// repository ships. Tests that need literal values (names, IDs, ranges)
// start from it; never from ../config.yaml, which a fork rewrites.
const exampleConfig = fixtureDir + "/" + exampleFixture + ".yaml"

// loadExample loads the example fixture afresh: callers may change it.
func loadExample(t testing.TB) *config.Config {
	t.Helper()
	return fixtureConfig(t, exampleFixture).Cfg
}

// synth synthesizes cfg into a fresh directory and returns it. jsii is not
// goroutine-safe, so no test that calls this may run in parallel.
func synthTemp(t testing.TB, cfg *config.Config, opts stacks.Options) string {
	t.Helper()
	return synthInto(t, cfg, opts, t.TempDir())
}

func synthInto(t testing.TB, cfg *config.Config, opts stacks.Options, out string) string {
	t.Helper()
	// The product's own path: staging, guardrails, then the output.
	if err := synth.Run(cfg, out, opts, io.Discard); err != nil {
		t.Fatalf("synth: %v", err)
	}
	return out
}
