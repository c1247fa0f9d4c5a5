package tests

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/schema"
)

func TestSchemaFileIsCurrent(t *testing.T) {
	want, err := schema.Generate()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../config.schema.json")
	if err != nil {
		t.Fatalf("%v: run make schema", err)
	}
	if string(got) != string(want) {
		t.Errorf("config.schema.json is stale:\n%s\nRun make schema (go run . schema -o config.schema.json) and commit it.", lineDiff(string(got), string(want)))
	}
}

// TestSchemaCommentHeadsTheConfig: editors find the schema through the
// first line of the repository's config.yaml (and of the example fixture,
// its copy).
func TestSchemaCommentHeadsTheConfig(t *testing.T) {
	const want = "# yaml-language-server: $schema=./config.schema.json"
	for _, file := range []string{repoConfig, exampleConfig} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if first, _, _ := strings.Cut(string(b), "\n"); first != want {
			t.Errorf("%s starts with %q; keep %q as its first line, editors find the schema through it", file, first, want)
		}
	}
}

// TestSchemaAcceptsEveryConfig: every fixture and config.yaml, which the
// loader accepts, satisfies the schema too.
func TestSchemaAcceptsEveryConfig(t *testing.T) {
	s := loadSchema(t)
	eachConfig(t, func(t *testing.T, f fixture) {
		b, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if errs := validateYAML(t, s, string(b)); len(errs) > 0 {
			t.Errorf("%s breaks the schema:\n  %s", f.Path, strings.Join(errs, "\n  "))
		}
	})
}

// TestSchemaRejectsWhatTheLoaderRejects shows that the schema (and the
// validator above) really check something: each mistake below is caught by
// both the schema and config.Load, at the same key.
func TestSchemaRejectsWhatTheLoaderRejects(t *testing.T) {
	cases := []struct {
		name, old, new, key string
	}{
		{"an unknown key", "region: us-east-1\n", "region: us-east-1\nregoin: eu-west-1\n", "regoin"},
		{"a misspelt region", "region: us-east-1\n", "region: eu-centrl-1\n", "region"},
		{"a GovCloud region", "region: us-east-1\n", "region: us-gov-west-1\n", "region"},
		{"an unknown kind", "kind: security", "kind: secure", "accounts.security.kind"},
		{"an unknown NAT mode", "nat: per_az", "nat: per-az", "accounts.prod.vpc.nat"},
		{"an unknown load balancer", "load_balancer: internal\n        cpu: 512\n        memory: 1024\n        secrets: [STRIPE_API_KEY]\n        use_database: true\n        use_cache: true\n\n  stage:",
			"load_balancer: private\n        cpu: 512\n        memory: 1024\n        secrets: [STRIPE_API_KEY]\n        use_database: true\n        use_cache: true\n\n  stage:", "accounts.dev.services.api.load_balancer"},
		{"an unknown engine", "engine: aurora-postgresql", "engine: postgres", "accounts.prod.database.engine"},
		{"a retention CloudWatch does not offer", "flow_log_retention_days: 365", "flow_log_retention_days: 366", "accounts.prod.vpc.flow_log_retention_days"},
		{"a missing required key", "    deploy_role: OrganizationAccountAccessRole\n\n  security:", "\n  security:", "accounts.logs.deploy_role"},
		{"a list where a mapping belongs", "    vpn:                      # the only public server; UDP 1194 from these ranges\n      allowed_cidrs: [0.0.0.0/0]\n      client_cidr: 172.16.0.0/20\n",
			"    vpn: [a, b]\n", "accounts.shared-services.vpn"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := edit(t, exampleYAML(t), c.old, c.new)
			errs := validateYAML(t, loadSchema(t), doc)
			if !slices.ContainsFunc(errs, func(e string) bool { return strings.HasPrefix(e, c.key+":") }) {
				t.Errorf("the schema does not flag %s; it says:\n  %s", c.key, strings.Join(errs, "\n  "))
			}
			_, err := config.Parse("config.yaml", []byte(doc))
			if err == nil || !strings.Contains(err.Error(), c.key) {
				t.Errorf("config.Load does not flag %s: %v", c.key, err)
			}
		})
	}
}

func validateYAML(t *testing.T, s map[string]any, doc string) []string {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatal(err)
	}
	var errs []string
	checkSchema(s, v, "", &errs)
	return errs
}

// checkSchema validates v against the subset of JSON Schema that
// internal/schema emits: type, enum, properties, required,
// additionalProperties and items.
func checkSchema(s map[string]any, v any, path string, errs *[]string) {
	fail := func(format string, args ...any) {
		*errs = append(*errs, path+": "+fmt.Sprintf(format, args...))
	}
	if !typeMatches(s["type"], v) {
		fail("is %s, want %v", jsonType(v), s["type"])
		return
	}
	if enum, ok := s["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
		fail("%v is not one of %v", v, enum)
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		required, _ := s["required"].([]any)
		for _, r := range required {
			if _, ok := x[r.(string)]; !ok {
				*errs = append(*errs, keyJoin(path, r.(string))+": missing")
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			switch sub := props[k]; {
			case sub != nil:
				checkSchema(sub.(map[string]any), x[k], keyJoin(path, k), errs)
			case s["additionalProperties"] == false:
				*errs = append(*errs, keyJoin(path, k)+": unknown key")
			default:
				checkSchema(s["additionalProperties"].(map[string]any), x[k], keyJoin(path, k), errs)
			}
		}
	case []any:
		for i, e := range x {
			checkSchema(s["items"].(map[string]any), e, fmt.Sprintf("%s[%d]", path, i), errs)
		}
	}
}

func keyJoin(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case int, int64, uint64:
		return "integer"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func typeMatches(want, v any) bool {
	got := jsonType(v)
	switch w := want.(type) {
	case string:
		return w == got
	case []any:
		return slices.ContainsFunc(w, func(e any) bool { return e == got })
	}
	return want == nil
}
