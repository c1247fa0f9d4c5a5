package tests

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acme/landing-zone/internal/config"
)

// corpusCase is one file of testdata/bad-configs: its first line is
// "# want: <text the error must contain>".
type corpusCase struct {
	name, path, want string
}

func badCorpus(t *testing.T) []corpusCase {
	t.Helper()
	files, err := filepath.Glob("testdata/bad-configs/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out []corpusCase
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(fh).ReadString('\n')
		fh.Close()
		want, ok := strings.CutPrefix(strings.TrimSpace(line), "# want: ")
		if !ok || want == "" {
			t.Fatalf("%s: the first line must be '# want: <expected error text>'", f)
		}
		out = append(out, corpusCase{strings.TrimSuffix(filepath.Base(f), ".yaml"), f, want})
	}
	if len(out) < 40 {
		t.Fatalf("the hostile config corpus has %d cases, want at least 40", len(out))
	}
	return out
}

// TestHostileConfigCorpusIsRejectedWithTheKeyNamed loads every corpus file:
// no panic, a *Problems naming the key, and every problem carries a fix.
func TestHostileConfigCorpusIsRejectedWithTheKeyNamed(t *testing.T) {
	for _, c := range badCorpus(t) {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := config.Load(c.path)
			var ps *config.Problems
			if cfg != nil || !errors.As(err, &ps) {
				t.Fatalf("want *config.Problems and no config, got %v", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error lacks %q:\n%v", c.want, err)
			}
			for _, p := range ps.List {
				if p.Path == "" || p.Fix == "" {
					t.Errorf("problem %q lacks a key path or a fix", p)
				}
			}
		})
	}
}

// TestHostileConfigCorpusWritesNothing runs the real binary on every corpus
// file over a previous good output: exit 1, the problem on stderr, and the
// previous output byte-for-byte as it was.
func TestHostileConfigCorpusWritesNothing(t *testing.T) {
	bin := buildApp(t)
	for _, c := range badCorpus(t) {
		out := t.TempDir()
		keep := filepath.Join(out, "manifest.json")
		if err := os.WriteFile(keep, []byte("good"), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "LZ_CONFIG="+c.path, "CDKTF_OUTDIR="+out)
		b, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Errorf("%s: want exit status 1, got %v", c.name, err)
		}
		if strings.Contains(string(b), "panic") || !strings.Contains(string(b), c.want) {
			t.Errorf("%s: output lacks %q or panicked:\n%s", c.name, c.want, b)
		}
		entries, _ := os.ReadDir(out)
		got, _ := os.ReadFile(keep)
		if len(entries) != 1 || string(got) != "good" {
			t.Errorf("%s: the output directory changed", c.name)
		}
		siblings, _ := filepath.Glob(out + ".staging-*")
		if len(siblings) > 0 {
			t.Errorf("%s: left a staging directory %v", c.name, siblings)
		}
	}
}
