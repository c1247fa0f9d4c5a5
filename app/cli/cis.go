package cli

import (
	"flag"
	"fmt"
	"io"

	"github.com/acme/landing-zone/internal/cis"
	"github.com/acme/landing-zone/internal/cost"
	"github.com/acme/landing-zone/stacks"
)

// cisCmd prints the CIS AWS Foundations v3.0.0 report of the config's
// stacks (or of -dir) and fails when an IaC-expressible control fails,
// unless -report-only.
func cisCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cis", flag.ContinueOnError)
	dir := fs.String("dir", "", "read this synth output (cdktf.out, or a folder of NAME.tf.json) instead of synthesizing")
	asJSON := fs.Bool("json", false, "print JSON")
	reportOnly := fs.Bool("report-only", false, "exit 0 even when controls fail")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, out, cleanup, err := synthDir(*dir, stderr, stacks.Options{Offline: true, SkipReach: true, SkipAccess: true})
	if err != nil {
		return err
	}
	defer cleanup()
	docs, err := cost.ReadDir(out) // cdktf.out, or a folder of NAME.tf.json
	if err != nil {
		return err
	}
	rs, err := cis.Evaluate(cfg, docs)
	if err != nil {
		return err
	}
	if err := cis.Write(stdout, rs, *asJSON); err != nil {
		return err
	}
	if n := len(cis.Failures(rs)); n > 0 && !*reportOnly {
		return fmt.Errorf("%d CIS controls fail (help cis)", n)
	}
	return nil
}
