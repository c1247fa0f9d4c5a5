// Package tests holds the snapshot, property and integration tests that run
// over whole synthesized stacks. Run them with `make test` (which names
// ./__tests__/... explicitly: `go test ./...` skips folders starting with _).
package tests

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/app/synth"
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

// stackNames lists the synthesized stacks in a synth output directory.
func stackNames(t testing.TB, out string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(out, "stacks"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func stackFile(out, stack string) string {
	return filepath.Join(out, "stacks", stack, "cdk.tf.json")
}

// stackJSON is a synthesized stack, decoded.
type stackJSON struct {
	Provider  map[string][]map[string]any          `json:"provider"`
	Terraform map[string]any                       `json:"terraform"`
	Resource  map[string]map[string]map[string]any `json:"resource"`
	Output    map[string]map[string]any            `json:"output"`
}

func readStack(t testing.TB, out, stack string) stackJSON {
	t.Helper()
	b, err := os.ReadFile(stackFile(out, stack))
	if err != nil {
		t.Fatal(err)
	}
	var s stackJSON
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %v", stack, err)
	}
	return s
}

// resources returns the resources of one type in a stack.
func (s stackJSON) resources(typ string) map[string]map[string]any {
	return s.Resource[typ]
}

func (s stackJSON) count() int {
	n := 0
	for _, rs := range s.Resource {
		n += len(rs)
	}
	return n
}
