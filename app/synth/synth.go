// Package synth turns a validated config into Terraform JSON on disk,
// safely: it synthesizes into a staging directory beside the output, runs
// the guardrails, the reachability proof and the IAM proof there, and only
// when they pass copies the files into the output directory. A failed synth
// leaves the previous output untouched.
//
// Every stack folder gets the committed provider lock file
// (stacks.ProviderLock). Files Terraform keeps in the output between
// synths (.terraform, local state) are never removed. Entry point: Run.
package synth

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/internal/access"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/guardrails"
	"github.com/acme/landing-zone/internal/reach"
	"github.com/acme/landing-zone/stacks"
)

// Run synthesizes cfg into outdir. Guardrail violations come back as
// guardrails.Violations; waivers in force are listed on log.
func Run(cfg *config.Config, outdir string, opts stacks.Options, log io.Writer) error {
	abs, err := filepath.Abs(outdir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return err
	}
	stage, err := os.MkdirTemp(filepath.Dir(abs), filepath.Base(abs)+".staging-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)

	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: &stage})
	stacks.Build(app, cfg, opts)
	app.Synth()

	vs, err := guardrails.Check(stage, stacks.GuardrailOptions(cfg))
	if err != nil {
		return err
	}
	if len(vs) > 0 {
		return vs
	}
	// Like a guardrail: stacks whose traffic would not flow as the config
	// intends (or would flow where it must not) are never written.
	if !opts.SkipReach {
		if err := reach.Check(stage, cfg); err != nil {
			return err
		}
	}
	// Likewise for access: stacks whose principals could not do what the
	// config intends, or could do what it forbids, are never written.
	if !opts.SkipAccess {
		if err := access.Check(stage, cfg, access.Options{Mode: opts.CI, Offline: opts.Offline}); err != nil {
			return err
		}
	}
	waivers, err := guardrails.Waivers(stage)
	if err != nil {
		return err
	}
	for _, w := range waivers {
		fmt.Fprintf(log, "guardrails: waived %s for %s: %s\n", w.Rule, w.Path, w.Reason)
	}
	if err := writeLocks(stage); err != nil {
		return err
	}
	return copyTree(stage, abs)
}

// writeLocks gives every stack folder the committed provider lock file,
// over whatever lock an earlier init left there: the committed one decides
// the provider version.
func writeLocks(stage string) error {
	dirs, err := filepath.Glob(filepath.Join(stage, "stacks", "*"))
	if err != nil {
		return err
	}
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, stacks.LockFileName), stacks.ProviderLock, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// copyTree writes every file of src over the same path under dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
