package tests

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/landing-zone/internal/config"

	"github.com/acme/landing-zone/stacks"
)

// defaultMirror is where this machine keeps the AWS provider as a Terraform
// filesystem mirror; TF_PROVIDER_MIRROR overrides it.
const defaultMirror = "/opt/tf-plugins"

// requireTerraform returns a CLI config that installs the provider from the
// mirror. Outside CI a missing terraform or mirror skips; under CI=true it
// fails, because CI must prove the stacks plan.
func requireTerraform(t *testing.T) string {
	t.Helper()
	mirror, missing := terraformMirror()
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI must run the offline plan, but %s", missing)
		}
		t.Skipf("skipping the offline terraform checks: %s", missing)
	}
	rc, err := os.ReadFile("testdata/terraform.rc")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "terraform.rc")
	rc = bytes.ReplaceAll(rc, []byte(defaultMirror), []byte(mirror))
	if err := os.WriteFile(path, rc, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// terraformMirror returns the provider mirror, and why the offline
// Terraform checks cannot run here ("" when they can).
func terraformMirror() (mirror, missing string) {
	mirror = os.Getenv("TF_PROVIDER_MIRROR")
	if mirror == "" {
		mirror = defaultMirror
	}
	if _, err := exec.LookPath("terraform"); err != nil {
		return mirror, "terraform is not on PATH"
	}
	if _, err := os.Stat(filepath.Join(mirror, "registry.terraform.io", "hashicorp", "aws")); err != nil {
		return mirror, "no hashicorp/aws provider mirror at " + mirror + " (set TF_PROVIDER_MIRROR)"
	}
	return mirror, ""
}

type planResult struct {
	stack     string
	cached    string // when the same inputs were planned, for a cache hit
	resources int
	seconds   float64 // wall time of init and plan
	cpu       float64 // CPU time of Terraform and the provider
	err       error
}

var planLine = regexp.MustCompile(`Plan: (\d+) to add, (\d+) to change, (\d+) to destroy`)

// planJob is one stack Terraform plans, and the config stacks it stands
// for: those with the same cdk.tf.json bytes, and those of the same
// template (see stackShape).
type planJob struct {
	dir, stack string
	rep        string            // "<config>/<stack>" planned
	size       int64             // of its cdk.tf.json
	bytes      map[string]string // "<config>/<stack>" -> content hash
	result     planResult
}

// TestOfflinePlan runs terraform init and plan -refresh=false (which
// validates) on the offline synth of every property config (the fixtures
// and config.yaml), and requires every stack's plan to add exactly the
// resources of its JSON.
//
// Planning is CPU-bound (each Terraform process loads the provider's
// schema), so a stack is not planned twice when Terraform would see the same
// thing: a stack with the same cdk.tf.json bytes as another (config.yaml and
// the example fixture are the same file) is planned once, and so is a
// template that differs only in the config's own identifiers (stackShape:
// every bootstrap stack is one template, with its account's names in it).
// Of such a group the stack with the longest JSON, so the longest names, is
// planned. The rest are planned one per core at a time, each a real init
// and plan in its own directory, unless the very same inputs planned
// before (planCache: a warm make test re-plans only what changed; CI,
// from a clean clone, plans everything). The provider is linked from the mirror,
// never copied.
func TestOfflinePlan(t *testing.T) {
	rc := requireTerraform(t)
	configs := propertyConfigs(t)
	var jobs []*planJob
	byShape := map[string]*planJob{}
	uses := map[string]*planJob{} // "<config>/<stack>" -> its job
	total := 0
	for _, f := range configs {
		out := offlineSynthOf(t, f)
		synthesized := readStacks(t, out)
		for _, name := range slices.Sorted(maps.Keys(synthesized)) {
			b := synthesized[name]
			id := f.Name + "/" + name
			sum := sha256.Sum256(b)
			shape := stackShape(f.Cfg, name, b)
			j := byShape[shape]
			if j == nil {
				j = &planJob{bytes: map[string]string{}}
				byShape[shape] = j
				jobs = append(jobs, j)
			}
			if j.rep == "" || int64(len(b)) > j.size {
				j.dir, j.stack, j.rep, j.size = filepath.Join(out, "stacks", name), name, id, int64(len(b))
			}
			j.bytes[id] = hex.EncodeToString(sum[:])
			uses[id] = j
			total++
		}
	}

	cache := newPlanCache(t, rc)
	start := time.Now()
	sem := make(chan struct{}, planWorkers())
	var wg sync.WaitGroup
	// Largest first, so that a big stack does not start last.
	order := slices.Clone(jobs)
	sort.SliceStable(order, func(a, b int) bool { return order[a].size > order[b].size })
	for _, j := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if r, ok := cache.get(j.dir); ok {
				j.result = r
				return
			}
			j.result = planStack(j.dir, j.stack, rc)
			cache.put(j.dir, j.result)
		}()
	}
	wg.Wait()
	wall := time.Since(start).Seconds()
	cpu, cached := 0.0, 0
	for _, j := range jobs {
		cpu += j.result.cpu
		if j.result.cached != "" {
			cached++
		}
	}

	var table strings.Builder
	fmt.Fprintf(&table, "%-14s %-28s %9s %8s  %s\n", "config", "stack", "resources", "seconds", "planned")
	for _, f := range configs {
		t.Run(f.Name, func(t *testing.T) {
			out := offlineSynthOf(t, f)
			for _, name := range stackNames(t, out) {
				id := f.Name + "/" + name
				j := uses[id]
				r := j.result
				how := "here"
				switch {
				case j.rep == id:
				case j.bytes[j.rep] == j.bytes[id]:
					how = "as " + j.rep + " (same bytes)"
				default:
					how = "as " + j.rep + " (same template, other names)"
				}
				if r.err != nil {
					t.Errorf("stack %s (planned %s): %v", name, how, r.err)
					continue
				}
				if want := readStack(t, out, name).count(); r.resources != want {
					t.Errorf("stack %s: plan (%s) adds %d resources, the synthesized JSON has %d", name, how, r.resources, want)
				}
				secs := "-"
				switch {
				case r.cached != "":
					how += ", cached: " + r.cached
				case how == "here":
					secs = fmt.Sprintf("%.1f", r.seconds)
				}
				fmt.Fprintf(&table, "%-14s %-28s %9d %8s  %s\n", f.Name, name, r.resources, secs, how)
			}
		})
	}
	t.Logf("offline terraform init + plan (validates): %d stacks of %d configs, %d to plan, %d of them cached (LZ_PLAN_CACHE=0 plans them all), in %.1fs (%.0f CPU-seconds), %d at a time\n%s",
		total, len(configs), len(jobs), cached, wall, cpu, planWorkers(), table.String())
}

// planCache remembers the stacks whose exact inputs planned successfully:
// the stack's cdk.tf.json, the committed provider lock, the Terraform
// version, the CLI config and the provider packages in the mirror (names,
// sizes, times). An offline plan with -refresh=false is a function of
// those alone, so the same inputs give the same plan; a failure is never
// remembered. It lives in .tmp/plan-cache (a clean clone has none: CI
// plans every stack), and LZ_PLAN_CACHE=0 turns it off.
type planCache struct {
	dir, inputs string // inputs: the key's part shared by every stack
}

func newPlanCache(t *testing.T, rc string) *planCache {
	t.Helper()
	if os.Getenv("LZ_PLAN_CACHE") == "0" {
		return &planCache{}
	}
	dir, err := filepath.Abs(filepath.Join("..", ".tmp", "plan-cache"))
	if err != nil {
		t.Fatal(err)
	}
	version, err := exec.Command("terraform", "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	rcText, err := os.ReadFile(rc)
	if err != nil {
		t.Fatal(err)
	}
	mirror, _ := terraformMirror()
	var packages strings.Builder
	filepath.WalkDir(filepath.Join(mirror, "registry.terraform.io", "hashicorp", "aws"), func(p string, d os.DirEntry, err error) error {
		if info, e := os.Stat(p); err == nil && e == nil && !info.IsDir() {
			fmt.Fprintf(&packages, "%s %d %d\n", p, info.Size(), info.ModTime().UnixNano())
		}
		return nil
	})
	return &planCache{dir: dir, inputs: "plan-cache v1\n" + string(version) + string(rcText) + packages.String() + string(stacks.ProviderLock)}
}

func (c *planCache) key(stackDir string) string {
	b, err := os.ReadFile(filepath.Join(stackDir, "cdk.tf.json"))
	if c.dir == "" || err != nil {
		return ""
	}
	sum := sha256.Sum256(append([]byte(c.inputs), b...))
	return filepath.Join(c.dir, hex.EncodeToString(sum[:]))
}

// get returns the remembered plan of the stack's exact inputs.
func (c *planCache) get(stackDir string) (planResult, bool) {
	var r planResult
	k := c.key(stackDir)
	if k == "" {
		return r, false
	}
	b, err := os.ReadFile(k)
	if err != nil {
		return r, false
	}
	resources, when, ok := strings.Cut(strings.TrimSpace(string(b)), " ")
	n, err := strconv.Atoi(resources)
	if !ok || err != nil {
		return r, false
	}
	r.resources, r.cached = n, "the same inputs planned "+when
	return r, true
}

// put remembers a successful plan.
func (c *planCache) put(stackDir string, r planResult) {
	k := c.key(stackDir)
	if k == "" || r.err != nil {
		return
	}
	if os.MkdirAll(c.dir, 0o755) == nil {
		os.WriteFile(k, []byte(fmt.Sprintf("%d %s\n", r.resources, time.Now().UTC().Format(time.RFC3339))), 0o644)
	}
}

// stackShape is a stack's JSON with the config's own identifiers replaced by
// placeholders: the name prefix, region, domain, source repository, and
// each account's name and ID, as "self" for the stack's own account and by
// kind (and position, for app accounts) for the others. Two stacks of the
// same shape give Terraform the same resources, references and settings,
// with other names: one plan checks the template. The replacement is
// conservative: text it mangles only makes shapes differ.
func stackShape(cfg *config.Config, stack string, b []byte) string {
	self := strings.TrimPrefix(stack, "bootstrap-")
	var pairs [][2]string
	apps := 0
	for _, name := range cfg.AccountNames() {
		a := cfg.Accounts[name]
		role := a.Kind
		if a.Kind == config.KindApp {
			role = fmt.Sprintf("app%d", apps)
			apps++
		}
		if name == self {
			role = "self"
		}
		pairs = append(pairs, [2]string{name, "<" + role + ">"}, [2]string{a.ID, "<" + role + "-id>"})
	}
	pairs = append(pairs, [2]string{cfg.NamePrefix, "<prefix>"}, [2]string{cfg.Region, "<region>"},
		[2]string{cfg.Domain, "<domain>"}, [2]string{cfg.SourceRepo, "<repo>"})
	// Longest first: at each position the replacer tries them in order.
	sort.SliceStable(pairs, func(i, j int) bool { return len(pairs[i][0]) > len(pairs[j][0]) })
	var args []string
	for _, p := range pairs {
		args = append(args, p[0], p[1])
	}
	return strings.NewReplacer(args...).Replace(string(b))
}

// planWorkers is how many Terraform processes run at once: one per core
// (each plan is CPU-bound: loading the provider's schema).
func planWorkers() int { return max(1, runtime.NumCPU()) }

func planStack(dir, name, rc string) (res planResult) {
	res.stack = name
	start := time.Now()
	defer func() { res.seconds = time.Since(start).Seconds() }()
	// plan validates the configuration itself, so a separate validate
	// would only load the 700 MB provider once more.
	steps := [][]string{
		{"init", "-input=false", "-no-color"},
		{"plan", "-refresh=false", "-input=false", "-no-color", "-lock=false"},
	}
	var plan string
	for _, args := range steps {
		cmd := exec.Command("terraform", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
		if os.Getenv("GOGC") == "" {
			// Terraform and the provider (which inherits this) allocate
			// heavily while loading the provider's schema and exit soon
			// after: collecting less often saves a fifth of their CPU time.
			cmd.Env = append(cmd.Env, "GOGC=400")
		}
		b, err := cmd.CombinedOutput()
		if cmd.ProcessState != nil {
			// Terraform waits for its provider, so its rusage includes it.
			res.cpu += (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
		}
		if err != nil {
			res.err = fmt.Errorf("terraform %s failed: %v\n%s", args[0], err, tail(string(b), 40))
			return res
		}
		plan = string(b)
	}
	// init accepts the committed lock only if the mirror's package matches
	// one of its hashes; it rewrites the file if the lock does not satisfy
	// the stack's constraint. Either way the folder's lock would differ.
	if lock, err := os.ReadFile(filepath.Join(dir, stacks.LockFileName)); err != nil || !bytes.Equal(lock, stacks.ProviderLock) {
		res.err = fmt.Errorf("terraform init did not keep the committed provider lock (stacks/providers.lock.hcl): %v\n%s", err, lock)
		return res
	}
	switch m := planLine.FindStringSubmatch(plan); {
	case m != nil:
		res.resources, _ = strconv.Atoi(m[1])
	case strings.Contains(plan, "No changes."):
		res.resources = 0
	default:
		res.err = fmt.Errorf("plan printed no summary:\n%s", tail(plan, 20))
	}
	return res
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// TestProviderLockIsEnforced is the lock's broken case: a stack folder whose
// lock file records other hashes for the same version must not init, so
// the committed hashes are what stands between a stack and a different
// provider package.
func TestProviderLockIsEnforced(t *testing.T) {
	rc := requireTerraform(t)
	dir := t.TempDir()
	src := filepath.Join(offlineSynthOf(t, fixtureConfig(t, exampleFixture)), "stacks", "bootstrap-"+loadExample(t).AccountNames()[0])
	b, err := os.ReadFile(filepath.Join(src, "cdk.tf.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(src, stacks.LockFileName)); err != nil || !bytes.Equal(got, stacks.ProviderLock) {
		t.Fatalf("synth did not write the committed lock into %s: %v", src, err)
	}
	forged := regexp.MustCompile(`"(h1|zh):[^"]+",\n`).ReplaceAll(stacks.ProviderLock, nil)
	forged = bytes.Replace(forged, []byte("hashes = [\n"), []byte("hashes = [\n    \"h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\n"), 1)
	for name, data := range map[string][]byte{"cdk.tf.json": b, stacks.LockFileName: forged} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("terraform", "init", "-input=false", "-no-color", "-backend=false")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "checksum") {
		t.Fatalf("terraform init accepted a lock with forged hashes (err %v):\n%s", err, tail(string(out), 20))
	}
	t.Logf("a forged lock stops init: %s", lineWith(string(out), "checksum"))
}

// The plan cache's broken cases: a hit needs the very same stack bytes and
// the same shared inputs (lock, Terraform, mirror), and a failed plan is
// never remembered.
func TestPlanCacheRemembersOnlyTheSameInputs(t *testing.T) {
	stack := t.TempDir()
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(stack, "cdk.tf.json"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"resource":{"aws_s3_bucket":{"b":{}}}}`)
	c := &planCache{dir: t.TempDir(), inputs: "lock A"}
	c.put(stack, planResult{resources: 1})
	if r, ok := c.get(stack); !ok || r.resources != 1 || r.cached == "" {
		t.Fatalf("the same inputs: got %+v, %v; want the remembered plan", r, ok)
	}
	if _, ok := (&planCache{dir: c.dir, inputs: "lock B"}).get(stack); ok {
		t.Error("another provider lock (or Terraform, or mirror) hit the cache")
	}
	write(`{"resource":{"aws_s3_bucket":{"b":{"bucket":"x"}}}}`)
	if _, ok := c.get(stack); ok {
		t.Error("a changed stack hit the cache")
	}
	c.put(stack, planResult{err: fmt.Errorf("plan failed")})
	if _, ok := c.get(stack); ok {
		t.Error("a failed plan was remembered")
	}
	if _, ok := (&planCache{}).get(stack); ok {
		t.Error("LZ_PLAN_CACHE=0 (no cache folder) hit the cache")
	}
}
