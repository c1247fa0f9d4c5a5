package main

import (
	"fmt"
	"os"
	"time"

	"github.com/acme/landing-zone/internal/access"
	"github.com/acme/landing-zone/internal/config"
)

// benchAccess times the IAM proof on every fixture config and on
// config.yaml: reading the synthesized stacks, deriving every question and
// answering them in one run of the policy engine (Node included), which is
// what it adds to each synth.
func benchAccess(env []string, app, root string) {
	fmt.Printf("\nIAM proof per config: median of %d runs (read the stacks, derive every question, answer them with the policy engine)\n\n", *runs)
	fmt.Printf("%-22s %10s %9s %10s %10s\n", "config", "questions", "requests", "engine", "total")
	// The engine itself, each run: its answer cache would answer every run
	// after the first.
	check(os.Setenv("LZ_ACCESS_CACHE", "0"))
	defer os.Unsetenv("LZ_ACCESS_CACHE")
	proofConfigs(env, app, root, func(name, out string, cfg *config.Config) {
		var engines, totals []time.Duration
		for i := 0; i < *runs; i++ {
			check(access.Check(out, cfg, access.Options{}))
			engines, totals = append(engines, access.Stats.Engine), append(totals, access.Stats.Total)
		}
		fmt.Printf("%-22s %10d %9d %9.2fs %9.2fs\n", name,
			access.Stats.Questions, access.Stats.Requests, median(engines), median(totals))
	})
}
