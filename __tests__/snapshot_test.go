package tests

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/fastload"
	"github.com/acme/landing-zone/stacks"
)

var update = flag.Bool("update", false, "rewrite the golden snapshots under testdata/snapshots")

const snapshotDir = "testdata/snapshots"

// regenerate is the one command that refreshes every snapshot.
const regenerate = "make snapshots  (or: go test ./__tests__/ -run TestSnapshots -update)"

// synthSeconds and synthCount record the shared synths (configs_test.go),
// for the suite's phase report (printed by TestMain).
var synthSeconds = map[string]float64{}

// online and offline are the shared synths of the example fixture, for tests
// that check literal values; property tests loop over propertyConfigs.
func online(t testing.TB) string  { return synthOf(t, fixtureConfig(t, exampleFixture)) }
func offline(t testing.TB) string { return offlineSynthOf(t, fixtureConfig(t, exampleFixture)) }

// synthShared synthesizes into a directory that outlives the calling test.
func synthShared(t testing.TB, cfg *config.Config, opts stacks.Options) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lz-synth-")
	if err != nil {
		t.Fatal(err)
	}
	sharedDirs = append(sharedDirs, dir)
	return synthInto(t, cfg, opts, dir)
}

var sharedDirs []string

func TestMain(m *testing.M) {
	enableFastload()
	flag.Parse()
	code := m.Run()
	if len(synthSeconds) > 0 {
		fmt.Printf("phase synth: online %.1fs, offline %.1fs (%d online and %d offline synths of distinct configs, all stacks)\n",
			synthSeconds["online"], synthSeconds["offline"], synthCount["online"], synthCount["offline"])
	}
	for _, d := range sharedDirs {
		os.RemoveAll(d)
	}
	fastload.Close() // stops Node and removes jsii's temporary folder
	os.Exit(code)
}

// TestSnapshots compares every stack of the real (online) synth of the
// example config with its golden file.
func TestSnapshots(t *testing.T) {
	out := online(t)
	names := stackNames(t, out)
	if *update {
		os.RemoveAll(snapshotDir)
		if err := os.MkdirAll(snapshotDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range names {
		got, err := os.ReadFile(stackFile(out, name))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join(snapshotDir, name+".tf.json")
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Errorf("stack %s has no snapshot: run %s", name, regenerate)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("stack %s differs from %s:\n%s\nIf the change is intended, run %s", name, golden, lineDiff(string(want), string(got)), regenerate)
		}
	}
	goldens, _ := filepath.Glob(filepath.Join(snapshotDir, "*.tf.json"))
	if !*update && len(goldens) != len(names) {
		t.Errorf("%d snapshots for %d stacks: a stack was added or removed; run %s", len(goldens), len(names), regenerate)
	}
}

// TestSynthIsDeterministic synthesizes a second time and requires every
// output file to be byte-identical to the first.
func TestSynthIsDeterministic(t *testing.T) {
	first := online(t)
	second := synthInto(t, loadExample(t), stacks.Options{}, t.TempDir())
	files := 0
	err := filepath.WalkDir(first, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(first, path)
		a, _ := os.ReadFile(path)
		b, err := os.ReadFile(filepath.Join(second, rel))
		if err != nil {
			t.Errorf("%s is missing from the second synth", rel)
			return nil
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two synths of the same config:\n%s", rel, lineDiff(string(a), string(b)))
		}
		files++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < len(stackNames(t, first)) {
		t.Fatalf("compared only %d files", files)
	}
}

// lineDiff shows the first differing lines with a little context: enough to
// see what changed without a diff library.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	var b strings.Builder
	from := max(0, i-3)
	for j := from; j < i; j++ {
		fmt.Fprintf(&b, "  %5d   %s\n", j+1, w[j])
	}
	for j := i; j < min(len(w), i+8); j++ {
		fmt.Fprintf(&b, "- %5d   %s\n", j+1, w[j])
	}
	for j := i; j < min(len(g), i+8); j++ {
		fmt.Fprintf(&b, "+ %5d   %s\n", j+1, g[j])
	}
	return b.String()
}
