package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/reach"
)

// proofConfigs synthesizes every fixture config and config.yaml once (not
// timed) with the app binary, hands each synth to fn, and removes it after.
// The proofs are timed on these: they run over a synth's output.
func proofConfigs(env []string, app, root string, fn func(name, out string, cfg *config.Config)) {
	configs, _ := filepath.Glob(filepath.Join(root, "__tests__", "testdata", "configs", "*.yaml"))
	configs = append(configs, filepath.Join(root, "config.yaml"))
	for _, c := range configs {
		out := filepath.Join(tmp, "proof-"+filepath.Base(c))
		cmd := exec.Command(app)
		cmd.Env = append(append([]string{}, env...), "LZ_CONFIG="+c, "CDKTF_OUTDIR="+out, "LZ_FASTLOAD=1")
		if b, err := cmd.CombinedOutput(); err != nil {
			fail(fmt.Sprintf("synth of %s: %v\n%s", c, err, b))
		}
		cfg, err := config.Load(c)
		check(err)
		fn(strings.TrimSuffix(filepath.Base(c), ".yaml"), out, cfg)
		os.RemoveAll(out)
	}
}

// benchReach times the reachability proof on every fixture config and on
// config.yaml: reading the synthesized stacks and proving every flow, which
// is what it adds to each synth.
func benchReach(env []string, app, root string) {
	fmt.Printf("\nreachability proof per config: median of %d runs (read the stacks, derive and prove every flow)\n\n", *runs)
	fmt.Printf("%-22s %8s %8s %10s %10s %10s\n", "config", "stacks", "flows", "read", "prove", "total")
	proofConfigs(env, app, root, func(name, out string, cfg *config.Config) {
		var reads, proves, totals []time.Duration
		flows, stacks := 0, 0
		for i := 0; i < *runs; i++ {
			start := time.Now()
			s, err := reach.Read(out)
			check(err)
			read := time.Since(start)
			fl := reach.Prove(s, cfg)
			total := time.Since(start)
			if f := reach.FailuresOf(fl); len(f) > 0 {
				fail(f.Error())
			}
			reads, proves, totals = append(reads, read), append(proves, total-read), append(totals, total)
			flows, stacks = len(fl), len(s.Names())
		}
		fmt.Printf("%-22s %8d %8d %9.1fms %9.1fms %9.1fms\n", name, stacks, flows,
			median(reads)*1000, median(proves)*1000, median(totals)*1000)
	})
}
