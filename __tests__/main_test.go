package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildApp compiles the synth app once per test run.
func buildApp(t *testing.T) string {
	t.Helper()
	if appBinary != "" {
		return appBinary
	}
	dir, err := os.MkdirTemp("", "lz-bin-")
	if err != nil {
		t.Fatal(err)
	}
	sharedDirs = append(sharedDirs, dir)
	bin := filepath.Join(dir, "landing-zone")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	appBinary = bin
	return bin
}

var appBinary string

// TestBadConfigWritesNothing runs the real binary on a broken config: it
// must exit non-zero, list every problem, and leave the output directory
// exactly as it was (here: absent; a stale good synth must survive too).
func TestBadConfigWritesNothing(t *testing.T) {
	bin := buildApp(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "config.yaml")
	s := edit(t, exampleYAML(t), "cidr: 10.20.0.0/16", "cidr: 10.10.0.0/16")
	s = edit(t, s, `"666666666666"`, `"6666"`)
	if err := os.WriteFile(bad, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "cdktf.out")
	keep := filepath.Join(out, "stacks", "dev", "cdk.tf.json")
	if err := os.MkdirAll(filepath.Dir(keep), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keep, []byte(`{"previous":"good synth"}`), 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "LZ_CONFIG="+bad, "CDKTF_OUTDIR="+out)
	b, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("exit 0 on a bad config:\n%s", b)
	}
	for _, want := range []string{"2 problem(s)", "accounts.stage.vpc.cidr: 10.10.0.0/16 overlaps accounts.dev.vpc.cidr", "accounts.prod.id:"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("output lacks %q:\n%s", want, b)
		}
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 || entries[0].Name() != "stacks" {
		t.Errorf("the output directory changed: %v", entries)
	}
	if got, _ := os.ReadFile(keep); string(got) != `{"previous":"good synth"}` {
		t.Errorf("the previous synth was overwritten: %s", got)
	}
}

func TestMissingConfigFileSaysHowToPointAtOne(t *testing.T) {
	cmd := exec.Command(buildApp(t))
	cmd.Env = append(os.Environ(), "LZ_CONFIG=/nonexistent/config.yaml", "CDKTF_OUTDIR="+t.TempDir())
	b, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(b), "LZ_CONFIG") {
		t.Errorf("want a non-zero exit that mentions LZ_CONFIG, got %v:\n%s", err, b)
	}
}
