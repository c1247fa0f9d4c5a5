// Command landing-zone synthesizes the AWS landing zone described by one
// config file into one Terraform stack per account (see README.md).
//
// Run by cdktf (cdktf.json "app"), it reads the config named by LZ_CONFIG
// (default config.yaml) and writes the stacks to CDKTF_OUTDIR. LZ_CI=plan or
// apply makes the stacks a GitHub Actions job runs (help/ci-cd.md). A config
// with problems, or stacks that break a guardrail, the reachability proof or
// the IAM proof, are reported in full and nothing is written.
//
// Operators run it with a subcommand instead (help, validate, diagram,
// inventory, schema; see app/cli). cdktf never passes arguments, so
// only a known first argument leaves the synth path.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/acme/landing-zone/app/cli"
	"github.com/acme/landing-zone/app/synth"
	"github.com/acme/landing-zone/internal/ci"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/fastload"
	"github.com/acme/landing-zone/stacks"
)

func main() {
	fastload.Enable()
	code := 0
	if len(os.Args) > 1 {
		code = cli.Run(os.Args[1:], os.Stdout, os.Stderr)
	} else {
		code = run()
	}
	fastload.Close()
	os.Exit(code)
}

func run() int {
	cfg, err := config.Load(config.Path())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	outdir := os.Getenv("CDKTF_OUTDIR")
	if outdir == "" {
		outdir = "cdktf.out"
	}
	mode, err := ci.ParseMode(os.Getenv(ci.EnvVar))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := synth.Run(cfg, outdir, stacks.Options{Offline: offline(), CI: mode}, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// offline is on when LZ_OFFLINE is 1 or true, or the cdktf context key
// "offline" is true (cdktf passes context in CDKTF_CONTEXT_JSON).
func offline() bool {
	switch os.Getenv("LZ_OFFLINE") {
	case "1", "true":
		return true
	}
	var ctx struct {
		Offline bool `json:"offline"`
	}
	_ = json.Unmarshal([]byte(os.Getenv("CDKTF_CONTEXT_JSON")), &ctx)
	return ctx.Offline
}
