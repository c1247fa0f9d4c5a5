// Package fastload makes jsii's Node side of a synth fast.
//
// Most of a stock CDKTF Go synth is spent in jsii's Node process: requiring
// all ~2,000 modules of the AWS provider, parsing its 114 MB type assembly,
// relaying every call through a second Node process, formatting
// messages and stack traces nobody reads, running `terraform version`
// anew for every stack with moved blocks, and resolving every stack twice
// to find references between stacks, which the landing zone refuses
// (no-prepare: such a reference fails the synth, naming it). preload.js, preloaded into that
// process, removes each of these costs (its header lists them) and falls
// back to the normal load, with one warning line, wherever the code it
// changes has another shape. The output is byte-identical either way. It
// also keeps a deprecation warning that cdktf triggers on Node 22 off every
// synth.
//
// Enable installs it. LZ_FASTLOAD=0 turns it off, LZ_FASTLOAD_SKIP turns
// named parts off (for example LZ_FASTLOAD_SKIP=one-process), and
// LZ_FASTLOAD_DEBUG=1 says on stderr which parts took effect. The split
// type assembly is cached beside the preload, in the user cache directory
// (LZ_FASTLOAD_CACHE overrides it).
package fastload

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/jsii-runtime-go"
)

//go:embed preload.js
var script []byte

// jsiiDefault is what jsii-runtime-go puts in NODE_OPTIONS when it is unset;
// setting NODE_OPTIONS ourselves would otherwise drop it.
const jsiiDefault = "--max-old-space-size=4069"

// preserveSymlinks is how jsii starts its kernel (the kernel's package cache
// needs it); the preload runs the kernel in the first Node process, which
// therefore needs it too.
const preserveSymlinks = "--preserve-symlinks"

// Enable adds the preload to NODE_OPTIONS. Call it before any jsii call
// (first thing in main or TestMain). A failure only costs speed: it is
// reported and synth goes on.
//
// jsii captures the environment for its Node process while the binding
// packages register their types, in package init, before main; it starts
// the process on the first call. So Enable also drops that captured, unused
// process, and the first call starts one with the new environment.
func Enable() {
	if Off() {
		return
	}
	path, err := Script()
	if err != nil {
		fmt.Fprintf(os.Stderr, "landing-zone: fastload: off: %v\n", err)
		return
	}
	if os.Getenv(cacheEnv) == "" {
		os.Setenv(cacheEnv, filepath.Dir(path))
	}
	current, set := os.LookupEnv("NODE_OPTIONS")
	if opts := NodeOptions(current, set, path); opts != current {
		os.Setenv("NODE_OPTIONS", opts)
		jsii.Close()
	}
}

// Speedups name the parts of preload.js that make synth faster, as
// LZ_FASTLOAD_SKIP and LZ_FASTLOAD_DEBUG name them.
var Speedups = []string{"lazy-index", "lazy-types", "one-process", "kernel", "stack-traces", "version-once", "no-prepare"}

// Parts are all of preload.js's parts: the speed-ups and is-array, which
// only keeps a deprecation warning away.
var Parts = append(slices.Clone(Speedups), "is-array")

// cacheEnv names the directory where the preload keeps split assemblies.
const cacheEnv = "LZ_FASTLOAD_CACHE"

// Close stops jsii's Node process and removes its temporary folder
// (jsii.Close), at the end of a program. When Node exits promptly,
// jsii-runtime-go's two waits for it race, and the loser prints a false
// alarm without a newline; Close keeps that one message off stderr and
// passes everything else through. The loser prints while jsii.Close still
// removes the folder; should it ever print after Close returns, the
// message gets through as before.
func Close() {
	r, w, err := os.Pipe()
	if err != nil {
		jsii.Close()
		return
	}
	stderr := os.Stderr
	os.Stderr = w
	done := make(chan struct{})
	go func() {
		defer close(done)
		dropFalseAlarm(r, stderr)
	}()
	jsii.Close()
	w.Close()
	<-done
	os.Stderr = stderr
}

const falseAlarm = "Runtime process exited abnormally: waitid: no child processes"

func dropFalseAlarm(r io.Reader, out io.Writer) {
	lines := bufio.NewReader(r)
	for {
		line, err := lines.ReadString('\n')
		io.WriteString(out, strings.TrimPrefix(line, falseAlarm))
		if err != nil {
			return
		}
	}
}

// Off reports whether LZ_FASTLOAD turns the preload off.
func Off() bool {
	switch os.Getenv("LZ_FASTLOAD") {
	case "0", "false":
		return true
	}
	return false
}

// NodeOptions returns NODE_OPTIONS with a --require of script added once.
// The CLI and users may have set NODE_OPTIONS (the CLI sets a heap size), so
// it is extended, not replaced.
func NodeOptions(current string, set bool, script string) string {
	arg := "--require=" + quote(script)
	if strings.Contains(current, arg) {
		return current
	}
	if !set {
		current = jsiiDefault
	}
	if !slices.Contains(strings.Fields(current), preserveSymlinks) {
		arg = preserveSymlinks + " " + arg
	}
	return strings.TrimSpace(current + " " + arg)
}

// quote follows Node's NODE_OPTIONS parsing: double quotes group, and inside
// them a backslash escapes the next character.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// Script writes the preload to the user cache, named by its content hash so
// that processes running different versions, or at the same time, never see
// each other's or a half-written file, and returns its path.
func Script() (string, error) {
	sum := sha256.Sum256(script)
	dir := UserCacheDir()
	path := filepath.Join(dir, fmt.Sprintf("preload-%x.js", sum[:8]))
	if b, err := os.ReadFile(path); err == nil && bytes.Equal(b, script) {
		return path, nil
	}
	if err := WriteFileAtomic(path, script); err != nil {
		return "", err
	}
	return path, nil
}

// UserCacheDir is the landing zone's directory in the user cache, where
// the preload lives (and, unless LZ_FASTLOAD_CACHE names another, the
// caches: see CacheDir).
func UserCacheDir() string {
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "landing-zone")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("landing-zone-%d", os.Getuid()))
}

// CacheDir is where the synth's caches live: the split type assembly and
// the IAM proof's answers. LZ_FASTLOAD_CACHE overrides it (the benchmark's
// empty-cache runs set it to an empty directory).
func CacheDir() string {
	if d := os.Getenv(cacheEnv); d != "" {
		return d
	}
	return UserCacheDir()
}

// WriteFileAtomic writes b to path (mode 0600, its directory 0700 if new)
// through a temporary file renamed into place: a reader never sees half
// a file, and writers racing each other leave one whole file.
func WriteFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
