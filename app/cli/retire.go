package cli

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/acme/landing-zone/app/synth"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/fastload"
	"github.com/acme/landing-zone/internal/retire"
	"github.com/acme/landing-zone/stacks"
)

// Stdin is where retire reads the operator's confirmation; tests replace it.
var Stdin io.Reader = os.Stdin

// retireCmd prints the guarded, ordered steps that retire an app account
// (help/retire.md); with -synth it writes the retiring synth, with
// -write-config the config without the account, with -plan it runs the
// offline proof of the destroy.
func retireCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("retire", flag.ContinueOnError)
	empty := fs.Bool("empty-buckets", false, "let the destroy delete the account's buckets with their objects (and zones with their records); asks for the account's name")
	yes := fs.Bool("yes", false, "confirm --empty-buckets without asking (CI)")
	prod := fs.Bool(retire.ProdFlag, false, "needed as well to retire a prod-profile account")
	doSynth := fs.Bool("synth", false, "synthesize the account's stacks in retiring mode into -out")
	out := fs.String("out", "cdktf.out", "synth output folder for -synth and the printed commands")
	writeConfig := fs.String("write-config", "", "write the config without the account to this file")
	plan := fs.Bool("plan", false, "prove the destroy offline (terraform and the provider mirror, no AWS): what it destroys and what the other stacks lose")
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	// The account may come before or after the flags.
	var account string
	if fs.NArg() > 0 {
		account = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return usageError{err}
		}
	}
	if account == "" || fs.NArg() > 0 {
		return usageError{fmt.Errorf("takes one app account")}
	}
	path := config.Path()
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	r := retire.Request{Account: account, Empty: *empty, Confirmed: *yes, Prod: *prod}
	if r.Empty && !r.Confirmed {
		if err := retire.Check(cfg, retire.Request{Account: account, Prod: *prod}); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "--empty-buckets deletes every object and version in %s's buckets, its Terraform state included.\nType the account's name (%s) to confirm: ", account, account)
		line, _ := bufio.NewReader(Stdin).ReadString('\n')
		r.Confirmed = strings.TrimSpace(line) == account
		if !r.Confirmed {
			return fmt.Errorf("not confirmed (typed %q): nothing done", strings.TrimSpace(line))
		}
	}
	if err := retire.Check(cfg, r); err != nil {
		return err
	}
	stacks0 := stacks.Retiring{Account: account, Empty: r.Empty}
	text, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	without, err := retire.Without(path, text, account)
	if err != nil {
		return err
	}
	if *writeConfig != "" {
		if err := os.WriteFile(*writeConfig, without, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s: %s without %s; review it (diff %s %s) before it replaces the config\n", *writeConfig, path, account, path, *writeConfig)
	}
	if *doSynth {
		fastload.Enable()
		if err := synth.Run(cfg, *out, stacks.Options{Offline: offlineEnv(), Retiring: stacks0}, stderr); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "synthesized %s in retiring mode into %s (stacks %s and bootstrap-%s; the others as usual)\n", account, *out, account, account)
	}
	kept, err := keptOf(account, stderr)
	if err != nil {
		return err
	}
	writeSteps(stdout, retire.Steps(cfg, r, path, *out, kept))
	if *plan {
		return retirePlan(cfg, account, stacks0, without, stdout, stderr)
	}
	return nil
}

// keptOf lists the addresses of the account's stack that the retirement
// keeps (retire.Kept), from an offline synth.
func keptOf(account string, log io.Writer) ([]string, error) {
	_, dir, cleanup, err := synthDir("", log, stacks.Options{Offline: true, SkipReach: true, SkipAccess: true})
	if err != nil {
		return nil, err
	}
	defer cleanup()
	b, err := os.ReadFile(filepath.Join(dir, "stacks", account, "cdk.tf.json"))
	if err != nil {
		return nil, err
	}
	return retire.Kept(b)
}

func writeSteps(w io.Writer, steps []retire.Step) {
	for i, s := range steps {
		fmt.Fprintf(w, "\n%d. %s\n   %s\n", i+1, s.Title, s.Why)
		for _, c := range s.Commands {
			fmt.Fprintf(w, "     %s\n", c)
		}
	}
}

// retirePlan runs the offline proof and prints what the destroy deletes,
// by stack and type, and what the other stacks lose.
func retirePlan(cfg *config.Config, account string, r stacks.Retiring, without []byte, stdout, stderr io.Writer) error {
	rc, err := OfflineTerraformRC()
	if err != nil {
		return err
	}
	defer os.Remove(rc)
	work, err := os.MkdirTemp("", "landing-zone-retire-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	s, err := RetireSynths(cfg, r, without, work, stderr)
	if err != nil {
		return err
	}
	res, err := retire.Prove(cfg, account, s, filepath.Join(work, "plans"), retire.Terraform{RC: rc, Log: stderr})
	if err != nil {
		return err
	}
	WriteRetireResult(stdout, res)
	return nil
}

// RetireSynths synthesizes, offline, the config as it is, the same with r's
// account retiring, and the config without the account, under work. The
// guardrails run; the reachability and IAM proofs, which answer other
// questions (go run . reach, access), are left out.
func RetireSynths(cfg *config.Config, r stacks.Retiring, without []byte, work string, log io.Writer) (retire.Synths, error) {
	fastload.Enable()
	s := retire.Synths{Before: filepath.Join(work, "before"), Retiring: filepath.Join(work, "retiring"), After: filepath.Join(work, "after")}
	if err := synth.Run(cfg, s.Before, stacks.Options{Offline: true, SkipReach: true, SkipAccess: true}, log); err != nil {
		return s, err
	}
	if err := synth.Run(cfg, s.Retiring, stacks.Options{Offline: true, SkipReach: true, SkipAccess: true, Retiring: r}, log); err != nil {
		return s, err
	}
	cfgAfter, err := config.Parse("config without "+r.Account, without)
	if err != nil {
		return s, err
	}
	return s, synth.Run(cfgAfter, s.After, stacks.Options{Offline: true, SkipReach: true, SkipAccess: true}, log)
}

// OfflineTerraformRC writes a Terraform CLI config that installs the AWS
// provider from the filesystem mirror (TF_PROVIDER_MIRROR, default
// /opt/tf-plugins) and returns its path.
func OfflineTerraformRC() (string, error) {
	mirror := os.Getenv("TF_PROVIDER_MIRROR")
	if mirror == "" {
		mirror = "/opt/tf-plugins"
	}
	if _, err := os.Stat(filepath.Join(mirror, "registry.terraform.io", "hashicorp", "aws")); err != nil {
		return "", fmt.Errorf("-plan needs the AWS provider as a filesystem mirror at %s (set TF_PROVIDER_MIRROR): %v", mirror, err)
	}
	f, err := os.CreateTemp("", "landing-zone-retire-*.tfrc")
	if err != nil {
		return "", err
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [\"registry.terraform.io/hashicorp/aws\"]\n  }\n}\n", mirror)
	return f.Name(), err
}

// WriteRetireResult prints the proof's plans: the destroy by stack and
// resource type, what is kept, and each other stack's changes.
func WriteRetireResult(w io.Writer, res *retire.Result) {
	fmt.Fprintf(w, "\nOffline destroy plan (terraform plan -destroy -refresh=false on a crafted state):\n")
	for _, stack := range slices.Sorted(maps.Keys(res.Destroyed)) {
		d := res.Destroyed[stack]
		fmt.Fprintf(w, "\n  %s: %d to destroy, every one a resource of the stack", stack, len(d))
		if k := res.Kept[stack]; len(k) > 0 {
			fmt.Fprintf(w, " (kept: %s)", strings.Join(k, ", "))
		}
		fmt.Fprintln(w)
		byType := map[string]int{}
		for _, a := range d {
			byType[strings.SplitN(a, ".", 2)[0]]++
		}
		for _, t := range slices.Sorted(maps.Keys(byType)) {
			fmt.Fprintf(w, "    %4d %s\n", byType[t], t)
		}
	}
	fmt.Fprintf(w, "\nOther stacks without the account (terraform plan -refresh=false on a crafted state):\n")
	for _, stack := range slices.Sorted(maps.Keys(res.Others)) {
		p := res.Others[stack]
		fmt.Fprintf(w, "\n  %s: %d changes, each to a resource naming the account\n", stack, len(p))
		for _, a := range slices.Sorted(maps.Keys(p)) {
			fmt.Fprintf(w, "    %-8s %s\n", p[a], a)
		}
	}
	if len(res.Unchanged) > 0 {
		fmt.Fprintf(w, "\n  unchanged (same JSON without the account): %s\n", strings.Join(res.Unchanged, ", "))
	}
}

// offlineEnv is main's LZ_OFFLINE switch, for -synth.
func offlineEnv() bool {
	v := os.Getenv("LZ_OFFLINE")
	return v == "1" || v == "true"
}
