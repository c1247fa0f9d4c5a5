package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// defaultMirror is where this machine keeps the AWS provider as a Terraform
// filesystem mirror; TF_PROVIDER_MIRROR overrides it.
const defaultMirror = "/opt/tf-plugins"

// requireTerraform returns a CLI config that installs the provider from the
// mirror. Outside CI a missing terraform or mirror skips; under CI=true it
// fails, because CI must prove the stacks plan.
func requireTerraform(t *testing.T) string {
	t.Helper()
	mirror := os.Getenv("TF_PROVIDER_MIRROR")
	if mirror == "" {
		mirror = defaultMirror
	}
	var missing string
	if _, err := exec.LookPath("terraform"); err != nil {
		missing = "terraform is not on PATH"
	} else if _, err := os.Stat(filepath.Join(mirror, "registry.terraform.io", "hashicorp", "aws")); err != nil {
		missing = "no hashicorp/aws provider mirror at " + mirror + " (set TF_PROVIDER_MIRROR)"
	}
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI must run the offline plan, but %s", missing)
		}
		t.Skipf("skipping the offline terraform checks: %s", missing)
	}
	rc, err := os.ReadFile("testdata/terraform.rc")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "terraform.rc")
	rc = bytes.ReplaceAll(rc, []byte(defaultMirror), []byte(mirror))
	if err := os.WriteFile(path, rc, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

type planResult struct {
	stack     string
	resources int
	err       error
}

var planLine = regexp.MustCompile(`Plan: (\d+) to add, (\d+) to change, (\d+) to destroy`)

// TestOfflinePlan runs terraform init and plan -refresh=false (which
// validates) on every stack of the offline synth, in parallel bounded by the cores. The
// provider is linked from the mirror, never copied.
func TestOfflinePlan(t *testing.T) {
	rc := requireTerraform(t)
	out := offline(t)
	names := stackNames(t, out)
	results := make([]planResult, len(names))
	sem := make(chan struct{}, runtime.NumCPU())
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = planStack(filepath.Join(out, "stacks", name), name, rc)
		}()
	}
	wg.Wait()

	var table strings.Builder
	fmt.Fprintf(&table, "%-28s %s\n", "stack", "resources in plan")
	for _, r := range results {
		if r.err != nil {
			t.Errorf("stack %s: %v", r.stack, r.err)
			continue
		}
		if want := readStack(t, out, r.stack).count(); r.resources != want {
			t.Errorf("stack %s: plan adds %d resources, the synthesized JSON has %d", r.stack, r.resources, want)
		}
		fmt.Fprintf(&table, "%-28s %d\n", r.stack, r.resources)
	}
	t.Logf("offline terraform init + plan (validates), all stacks:\n%s", table.String())
}

func planStack(dir, name, rc string) planResult {
	res := planResult{stack: name}
	// plan validates the configuration itself, so a separate validate
	// would only load the 700 MB provider once more.
	steps := [][]string{
		{"init", "-input=false", "-no-color"},
		{"plan", "-refresh=false", "-input=false", "-no-color", "-lock=false"},
	}
	var plan string
	for _, args := range steps {
		cmd := exec.Command("terraform", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
		b, err := cmd.CombinedOutput()
		if err != nil {
			res.err = fmt.Errorf("terraform %s failed: %v\n%s", args[0], err, tail(string(b), 40))
			return res
		}
		plan = string(b)
	}
	switch m := planLine.FindStringSubmatch(plan); {
	case m != nil:
		res.resources, _ = strconv.Atoi(m[1])
	case strings.Contains(plan, "No changes."):
		res.resources = 0
	default:
		res.err = fmt.Errorf("plan printed no summary:\n%s", tail(plan, 20))
	}
	return res
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}
