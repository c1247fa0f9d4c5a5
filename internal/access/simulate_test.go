package access

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

// TestEngineAnswersDoNotDependOnHowItIsRun: the engine's speed-ups (the
// memos and the NotAction pruning of simulate.mjs, which LZ_ACCESS_PLAIN=1
// turns off) and the split of the requests across processes change no
// answer. On the whole request set of the eu-four-apps fixture (SCPs, one
// of them with a long NotAction list), read from its golden snapshot (no
// synth), one plain process, as the engine ran before them, answers byte
// for byte as three processes (an uneven split) with them.
func TestEngineAnswersDoNotDependOnHowItIsRun(t *testing.T) {
	policies, requests := engineInput(t)
	t.Cleanup(func() { engineProcesses = 0 })
	t.Setenv("LZ_ACCESS_PLAIN", "")
	answersOf := func(procs int, plain bool) []byte {
		engineProcesses = procs
		os.Setenv("LZ_ACCESS_PLAIN", map[bool]string{true: "1", false: ""}[plain])
		b, _ := run(t, policies, requests)
		return b
	}
	want := answersOf(1, true)
	results := map[string]int{}
	var answers []answer
	_ = json.Unmarshal(want, &answers)
	for _, a := range answers {
		results[a.Result]++
	}
	t.Logf("%d requests: %v", len(requests), results)
	if got := answersOf(3, false); !bytes.Equal(got, want) {
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
