// Package configtest holds what tests share to derive configs from the
// example one: the config package's own tests and the synthesis-level
// tests both edit it.
package configtest

import (
	"os"
	"strings"
	"testing"
)

// Read returns the file at path.
func Read(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Edit replaces exactly one occurrence of old, so a case cannot silently
// stop applying when the example config changes.
func Edit(t testing.TB, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("edit: %q occurs %d times in the example config, want exactly 1", old, n)
	}
	return strings.Replace(s, old, new, 1)
}
