package tests

import (
	"bytes"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/fastload"
	"github.com/acme/landing-zone/stacks"
)

var update = flag.Bool("update", false, "rewrite the golden snapshots under testdata/snapshots/<fixture>")

// snapshotDir holds one folder of golden files per fixture.
const snapshotDir = "testdata/snapshots"

// regenerate is the one command that refreshes every snapshot.
const regenerate = "make snapshots  (or: go test ./__tests__/ -run TestSnapshots -update)"

// synthSeconds and synthCount record the shared synths (configs_test.go),
// for the suite's phase report (printed by TestMain).
var synthSeconds = map[string]float64{}

// online is the shared synth of the example fixture, for tests that check
// literal values; property tests loop over propertyConfigs.
func online(t testing.TB) string { return synthOf(t, fixtureConfig(t, exampleFixture)) }

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
		for _, name := range slices.Sorted(maps.Keys(synthPaidBy)) {
			fmt.Printf("phase synth-in: %s %.1f\n", name, synthPaidBy[name])
		}
	}
	for _, d := range sharedDirs {
		os.RemoveAll(d)
	}
	fastload.Close() // stops Node and removes jsii's temporary folder
	os.Exit(code)
}

// TestSnapshots compares every stack of the real (online) synth of each
// fixture under testdata/configs with its golden file in
// testdata/snapshots/<fixture>/. The repository's config.yaml has none: a
// fork changes it, and the property tests cover it.
func TestSnapshots(t *testing.T) {
	names := fixtureNames(t)
	for _, name := range names {
		t.Run(name, func(t *testing.T) { checkSnapshots(t, fixtureConfig(t, name)) })
	}
	// Snapshot folders of fixtures that are gone, or files of the old flat
	// layout, would never be compared again.
	entries, err := os.ReadDir(snapshotDir)
	if err != nil && !*update {
		t.Fatalf("%v: run %s", err, regenerate)
	}
	for _, e := range entries {
		if e.IsDir() && slices.Contains(names, e.Name()) {
			continue
		}
		stale := filepath.Join(snapshotDir, e.Name())
		if *update {
			if err := os.RemoveAll(stale); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("%s belongs to no fixture in %s: run %s", stale, fixtureDir, regenerate)
	}
}

func checkSnapshots(t *testing.T, f fixture) {
	synthesized := readStacks(t, synthOf(t, f))
	names := slices.Sorted(maps.Keys(synthesized))
	dir := filepath.Join(snapshotDir, f.Name)
	if *update {
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range names {
		got := synthesized[name]
		golden := filepath.Join(dir, name+".tf.json")
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Errorf("stack %s of fixture %s has no snapshot: run %s", name, f.Name, regenerate)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("stack %s differs from %s:\n%s\nIf the change is intended, run %s", name, golden, lineDiff(string(want), string(got)), regenerate)
		}
	}
	goldens, _ := filepath.Glob(filepath.Join(dir, "*.tf.json"))
	if !*update && len(goldens) != len(names) {
		t.Errorf("%d snapshots for %d stacks of fixture %s: a stack was added or removed; run %s", len(goldens), len(names), f.Name, regenerate)
	}
}

// TestSynthIsDeterministic synthesizes a second time and requires every
// output file to be byte-identical to the first. It uses the fixture with
// the most accounts and services: map order is what could vary.
func TestSynthIsDeterministic(t *testing.T) {
	f := fixtureConfig(t, "eu-four-apps")
	first := synthOf(t, f)
	second := synthInto(t, f.Cfg, stacks.Options{}, t.TempDir())
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
