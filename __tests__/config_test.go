package tests

import (
	"os"
	"strings"
	"testing"
)

// The config package's own tests (the bad-config table, defaults) live in
// internal/config; these helpers serve the synthesis-level tests that edit
// the example config.

func exampleYAML(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// edit replaces exactly one occurrence of old, so a case cannot silently
// stop applying when the example config changes.
func edit(t testing.TB, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("edit: %q occurs %d times in the example config, want exactly 1", old, n)
	}
	return strings.Replace(s, old, new, 1)
}
