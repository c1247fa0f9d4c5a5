package awsenv

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// literalExempt are the files and folders that may write "arn:aws:" by
// hand: this package, which builds every ARN; the IAM proof's questions
// (internal/access), which ask about the commercial partition only; and the
// config's deploy_role check, whose pattern and hint name the partitions.
var literalExempt = []string{"internal/awsenv/", "internal/access/", "internal/config/validate.go"}

// TestNoLiteralCommercialARNs keeps ARNs going through a Partition: a
// hand-written "arn:aws:" in product code is an ARN in the wrong partition
// for a GovCloud or China config.
func TestNoLiteralCommercialARNs(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, dir := range []string{"constructs", "stacks", "internal", "app"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			rel = filepath.ToSlash(rel)
			for _, e := range literalExempt {
				if strings.HasPrefix(rel, e) {
					return nil
				}
			}
			for _, line := range literals(t, path) {
				t.Errorf("%s:%d: literal arn:aws: (build it with awsenv: env.ARN, env.Role, Partition.IAM, .S3, .ManagedPolicy)", rel, line)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// literals returns the line numbers of path that write "arn:aws:".
func literals(t *testing.T, path string) []int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []int
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for n := 1; s.Scan(); n++ {
		if strings.Contains(s.Text(), "arn:aws:") {
			out = append(out, n)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLiteralsFindsAHandWrittenARN is the check's broken case: a file with
// a hand-written ARN must be reported, on its line.
func TestLiteralsFindsAHandWrittenARN(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.go")
	if err := os.WriteFile(path, []byte("package bad\n\nconst role = \"arn:aws:iam::111111111111:role/x\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := literals(t, path); len(got) != 1 || got[0] != 3 {
		t.Fatalf("literals = %v, want [3]", got)
	}
}
