package tests

import (
	"testing"

	"github.com/acme/landing-zone/internal/config/configtest"
)

// The config package's own tests (the bad-config table, defaults) live in
// internal/config; these helpers serve the synthesis-level tests that edit
// the example config.

func exampleYAML(t testing.TB) string { return configtest.Read(t, exampleConfig) }

// edit replaces exactly one occurrence of old in a config (configtest.Edit).
var edit = configtest.Edit
