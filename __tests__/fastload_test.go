package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/acme/landing-zone/internal/fastload"
)

// enableFastload is TestMain's first step, so that the in-process synths
// load the provider the way the app does.
func enableFastload() { fastload.Enable() }

// TestFastloadOutputIsByteIdentical synthesizes the example config with the
// binary three times (jsii starts Node once per process, hence the
// subprocesses): optimized with an empty cache (the provider's type
// assembly is split into it), optimized again (types served from the split)
// and not optimized. All files must be identical, and every speed-up must
// have taken effect, or the comparison proves nothing. The run that is not
// optimized shares nothing with the others (its own output and cache
// folders), so it runs beside the first: separate processes, no jsii in
// this one.
func TestFastloadOutputIsByteIdentical(t *testing.T) {
	skipIfRepoOnly(t)
	bin := buildApp(t)
	cache := t.TempDir()
	var off, offLog string
	var running sync.WaitGroup
	offOut, offCache := t.TempDir(), t.TempDir()
	running.Add(1)
	go func() {
		defer running.Done()
		off, offLog = runAppBinary(bin, "0", offCache, offOut)
	}()
	// Before the folders' removal, should a run below fail the test.
	t.Cleanup(running.Wait)
	cold, coldLog := synthWithBinary(t, bin, "", cache)
	warm, warmLog := synthWithBinary(t, bin, "", cache)
	running.Wait()
	if off == "" {
		t.Fatalf("synth with LZ_FASTLOAD=\"0\": %s", offLog)
	}

	for run, log := range map[string]string{"first": coldLog, "second": warmLog} {
		// Each part says so on stderr under LZ_FASTLOAD_DEBUG.
		for _, name := range fastload.Parts {
			if !strings.Contains(log, "fastload: "+name+": ") {
				t.Errorf("%s optimized run: %s did not take effect:\n%s", run, name, log)
			}
		}
		for _, bad := range []string{" is off", "loading it normally", "cannot cache", "DeprecationWarning"} {
			if strings.Contains(log, bad) {
				t.Errorf("%s optimized run fell back (%q):\n%s", run, bad, log)
			}
		}
	}
	if !strings.Contains(coldLog, "lazy-types: split @cdktf/provider-aws") ||
		!strings.Contains(warmLog, "lazy-types: @cdktf/provider-aws from ") {
		t.Errorf("the first run did not split the types, or the second did not read the split:\n%s\n---\n%s", coldLog, warmLog)
	}
	if strings.Contains(offLog, "fastload") {
		t.Fatalf("LZ_FASTLOAD=0 did not turn the preload off:\n%s", offLog)
	}
	offFiles := listFiles(t, off)
	if len(offFiles) <= len(stackNames(t, off)) {
		t.Fatalf("compared only %d files", len(offFiles))
	}
	for _, on := range []string{cold, warm} {
		if files := listFiles(t, on); strings.Join(files, "\n") != strings.Join(offFiles, "\n") {
			t.Fatalf("different files:\noptimized: %v\nnormal:    %v", files, offFiles)
		}
		for _, rel := range offFiles {
			a, _ := os.ReadFile(filepath.Join(on, rel))
			b, _ := os.ReadFile(filepath.Join(off, rel))
			if !bytes.Equal(a, b) {
				t.Errorf("%s differs when optimized:\n%s", rel, lineDiff(string(b), string(a)))
			}
		}
	}
}

// synthWithBinary runs the app on the example config, online, with
// LZ_FASTLOAD set to mode, the split cache in cache, and NODE_OPTIONS as the
// app finds it on a plain start, and returns the output directory and
// stderr.
func synthWithBinary(t *testing.T, bin, mode, cache string) (string, string) {
	t.Helper()
	out, log := runAppBinary(bin, mode, cache, t.TempDir())
	if out == "" {
		t.Fatalf("synth with LZ_FASTLOAD=%q: %s", mode, log)
	}
	return out, log
}

// runAppBinary is synthWithBinary into the folder out, safe to call from
// any goroutine: on failure it returns "" and the error with stderr.
func runAppBinary(bin, mode, cache, out string) (string, string) {
	cfg, err := filepath.Abs(exampleConfig)
	if err != nil {
		return "", err.Error()
	}
	var env []string
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "LZ_OFFLINE", "LZ_FASTLOAD", "LZ_FASTLOAD_SKIP", "LZ_FASTLOAD_CACHE", "LZ_CONFIG", "CDKTF_OUTDIR", "NODE_OPTIONS":
			continue
		}
		env = append(env, kv)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(env, "LZ_FASTLOAD="+mode, "LZ_FASTLOAD_DEBUG=1", "LZ_FASTLOAD_CACHE="+cache,
		"LZ_CONFIG="+cfg, "CDKTF_OUTDIR="+out)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Sprintf("%v\n%s", err, stderr.String())
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
