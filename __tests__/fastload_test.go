package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acme/landing-zone/internal/fastload"
)

// enableFastload is TestMain's first step, so that the in-process synths
// load the provider the way the app does.
func enableFastload() { fastload.Enable() }

// TestFastloadOutputIsByteIdentical synthesizes the example config with the
// binary twice, with the lazy provider load and without it (jsii starts
// Node once per process, hence the subprocesses), and requires identical
// files.
func TestFastloadOutputIsByteIdentical(t *testing.T) {
	bin := buildApp(t)
	on, onLog := synthWithBinary(t, bin, "")
	off, offLog := synthWithBinary(t, bin, "0")

	if !strings.Contains(onLog, "lazy index for @cdktf/provider-aws") || strings.Contains(onLog, "loading it normally") {
		t.Fatalf("the optimized run did not load the provider lazily, so the comparison proves nothing:\n%s", onLog)
	}
	if strings.Contains(offLog, "fastload") {
		t.Fatalf("LZ_FASTLOAD=0 did not turn the preload off:\n%s", offLog)
	}
	onFiles, offFiles := listFiles(t, on), listFiles(t, off)
	if strings.Join(onFiles, "\n") != strings.Join(offFiles, "\n") {
		t.Fatalf("different files:\nlazy:   %v\nnormal: %v", onFiles, offFiles)
	}
	for _, rel := range onFiles {
		a, _ := os.ReadFile(filepath.Join(on, rel))
		b, _ := os.ReadFile(filepath.Join(off, rel))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs with the lazy load:\n%s", rel, lineDiff(string(b), string(a)))
		}
	}
	if len(onFiles) <= len(stackNames(t, on)) {
		t.Fatalf("compared only %d files", len(onFiles))
	}
}

// synthWithBinary runs the app on the example config, online, with
// LZ_FASTLOAD set to mode and NODE_OPTIONS as the app finds it on a plain
// start, and returns the output directory and stderr.
func synthWithBinary(t *testing.T, bin, mode string) (string, string) {
	t.Helper()
	cfg, err := filepath.Abs(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "LZ_OFFLINE", "LZ_FASTLOAD", "LZ_CONFIG", "CDKTF_OUTDIR", "NODE_OPTIONS":
			continue
		}
		env = append(env, kv)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(env, "LZ_FASTLOAD="+mode, "LZ_FASTLOAD_DEBUG=1", "LZ_CONFIG="+cfg, "CDKTF_OUTDIR="+out)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("synth with LZ_FASTLOAD=%q: %v\n%s", mode, err, stderr.String())
	}
	return out, stderr.String()
}

func listFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, path)
			files = append(files, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
