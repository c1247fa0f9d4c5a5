package cli

import (
	"encoding/json"
	"flag"
	"io"

	"github.com/acme/landing-zone/internal/cost"
	"github.com/acme/landing-zone/stacks"
)

// costCmd prints the monthly estimate of the config's stacks (or of -dir),
// or with -base the change from another synth output to this one.
func costCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cost", flag.ContinueOnError)
	dir := fs.String("dir", "", "read this synth output (cdktf.out, or a folder of NAME.tf.json) instead of synthesizing")
	base := fs.String("base", "", "print the change from this synth output (e.g. the base branch's) instead")
	asJSON := fs.Bool("json", false, "print JSON")
	md := fs.Bool("markdown", false, "print Markdown (for a GitHub job summary)")
	var a cost.Assumptions
	fs.Float64Var(&a.NATGBPerMonth, "nat-gb", 0, "assumed GB each NAT gateway processes a month")
	fs.Float64Var(&a.ALBLCUPerHour, "alb-lcu", 0, "assumed load balancer capacity units each ALB uses an hour")
	fs.Float64Var(&a.AuroraGBPerCluster, "aurora-gb", 0, "assumed GB each Aurora cluster stores")
	if err := parse(fs, args); err != nil {
		return err
	}
	t, err := cost.Prices()
	if err != nil {
		return err
	}
	head, err := costOf(*dir, t, a, stderr)
	if err != nil {
		return err
	}
	if *base != "" {
		docs, err := cost.ReadDir(*base)
		if err != nil {
			return err
		}
		b, err := cost.Estimate(docs, t, a)
		if err != nil {
			return err
		}
		d := cost.Diff(b, head)
		if *asJSON {
			return writeJSON(stdout, d)
		}
		return cost.WriteDelta(stdout, d, *md)
	}
	switch {
	case *asJSON:
		return cost.WriteJSON(stdout, head)
	case *md:
		return cost.WriteMarkdown(stdout, head)
	}
	return cost.WriteText(stdout, head)
}

// costOf estimates dir, or the config synthesized offline (same resources
// as the real stacks) into a temporary directory.
func costOf(dir string, t *cost.Table, a cost.Assumptions, log io.Writer) (*cost.Report, error) {
	if dir == "" {
		_, out, cleanup, err := synthDir("", log, stacks.Options{Offline: true})
		if err != nil {
			return nil, err
		}
		defer cleanup()
		dir = out
	}
	docs, err := cost.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	return cost.Estimate(docs, t, a)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
