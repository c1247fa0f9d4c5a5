package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/acme/landing-zone/internal/access"
	"github.com/acme/landing-zone/internal/config"
)

// benchAccess times the IAM proof on every fixture config and on
// config.yaml: reading the synthesized stacks, deriving every question and
// answering them in one run of the policy engine (Node included), which is
// what it adds to each synth. Each config is synthesized once (not timed)
// with the app binary.
func benchAccess(env []string, app, root string) {
	configs, _ := filepath.Glob(filepath.Join(root, "__tests__", "testdata", "configs", "*.yaml"))
	configs = append(configs, filepath.Join(root, "config.yaml"))
	fmt.Printf("\nIAM proof per config: median of %d runs (read the stacks, derive every question, answer them with the policy engine)\n\n", *runs)
	fmt.Printf("%-22s %10s %9s %10s %10s\n", "config", "questions", "requests", "engine", "total")
	for _, c := range configs {
		out := filepath.Join(tmp, "access-"+filepath.Base(c))
		cmd := exec.Command(app)
		cmd.Env = append(append([]string{}, env...), "LZ_CONFIG="+c, "CDKTF_OUTDIR="+out, "LZ_FASTLOAD=1")
		if b, err := cmd.CombinedOutput(); err != nil {
			fail(fmt.Sprintf("synth of %s: %v\n%s", c, err, b))
		}
		cfg, err := config.Load(c)
		check(err)
		var engines, totals []time.Duration
		for i := 0; i < *runs; i++ {
			check(access.Check(out, cfg, access.Options{}))
			engines, totals = append(engines, access.Stats.Engine), append(totals, access.Stats.Total)
		}
		fmt.Printf("%-22s %10d %9d %9.2fs %9.2fs\n", strings.TrimSuffix(filepath.Base(c), ".yaml"),
			access.Stats.Questions, access.Stats.Requests, median(engines), median(totals))
		os.RemoveAll(out)
	}
}
