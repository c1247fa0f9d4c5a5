package access

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acme/landing-zone/internal/config"
)

// TestEngineAnswersDoNotDependOnHowItIsRun: the engine's speed-ups (the
// memos and the NotAction pruning of simulate.mjs, which LZ_ACCESS_PLAIN=1
// turns off) and the split of the requests across processes change no
// answer. On the whole request set of the eu-four-apps fixture (SCPs, one
// of them with a long NotAction list), read from its golden snapshot (no
// synth), one plain process, as the engine ran before them, answers byte
// for byte as three processes (an uneven split) with them.
func TestEngineAnswersDoNotDependOnHowItIsRun(t *testing.T) {
	const fixture = "eu-four-apps"
	cfg, err := config.Load(filepath.Join("../../__tests__/testdata/configs", fixture+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("../../__tests__/testdata/snapshots", fixture, "*.tf.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no snapshots of %s: %v", fixture, err)
	}
	docs := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs[strings.TrimSuffix(filepath.Base(f), ".tf.json")] = b
	}
	s, err := Parse(docs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The engine's input, as Prove sends it (LZ_ACCESS_DUMP), without
	// answering it: "false" in place of Node fails at once. The snapshot
	// may trail the code: only the answers matter here, not the questions.
	dump := filepath.Join(t.TempDir(), "input.json")
	t.Setenv("LZ_ACCESS_DUMP", dump)
	node, hadNode := os.LookupEnv("JSII_NODE")
	t.Setenv("JSII_NODE", "false")
	if _, err := Prove(s, cfg, Options{}); err == nil || !strings.Contains(err.Error(), "the policy engine failed") {
		t.Fatalf("want the stand-in engine to fail: %v", err)
	}
	os.Unsetenv("LZ_ACCESS_DUMP")
	if hadNode {
		os.Setenv("JSII_NODE", node)
	} else {
		os.Unsetenv("JSII_NODE")
	}
	var in struct {
		Policies map[string]any `json:"policies"`
		Requests []request      `json:"requests"`
	}
	b, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatal(err)
	}
	if len(in.Requests) < 1000 {
		t.Fatalf("only %d requests: want the fixture's whole set", len(in.Requests))
	}
	t.Cleanup(func() { engineProcesses = 0 })
	t.Setenv("LZ_ACCESS_PLAIN", "")
	run := func(procs int, plain bool) []byte {
		engineProcesses = procs
		os.Setenv("LZ_ACCESS_PLAIN", map[bool]string{true: "1", false: ""}[plain])
		out, err := simulate(in.Policies, in.Requests)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	want := run(1, true)
	results := map[string]int{}
	var answers []answer
	_ = json.Unmarshal(want, &answers)
	for _, a := range answers {
		results[a.Result]++
	}
	t.Logf("%d requests: %v", len(in.Requests), results)
	if got := run(3, false); !bytes.Equal(got, want) {
		t.Errorf("three processes with the speed-ups answer otherwise than one plain process:\n%s", firstDifference(got, want))
	}
}

// firstDifference shows where two JSON answer lists first differ.
func firstDifference(got, want []byte) string {
	var g, w []answer
	_ = json.Unmarshal(got, &g)
	_ = json.Unmarshal(want, &w)
	for i := range min(len(g), len(w)) {
		a, _ := json.Marshal(g[i])
		b, _ := json.Marshal(w[i])
		if !bytes.Equal(a, b) {
			return fmt.Sprintf("request %d: got %s\nwant %s", i, a, b)
		}
	}
	return "different lengths"
}
