package tests

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/stacks"
)

// Fixture configs: tests that need known values (names, IDs, ranges) read
// one of the configs under testdata/configs, never the repository's
// config.yaml, which every fork rewrites. Property tests run over all of
// them and over config.yaml itself (propertyConfigs), asserting relations
// derived from each loaded config, never literal names or counts.
const fixtureDir = "testdata/configs"

// repoConfig is the repository's own config.yaml: whatever a fork made of it.
const repoConfig = "../config.yaml"

// exampleFixture is the fixture that is a copy of the config.yaml the
// repository ships; tests that need literal values use it.
const exampleFixture = "example"

// fixture is one config the suite synthesizes.
type fixture struct {
	Name string         // file name without .yaml, or "repo" for ../config.yaml
	Path string         // relative to __tests__
	Cfg  *config.Config // loaded fresh by each call that returns it
}

// fixtureNames lists the fixtures under testdata/configs, sorted.
func fixtureNames(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".yaml"))
	}
	sort.Strings(names)
	if len(names) < 4 {
		t.Fatalf("%s holds %d fixture configs, want at least 4", fixtureDir, len(names))
	}
	return names
}

func loadFixture(t testing.TB, name, path string) fixture {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		if name == "repo" {
			t.Fatalf("the repository's config.yaml must load (run `go run . validate`): %v", err)
		}
		t.Fatalf("fixture %s must load: %v", path, err)
	}
	return fixture{Name: name, Path: path, Cfg: cfg}
}

// fixtureConfig returns one fixture by name, e.g. "example". Its Cfg is
// loaded fresh, so a test may change it. Under LZ_CONFIGS=repo it skips the
// test (skipIfRepoOnly).
func fixtureConfig(t testing.TB, name string) fixture {
	t.Helper()
	skipIfRepoOnly(t)
	return loadFixture(t, name, filepath.Join(fixtureDir, name+".yaml"))
}

// LZ_CONFIGS=repo narrows the suite to the repository's config.yaml: the
// property tests (propertyConfigs) run on it alone, and the tests that read
// a fixture by name skip. tools/adopter-check.sh sets it in its fork, which
// changes config.yaml (and the diagram drawn from it) and nothing else: the
// fixtures' tests would prove there exactly what this checkout's make test
// proves. Unset (the default) runs everything.
func repoOnly(t testing.TB) bool {
	t.Helper()
	switch v := os.Getenv("LZ_CONFIGS"); v {
	case "":
		return false
	case "repo":
		return true
	default:
		t.Fatalf("LZ_CONFIGS=%q: want repo (only config.yaml) or unset (every config)", v)
		return false
	}
}

// fixturesInPlay reports whether propertyConfigs returns the fixtures
// (LZ_CONFIGS unset): a check that the fixtures together cover a case
// runs only then.
func fixturesInPlay(t testing.TB) bool {
	t.Helper()
	return !repoOnly(t)
}

// skipIfRepoOnly skips a test that reads only fixtures under LZ_CONFIGS=repo.
func skipIfRepoOnly(t testing.TB) {
	t.Helper()
	if repoOnly(t) {
		t.Skip("LZ_CONFIGS=repo: reads only the fixtures under testdata/configs, which the unrestricted make test covers")
	}
}

// propertyConfigs returns every fixture (sorted by name) and then the
// repository's config.yaml, named "repo"; under LZ_CONFIGS=repo only the
// latter. The repo config is kept even when it equals a fixture: synthOf
// caches by content, so it costs no second synth.
func propertyConfigs(t testing.TB) []fixture {
	t.Helper()
	if repoOnly(t) {
		return []fixture{loadFixture(t, "repo", repoConfig)}
	}
	var out []fixture
	for _, name := range fixtureNames(t) {
		out = append(out, fixtureConfig(t, name))
	}
	return append(out, loadFixture(t, "repo", repoConfig))
}

// synthKey identifies a synth by the config file's bytes and the options.
func synthKey(t testing.TB, f fixture, opts stacks.Options) string {
	t.Helper()
	b, err := os.ReadFile(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	mode := "online"
	if opts.Offline {
		mode = "offline"
	}
	return hex.EncodeToString(sum[:]) + "/" + mode
}

// synths caches synth output directories for the whole test binary run, by
// synthKey; TestMain removes them (sharedDirs).
var synths = map[string]string{}

// synthOf returns the real (online) synth of f's config file, synthesized
// once per content per test run. The config is reloaded from the file, so
// changes a test made to f.Cfg do not leak into the shared output.
func synthOf(t testing.TB, f fixture) string {
	t.Helper()
	return cachedSynth(t, f, stacks.Options{})
}

// offlineSynthOf is synthOf for the offline variant (local state, no
// assume_role), the one Terraform plans without AWS access.
func offlineSynthOf(t testing.TB, f fixture) string {
	t.Helper()
	return cachedSynth(t, f, stacks.Options{Offline: true})
}

func cachedSynth(t testing.TB, f fixture, opts stacks.Options) string {
	t.Helper()
	key := synthKey(t, f, opts)
	if dir, ok := synths[key]; ok {
		return dir
	}
	fresh := loadFixture(t, f.Name, f.Path)
	start := time.Now()
	dir := synthShared(t, fresh.Cfg, opts)
	mode := "online"
	if opts.Offline {
		mode = "offline"
	}
	secs := time.Since(start).Seconds()
	synthSeconds[mode] += secs
	synthCount[mode]++
	root, _, _ := strings.Cut(t.Name(), "/")
	synthPaidBy[root] += secs
	synths[key] = dir
	return dir
}

// synthCount counts the distinct synths per mode, and synthPaidBy the
// seconds each top-level test spent on them, for TestMain's report
// (tools/phases.sh moves that time from the test to the synth phase).
var (
	synthCount  = map[string]int{}
	synthPaidBy = map[string]float64{}
)

// eachConfig runs fn as a subtest for every property config.
func eachConfig(t *testing.T, fn func(t *testing.T, f fixture)) {
	t.Helper()
	for _, f := range propertyConfigs(t) {
		t.Run(f.Name, func(t *testing.T) { fn(t, f) })
	}
}

// appAccounts lists cfg's app accounts (one stack each), in config order.
func appAccounts(cfg *config.Config) []string {
	var out []string
	for _, name := range cfg.AccountNames() {
		if cfg.Accounts[name].Kind == config.KindApp {
			out = append(out, name)
		}
	}
	return out
}

// vpcAccounts lists the accounts that have a VPC: shared-services and the
// app accounts.
func vpcAccounts(cfg *config.Config) []string {
	var out []string
	for _, name := range cfg.AccountNames() {
		if cfg.Accounts[name].VPC != nil {
			out = append(out, name)
		}
	}
	return out
}

// envName is the name prefix of an account's resources: <prefix>-<account>.
func envName(cfg *config.Config, account string) string { return cfg.NamePrefix + "-" + account }

// TestFixturesCoverWhatTheyClaim keeps each fixture honest about the case it
// exists for, so an edit cannot quietly drop the coverage.
func TestFixturesCoverWhatTheyClaim(t *testing.T) {
	services := func(cfg *config.Config, ok func(*config.Service) bool) int {
		n := 0
		for _, name := range appAccounts(cfg) {
			for _, s := range cfg.Accounts[name].Services {
				if ok(s) {
					n++
				}
			}
		}
		return n
	}
	claims := map[string]func(t *testing.T, cfg *config.Config){
		"example": func(t *testing.T, cfg *config.Config) {
			// The tests that check literal values (snapshots, bad-config
			// messages, edits) rely on these.
			want := "logs,security,shared-services,dev,stage,prod"
			if got := strings.Join(cfg.AccountNames(), ","); cfg.NamePrefix != "acme" || cfg.Region != "us-east-1" || got != want {
				t.Errorf("the example fixture is %s in %s with accounts %s; want acme in us-east-1 with %s", cfg.NamePrefix, cfg.Region, got, want)
			}
		},
		"single-nat": func(t *testing.T, cfg *config.Config) {
			for _, name := range vpcAccounts(cfg) {
				if v := cfg.Accounts[name].VPC; v.NAT != config.NATSingle {
					t.Errorf("%s: nat %s, want single in every VPC", name, v.NAT)
				}
			}
			for _, name := range appAccounts(cfg) {
				if e := cfg.Accounts[name].Database.Engine; e != config.EngineMySQL {
					t.Errorf("%s: engine %s, want %s", name, e, config.EngineMySQL)
				}
			}
			if cfg.Monitoring.CentralLogs {
				t.Error("central logs are on, want off")
			}
			if !slices.ContainsFunc(appAccounts(cfg), func(n string) bool { return cfg.Accounts[n].Profile == config.ProfileProd }) {
				t.Error("no prod-profile account: single NAT must be shown to work in prod too")
			}
		},
		"eu-four-apps": func(t *testing.T, cfg *config.Config) {
			if cfg.Region == "us-east-1" {
				t.Error("want a region other than the example's")
			}
			for _, name := range vpcAccounts(cfg) {
				if n := len(cfg.Accounts[name].VPC.AZs); n != 2 {
					t.Errorf("%s: %d AZs, want 2", name, n)
				}
			}
			for _, name := range cfg.AccountNames() {
				if slices.Contains([]string{"logs", "security", "shared-services", "dev", "stage", "prod"}, name) {
					t.Errorf("account %s keeps an example name; rename it", name)
				}
			}
			if n := len(appAccounts(cfg)); n != 4 {
				t.Errorf("%d app accounts, want 4", n)
			}
			for capacity, want := range map[string]bool{config.CapacityFargate: true, config.CapacityFargateSpot: true} {
				if services(cfg, func(s *config.Service) bool { return s.Capacity == capacity }) == 0 && want {
					t.Errorf("no service with capacity %s", capacity)
				}
			}
			if services(cfg, func(s *config.Service) bool { return s.Path != "" }) == 0 {
				t.Error("no service routed by path pattern")
			}
			if !slices.ContainsFunc(appAccounts(cfg), func(n string) bool {
				return cfg.Accounts[n].DatabaseEnabled() && !cfg.Accounts[n].CacheEnabled()
			}) {
				t.Error("no environment with a database but no Redis (data stores on demand)")
			}
		},
		"minimal": func(t *testing.T, cfg *config.Config) {
			if n := len(appAccounts(cfg)); n != 1 {
				t.Errorf("%d app accounts, want 1", n)
			}
			if n := services(cfg, func(*config.Service) bool { return true }); n != 1 {
				t.Errorf("%d services, want 1", n)
			}
			if n := services(cfg, func(s *config.Service) bool { return s.UseDatabase }); n != 0 {
				t.Errorf("%d services use the database, want none", n)
			}
			if n := services(cfg, func(s *config.Service) bool { return s.UseCache }); n != 0 {
				t.Errorf("%d services use Redis, want none: the fixture shows an environment without data stores", n)
			}
		},
	}
	names := fixtureNames(t)
	for name := range claims {
		if !slices.Contains(names, name) {
			t.Errorf("fixture %s.yaml is missing from %s", name, fixtureDir)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			claim := claims[name]
			if claim == nil {
				t.Skipf("no claim recorded for fixture %s", name)
			}
			claim(t, fixtureConfig(t, name).Cfg)
		})
	}
}
