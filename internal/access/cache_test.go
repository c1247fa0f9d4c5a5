package access

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/acme/landing-zone/internal/config"
)

// TestMain turns the answer cache off for the package's tests, so that
// they ask the engine as they did before it (and never touch the user's
// cache directory); the cache's own tests turn it on, in a directory of
// their own.
func TestMain(m *testing.M) {
	os.Setenv("LZ_ACCESS_CACHE", "0")
	os.Exit(m.Run())
}

// withCache turns the cache on in a fresh directory and returns the
// cache file's path.
func withCache(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("LZ_ACCESS_CACHE", "")
	t.Setenv("LZ_FASTLOAD_CACHE", dir)
	t.Setenv("LZ_ACCESS_PLAIN", "")
	return filepath.Join(dir, cacheFileName)
}

// engineInputMemo is the eu-four-apps fixture's engine input, read once.
var engineInputMemo struct {
	policies map[string]any
	requests []request
}

// engineInput is the engine's input for the eu-four-apps fixture (SCPs,
// identity, trust and resource policies), as Prove sends it, from its
// golden snapshot without synth (as simulate_test.go gets it).
func engineInput(t *testing.T) (map[string]any, []request) {
	t.Helper()
	if engineInputMemo.requests == nil {
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
		// "false" in place of Node fails at once, after the dump.
		dump := filepath.Join(t.TempDir(), "input.json")
		restore := setenv(map[string]string{"LZ_ACCESS_DUMP": dump, "LZ_ACCESS_CACHE": "0", "JSII_NODE": "false"})
		_, err = Prove(s, cfg, Options{})
		restore()
		if err == nil || !strings.Contains(err.Error(), "the policy engine failed") {
			t.Fatalf("want the stand-in engine to fail: %v", err)
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
		engineInputMemo.policies, engineInputMemo.requests = in.Policies, in.Requests
	}
	// Copies: tests change documents.
	var policies map[string]any
	b, _ := json.Marshal(engineInputMemo.policies)
	_ = json.Unmarshal(b, &policies)
	return policies, slices.Clone(engineInputMemo.requests)
}

// run simulates and returns the answers' JSON and how many engine
// processes started.
func run(t *testing.T, policies map[string]any, reqs []request) ([]byte, int64) {
	t.Helper()
	before := atomic.LoadInt64(&engineRuns)
	out, err := simulate(policies, reqs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b, atomic.LoadInt64(&engineRuns) - before
}

// uncached answers with the cache off.
func uncached(t *testing.T, policies map[string]any, reqs []request) []byte {
	t.Helper()
	defer setenv(map[string]string{"LZ_ACCESS_CACHE": "0"})()
	b, _ := run(t, policies, reqs)
	return b
}

// setenv sets variables until the function it returns restores them.
func setenv(vars map[string]string) func() {
	type was struct {
		value string
		set   bool
	}
	old := map[string]was{}
	for k, v := range vars {
		value, set := os.LookupEnv(k)
		old[k] = was{value, set}
		os.Setenv(k, v)
	}
	return func() {
		for k, w := range old {
			if w.set {
				os.Setenv(k, w.value)
			} else {
				os.Unsetenv(k)
			}
		}
	}
}

// identityPolicyNamedBySome is the identity policy named by the fewest
// requests (at least 5), and those requests' indexes.
func identityPolicyNamedBySome(t *testing.T, reqs []request) (string, []int) {
	t.Helper()
	naming := map[string][]int{}
	for i, r := range reqs {
		for _, id := range namedPolicies(r) {
			if slices.Contains(r.Identity, id) {
				naming[id] = append(naming[id], i)
			}
		}
	}
	best := ""
	for id, is := range naming {
		if len(is) >= 5 && (best == "" || len(is) < len(naming[best]) || len(is) == len(naming[best]) && id < best) {
			best = id
		}
	}
	if best == "" {
		t.Fatal("no identity policy named by 5 requests or more")
	}
	// Requests that name the policy in any field (the key's definition).
	var is []int
	for i, r := range reqs {
		if slices.Contains(namedPolicies(r), best) {
			is = append(is, i)
		}
	}
	return best, is
}

// denyAll adds a statement denying everything to an identity policy.
func denyAll(t *testing.T, policies map[string]any, id string) {
	t.Helper()
	doc, ok := policies[id].(map[string]any)
	if !ok {
		t.Fatalf("policy %s is no document", id)
	}
	st, _ := doc["Statement"].([]any)
	if m, ok := doc["Statement"].(map[string]any); ok {
		st = []any{m}
	}
	doc["Statement"] = append(st, map[string]any{"Sid": "CacheTestDenyAll", "Effect": "Deny", "Action": "*", "Resource": "*"})
}

// TestCachedAnswersAreTheEngines: the whole request set of a fixture,
// asked twice, is answered the second time from the cache, with no engine
// process, byte for byte as the engine answered. Then one identity policy
// changes (a statement that denies everything): exactly the requests that
// name it are asked again, and every answer is the one the engine gives
// with the cache off.
func TestCachedAnswersAreTheEngines(t *testing.T) {
	path := withCache(t)
	policies, reqs := engineInput(t)

	first, procs := run(t, policies, reqs)
	if procs == 0 || cacheStats.Hits != 0 {
		t.Fatalf("an empty cache: want the engine asked every request, got %d processes, %d answers from the cache", procs, cacheStats.Hits)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no cache file after a run: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file mode %v, want 0600", fi.Mode().Perm())
	}
	second, procs := run(t, policies, reqs)
	if procs != 0 || cacheStats.Hits != len(reqs) {
		t.Errorf("the same input again: %d engine processes, %d of %d answers from the cache; want none and all", procs, cacheStats.Hits, len(reqs))
	}
	if !bytes.Equal(first, second) {
		t.Errorf("cached answers differ from the engine's:\n%s", firstDifference(second, first))
	}
	t.Logf("%d requests; keying them and reading the cache took %v", len(reqs), cacheStats.Lookup)

	id, naming := identityPolicyNamedBySome(t, reqs)
	denyAll(t, policies, id)
	changed, _ := run(t, policies, reqs)
	if cacheStats.Asked != len(naming) {
		t.Errorf("%s changed, named by %d requests: the engine was asked %d", id, len(naming), cacheStats.Asked)
	}
	if bytes.Equal(changed, first) {
		t.Fatalf("denying everything in %s changed no answer: the test proves nothing", id)
	}
	if want := uncached(t, policies, reqs); !bytes.Equal(changed, want) {
		t.Errorf("after %s changed, the cache answers otherwise than the engine:\n%s", id, firstDifference(changed, want))
	}
	t.Logf("%s changed: %d requests asked again", id, len(naming))
}

// TestCacheKeyCoversThePolicyDocuments: a key that left the documents out
// (the ids alone, in the request) would answer a request from the cache
// after its policy changed: the engine's old answer. The real key asks
// again.
func TestCacheKeyCoversThePolicyDocuments(t *testing.T) {
	policies, all := engineInput(t)
	id, naming := identityPolicyNamedBySome(t, all)
	var reqs []request
	for _, i := range naming {
		reqs = append(reqs, all[i])
	}
	changed := map[string]any{}
	b, _ := json.Marshal(policies)
	_ = json.Unmarshal(b, &changed)
	denyAll(t, changed, id)
	want := uncached(t, changed, reqs)

	idsOnly := func(k *keyInputs, r request) ([32]byte, error) {
		rb, err := json.Marshal(r)
		h := sha256.New()
		h.Write(k.prefix[:])
		field(h, rb)
		var key [32]byte
		h.Sum(key[:0])
		return key, err
	}
	for _, c := range []struct {
		name  string
		key   func(*keyInputs, request) ([32]byte, error)
		stale bool
	}{{"ids only", idsOnly, true}, {"the real key", requestKey, false}} {
		t.Run(c.name, func(t *testing.T) {
			withCache(t)
			cacheKey = c.key
			defer func() { cacheKey = requestKey }()
			before, _ := run(t, policies, reqs)
			got, procs := run(t, changed, reqs)
			if c.stale {
				if procs != 0 || !bytes.Equal(got, before) || bytes.Equal(got, want) {
					t.Errorf("want the broken key to answer from the cache, stale: %d engine processes", procs)
				}
				return
			}
			if procs == 0 || cacheStats.Asked != len(reqs) {
				t.Errorf("%s changed: want all %d requests that name it asked again, got %d", id, len(reqs), cacheStats.Asked)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("after %s changed:\n%s", id, firstDifference(got, want))
			}
		})
	}
}

// TestCorruptOrUnwritableCacheOnlyCostsSpeed: a cache file that does not
// parse (garbage, a flipped bit, a cut-off end) is ignored and replaced;
// a cache directory that cannot be made is no error.
func TestCorruptOrUnwritableCacheOnlyCostsSpeed(t *testing.T) {
	policies, all := engineInput(t)
	reqs := all[:40]
	want := uncached(t, policies, reqs)
	path := withCache(t)
	run(t, policies, reqs)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 1
	for name, b := range map[string][]byte{
		"garbage":     []byte("{not a cache"),
		"flipped bit": flipped,
		"cut off":     good[:len(good)-10],
		"empty":       {},
	} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		got, procs := run(t, policies, reqs)
		if procs == 0 || !bytes.Equal(got, want) {
			t.Errorf("%s: want the file ignored and the engine asked (%d processes)", name, procs)
		}
		if b, _ := os.ReadFile(path); !bytes.Equal(b, good) {
			t.Errorf("%s: want the file replaced", name)
		}
	}

	// A cache "directory" under a file cannot be made.
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LZ_FASTLOAD_CACHE", filepath.Join(blocker, "cache"))
	if got, _ := run(t, policies, reqs); !bytes.Equal(got, want) {
		t.Error("an unwritable cache directory changed the answers")
	}
}

// TestCacheKeepsRecentRunsUpToItsBound: a run's entries come first, then
// those of earlier runs, at most maxCacheEntries; answers that are errors
// are never stored.
func TestCacheKeepsRecentRunsUpToItsBound(t *testing.T) {
	path := filepath.Join(t.TempDir(), cacheFileName)
	key := func(i int) [32]byte { return sha256.Sum256([]byte{byte(i)}) }
	keys := func(from, to int) (ks [][32]byte, out []answer) {
		for i := from; i < to; i++ {
			ks, out = append(ks, key(i)), append(out, answer{Result: "Allowed", DecidedBy: []string{"p#" + string(rune('a'+i%3))}})
		}
		if from == 0 {
			out[3].DecidedBy = []string{} // not the same as none (JSON [] and null)
			out[2].DecidedBy = nil
		}
		return
	}
	defer func(n int) { maxCacheEntries = n }(maxCacheEntries)
	maxCacheEntries = 10
	ks, out := keys(0, 6)
	out[5].Result = "Error"
	readCache(path).write(path, ks, out)
	ks, out = keys(6, 12)
	readCache(path).write(path, ks, out)
	c := readCache(path)
	var got []int
	for _, k := range c.keys {
		for i := range 12 {
			if key(i) == k {
				got = append(got, i)
			}
		}
	}
	// This run's 6 first, then the earlier run's but its error, cut at 10.
	if want := []int{6, 7, 8, 9, 10, 11, 0, 1, 2, 3}; !slices.Equal(got, want) {
		t.Errorf("entries %v, want %v", got, want)
	}
	if len(c.answers) != 5 {
		t.Errorf("%d distinct answers stored, want 5 (shared)", len(c.answers))
	}
	if a, ok := c.lookup(key(3)); !ok || a.DecidedBy == nil || len(a.DecidedBy) != 0 {
		t.Errorf("an empty decidedBy comes back as %#v", a.DecidedBy)
	}
	if a, ok := c.lookup(key(2)); !ok || a.DecidedBy != nil {
		t.Errorf("no decidedBy comes back as %#v", a.DecidedBy)
	}
	if a, ok := c.lookup(key(7)); !ok || a.Result != "Allowed" || a.DecidedBy[0] != "p#b" {
		t.Errorf("lookup: %+v %v", a, ok)
	}
}

// BenchmarkCacheKeys: keying a fixture's whole request set (hashing the
// engine's identity, every policy document and every request), the cost
// the cache adds to every synth besides reading its file.
func BenchmarkCacheKeys(b *testing.B) {
	t := &testing.T{}
	policies, reqs := engineInput(t)
	root, err := nodeRoot()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		k, err := newKeyInputs(root, policies)
		if err != nil || k == nil {
			b.Fatal(err)
		}
		for _, r := range reqs {
			if _, err := requestKey(k, r); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestCacheKeyCoversEveryRequestField: requestKey writes the request's
// fields by hand; changing any field of request (or of an SCP level)
// changes the key, so a field added to request and left out of the key
// fails here.
func TestCacheKeyCoversEveryRequestField(t *testing.T) {
	k := &keyInputs{docs: map[string][32]byte{}}
	base := request{
		Principal: "p", Action: "s3:GetObject", Resource: "r", Account: "1",
		Context:  map[string]any{"aws:a": "x", "aws:b": []any{"y"}},
		Identity: []string{"i"}, ResourcePolicy: "rp", RawKeys: []string{"k"},
		SCPs: []SCPLevel{{Name: "root", Policies: []string{"s"}}},
	}
	want, _ := requestKey(k, base)
	seen := map[[32]byte]string{want: "base"}
	check := func(name string, r request) {
		got, err := requestKey(k, r)
		if err != nil {
			t.Fatal(err)
		}
		if other, ok := seen[got]; ok {
			t.Errorf("changing %s gives the key of %s", name, other)
		}
		seen[got] = name
	}
	v := reflect.ValueOf(base)
	for i := range v.NumField() {
		f := v.Type().Field(i)
		r := base
		r.Context, r.Identity, r.RawKeys = maps.Clone(base.Context), slices.Clone(base.Identity), slices.Clone(base.RawKeys)
		r.SCPs = []SCPLevel{{Name: "root", Policies: []string{"s"}}}
		field := reflect.ValueOf(&r).Elem().Field(i)
		switch x := field.Addr().Interface().(type) {
		case *string:
			*x += "2"
		case *[]string:
			*x = append(*x, "2")
		case *map[string]any:
			(*x)["aws:a"] = "x2"
		case *[]SCPLevel:
			(*x)[0].Name += "2"
			check(f.Name+"[0].Name", r)
			(*x)[0].Name = "root"
			(*x)[0].Policies = append((*x)[0].Policies, "2")
		default:
			t.Fatalf("request.%s: teach this test (and requestKey) its type %s", f.Name, f.Type)
		}
		check(f.Name, r)
	}
	if n := reflect.TypeOf(SCPLevel{}).NumField(); n != 2 {
		t.Fatalf("SCPLevel has %d fields: teach this test (and requestKey) the new one", n)
	}
	// A document changes the key of a request that names it.
	k.docs["i"] = sha256.Sum256([]byte("{}"))
	check("the document of i", base)
}

// BenchmarkCachedSimulate: simulate with every answer in the cache (after
// one untimed run that fills it): keying every request, reading the file
// and decoding the answers, which is what a synth whose policies did not
// change pays for the IAM proof's answers.
func BenchmarkCachedSimulate(b *testing.B) {
	t := &testing.T{}
	policies, reqs := engineInput(t)
	dir := b.TempDir()
	defer setenv(map[string]string{"LZ_ACCESS_CACHE": "", "LZ_FASTLOAD_CACHE": dir})()
	if _, err := simulate(policies, reqs); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := simulate(policies, reqs); err != nil || cacheStats.Hits != len(reqs) {
			b.Fatal(err, cacheStats.Hits)
		}
	}
}

// TestNoCacheWithoutTheEngineVersions: if an engine package's version
// cannot be read, nothing is keyed (simulate then asks the engine every
// request and stores nothing).
func TestNoCacheWithoutTheEngineVersions(t *testing.T) {
	root := t.TempDir()
	for _, p := range enginePackages[1:] {
		dir := filepath.Join(root, "node_modules/@cloud-copilot", p)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"version":"1.0.0"}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if k, err := newKeyInputs(root, nil); k != nil || err != nil {
		t.Errorf("without %s: keyed anyway (%v)", enginePackages[0], err)
	}
	real, err := nodeRoot()
	if err != nil {
		t.Fatal(err)
	}
	if v := installedVersions(real); !strings.Contains(v, "@cloud-copilot/iam-simulate@") {
		t.Errorf("installed versions %q", v)
	}
}
