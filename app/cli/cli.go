// Package cli runs the operator subcommands of the landing-zone binary:
// help, validate, diagram, inventory, schema, reach, access, db-users,
// cost and cis.
// With no arguments the
// binary synthesizes (that is what cdktf runs), and main never calls in
// here; this package does not own the synth path. Entry point: Run.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/acme/landing-zone/app/synth"
	"github.com/acme/landing-zone/help"
	"github.com/acme/landing-zone/internal/access"
	"github.com/acme/landing-zone/internal/architecture"
	"github.com/acme/landing-zone/internal/ci"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/fastload"
	"github.com/acme/landing-zone/internal/reach"
	"github.com/acme/landing-zone/internal/schema"
	"github.com/acme/landing-zone/stacks"
)

// Commands are the subcommands, by name.
var Commands = []string{"help", "validate", "diagram", "inventory", "schema", "reach", "access", "db-users", "cost", "cis", "retire"}

const usage = `usage: landing-zone [COMMAND [ARGS]]

With no command, synthesizes every stack of $LZ_CONFIG (default config.yaml)
into $CDKTF_OUTDIR (default cdktf.out): what cdktf synth, diff and deploy run.

Commands:
  help [TOPIC]              list the operator docs, or print one
  validate [CONFIG]         check a config and list every problem; no synth
  diagram [-format mermaid|dot] [-o FILE] [-readme FILE] [-dir DIR]
                            draw the architecture of what the config
                            synthesizes (default: docs/architecture.mmd and .dot)
  inventory [-dir DIR]      resource counts by type and notable sizes per stack
  schema [-o FILE]          the config's JSON Schema (config.schema.json)
  reach [-dir DIR] [STACK]  prove every intended network flow reachable and
                            every forbidden one blocked; print the verdicts
  access [-dir DIR] [STACK] prove who can do what with a policy engine: every
                            intended access allowed, every forbidden one
                            denied; print the answers
  db-users ACCOUNT          print the script that creates an app account's
                            IAM-authenticated database users (run by the
                            deploy; safe to run again)
  cost [-dir DIR] [-base DIR] [-json|-markdown] [-nat-gb N] [-alb-lcu N] [-aurora-gb N]
                            monthly estimate per stack and resource class from
                            the price table (help cost); -base: the change
  retire ACCOUNT [--empty-buckets [--yes]] [--i-understand-this-destroys-prod]
         [-synth] [-out DIR] [-write-config FILE] [-plan]
                            the guarded, ordered steps that destroy an app
                            account's stacks (help retire); -plan proves the
                            destroy offline
  cis [-dir DIR] [-json] [-report-only]
                            CIS AWS Foundations v3.0.0: every control HOLD,
                            FAIL, MANUAL or N/A with evidence (help cis);
                            fails if a control fails
`

// Run runs one subcommand and returns the exit code: 0 done, 1 failed, 2
// bad usage.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "help", "-h", "-help", "--help":
		return helpCmd(args[1:], stdout, stderr)
	case "validate":
		return validateCmd(args[1:], stdout, stderr)
	case "diagram":
		err = diagramCmd(args[1:], stdout, stderr)
	case "inventory":
		err = inventoryCmd(args[1:], stdout, stderr)
	case "schema":
		err = schemaCmd(args[1:], stdout, stderr)
	case "reach":
		err = reachCmd(args[1:], stdout, stderr)
	case "access":
		err = accessCmd(args[1:], stdout, stderr)
	case "db-users":
		err = dbUsersCmd(args[1:], stdout)
	case "cost":
		err = costCmd(args[1:], stdout, stderr)
	case "cis":
		err = cisCmd(args[1:], stdout, stderr)
	case "retire":
		err = retireCmd(args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "landing-zone: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var u usageError
	switch {
	case errors.As(err, &u):
		fmt.Fprintf(stderr, "landing-zone %s: %v\n\n%s", args[0], err, usage)
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "landing-zone %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

type usageError struct{ error }

func parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

func helpCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stdout, "Operator docs (landing-zone help TOPIC, or help/TOPIC.md):\n\n")
		listTopics(stdout)
		fmt.Fprint(stdout, "\n"+usage)
		return 0
	}
	text, ok := help.Get(topicName(args[0]))
	if !ok || len(args) > 1 {
		fmt.Fprintf(stderr, "landing-zone help: no topic %q; the topics are:\n\n", strings.Join(args, " "))
		listTopics(stderr)
		return 2
	}
	fmt.Fprint(stdout, text)
	return 0
}

// topicName finds the topic a user typed whatever its case ("VPN",
// "Deploy-App.md"); an unknown name is returned as typed, for the error.
func topicName(typed string) string {
	name := typed
	if strings.HasSuffix(strings.ToLower(name), ".md") {
		name = name[:len(name)-len(".md")]
	}
	for _, t := range help.Topics() {
		if strings.EqualFold(t.Name, name) {
			return t.Name
		}
	}
	return typed
}

func listTopics(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, t := range help.Topics() {
		fmt.Fprintf(tw, "  %s\t%s\n", t.Name, t.Title)
	}
	tw.Flush()
}

func validateCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) > 1 {
		fmt.Fprintf(stderr, "landing-zone validate: takes one config file at most\n\n%s", usage)
		return 2
	}
	path := config.Path()
	if len(args) == 1 {
		path = args[0]
	}
	if _, err := config.Load(path); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: OK\n", path)
	return 0
}

func schemaCmd(args []string, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("schema", flag.ContinueOnError)
	out := fs.String("o", "", "write to this file instead of stdout")
	if err := parse(fs, args); err != nil {
		return err
	}
	b, err := schema.Generate()
	if err != nil {
		return err
	}
	return write(*out, b, stdout)
}

func diagramCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("diagram", flag.ContinueOnError)
	format := fs.String("format", "", "mermaid or dot")
	out := fs.String("o", "", "write to this file instead of stdout")
	readme := fs.String("readme", "", "also replace the diagram block of this Markdown file")
	dir := fs.String("dir", "", "read this synth output (e.g. cdktf.out) instead of synthesizing")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *format != "" && *format != "mermaid" && *format != "dot" {
		return usageError{fmt.Errorf("-format must be mermaid or dot, not %q", *format)}
	}
	cfg, got, err := synthesized(*dir, stderr)
	if err != nil {
		return err
	}
	g := architecture.Diagram(cfg, got)
	if *readme != "" {
		doc, err := os.ReadFile(*readme)
		if err != nil {
			return err
		}
		updated, err := architecture.ReplaceBlock(string(doc), g.Mermaid())
		if err != nil {
			return fmt.Errorf("%s: %w", *readme, err)
		}
		if err := os.WriteFile(*readme, []byte(updated), 0o644); err != nil {
			return err
		}
	}
	if *format == "" && *out == "" {
		// The default: both files under docs/, as committed.
		if err := os.MkdirAll("docs", 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join("docs", "architecture.mmd"), []byte(g.Mermaid()), 0o644); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join("docs", "architecture.dot"), []byte(g.DOT()), 0o644)
	}
	text := g.Mermaid()
	if *format == "dot" {
		text = g.DOT()
	}
	return write(*out, []byte(text), stdout)
}

func inventoryCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("inventory", flag.ContinueOnError)
	dir := fs.String("dir", "", "read this synth output (e.g. cdktf.out) instead of synthesizing")
	if err := parse(fs, args); err != nil {
		return err
	}
	_, got, err := synthesized(*dir, stderr)
	if err != nil {
		return err
	}
	return architecture.WriteInventory(stdout, architecture.Inventory(got))
}

// proofArgs reads the arguments of reach and access: -dir DIR and an
// optional stack name.
func proofArgs(name string, args []string) (dir, stack string, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	d := fs.String("dir", "", "read this synth output (e.g. cdktf.out) instead of synthesizing")
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return "", "", usageError{err}
	}
	if fs.NArg() > 1 {
		return "", "", usageError{fmt.Errorf("takes one stack at most, got %q", fs.Args())}
	}
	return *d, fs.Arg(0), nil
}

// reachCmd prints the reachability verdict of every flow (of one stack's
// flows with STACK) and fails when any flow misbehaves.
func reachCmd(args []string, stdout, stderr io.Writer) error {
	dir, stack, err := proofArgs("reach", args)
	if err != nil {
		return err
	}
	cfg, out, cleanup, err := synthDir(dir, stderr, stacks.Options{Offline: true, SkipReach: true, SkipAccess: true})
	if err != nil {
		return err
	}
	defer cleanup()
	s, err := reach.Read(out)
	if err != nil {
		return err
	}
	if stack != "" && !slices.Contains(s.Names(), stack) {
		return usageError{fmt.Errorf("no stack %q; the stacks are %s", stack, strings.Join(s.Names(), ", "))}
	}
	flows := reach.For(reach.Prove(s, cfg), stack)
	if err := reach.WriteTable(stdout, flows); err != nil {
		return err
	}
	if fails := reach.FailuresOf(flows); len(fails) > 0 {
		return fails
	}
	fmt.Fprintf(stdout, "\n%d flows, all as intended\n", len(flows))
	return nil
}

// accessCmd prints the IAM proof's answer to every question (of one
// stack's questions with STACK) and fails when any is not as intended.
// With -dir it reads a synth made with the same LZ_CI.
func accessCmd(args []string, stdout, stderr io.Writer) error {
	dir, stack, err := proofArgs("access", args)
	if err != nil {
		return err
	}
	mode, err := ci.ParseMode(os.Getenv(ci.EnvVar))
	if err != nil {
		return err
	}
	cfg, out, cleanup, err := synthDir(dir, stderr, stacks.Options{Offline: true, SkipReach: true, SkipAccess: true, CI: mode})
	if err != nil {
		return err
	}
	defer cleanup()
	s, err := access.Read(out, cfg)
	if err != nil {
		return err
	}
	if stack != "" && s.Stack(stack) == nil {
		return usageError{fmt.Errorf("no stack %q; the stacks are %s", stack, strings.Join(s.Names(), ", "))}
	}
	qs, err := access.Prove(s, cfg, access.Options{Mode: mode, Offline: dir == "" || access.OfflineStacks(s)})
	if err != nil {
		return err
	}
	qs = access.For(qs, stack)
	if err := access.WriteTable(stdout, qs); err != nil {
		return err
	}
	if fails := access.FailuresOf(qs); len(fails) > 0 {
		return fails
	}
	fmt.Fprintf(stdout, "\n%d questions, all answered as intended (%d requests to the policy engine; %.2fs, %.2fs of it in the engine)\n",
		len(qs), access.Stats.Requests, access.Stats.Total.Seconds(), access.Stats.Engine.Seconds())
	return nil
}

// dbUsersCmd prints the database user setup of an app account.
func dbUsersCmd(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return usageError{fmt.Errorf("takes one app account")}
	}
	cfg, err := config.Load(config.Path())
	if err != nil {
		return err
	}
	script, err := stacks.DatabaseUserSetup(cfg, args[0])
	if err != nil {
		return usageError{err}
	}
	_, err = io.WriteString(stdout, "#!/bin/bash\n# Creates the IAM-authenticated database users of "+args[0]+" (help/deploy-app.md).\n"+script)
	return err
}

// synthesized reads the stacks of dir, or synthesizes the config into a
// temporary directory first. Offline stacks have the same resources as the
// real ones and need no AWS account settings.
func synthesized(dir string, log io.Writer) (*config.Config, []*architecture.Stack, error) {
	cfg, out, cleanup, err := synthDir(dir, log, stacks.Options{Offline: true})
	if err != nil {
		return nil, nil, err
	}
	defer cleanup()
	got, err := architecture.Read(out, StackOrder(cfg))
	return cfg, got, err
}

// synthDir loads the config and returns dir, or synthesizes the config with
// opts into a temporary directory that cleanup removes. With SkipReach or
// SkipAccess, a synth that proof rejects is still returned, so that reach
// or access can show the whole table.
func synthDir(dir string, log io.Writer, opts stacks.Options) (*config.Config, string, func(), error) {
	cfg, err := config.Load(config.Path())
	if err != nil {
		return nil, "", nil, err
	}
	if dir != "" {
		return cfg, dir, func() {}, nil
	}
	fastload.Enable()
	tmp, err := os.MkdirTemp("", "landing-zone-")
	if err != nil {
		return nil, "", nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	out := filepath.Join(tmp, "out")
	err = synth.Run(cfg, out, opts, log)
	if err != nil {
		cleanup()
		return nil, "", nil, err
	}
	return cfg, out, cleanup, nil
}

// StackOrder lists the stacks in deploy order: every bootstrap stack, then
// the account stacks, the management account's baseline after security.
func StackOrder(cfg *config.Config) []string {
	var out []string
	for _, n := range cfg.AccountNames() {
		out = append(out, "bootstrap-"+n)
	}
	mgmt, _ := cfg.Management()
	for _, n := range cfg.AccountNames() {
		out = append(out, n)
		if mgmt != "" && cfg.Accounts[n].Kind == config.KindSecurity {
			out = append(out, config.ManagementBaselineStack(mgmt))
		}
	}
	return out
}

func write(path string, b []byte, stdout io.Writer) error {
	if path == "" {
		_, err := stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
