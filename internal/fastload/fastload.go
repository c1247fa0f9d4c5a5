// Package fastload makes jsii load the AWS provider's JavaScript lazily.
//
// The provider package's index requires all of its ~2,000 resource modules
// when jsii loads it, which is most of every synth's time. lazyindex.js,
// preloaded into jsii's Node process, defers each module to its first use
// (and falls back to the normal load, with a warning, if the index changes
// shape). Enable installs it; LZ_FASTLOAD=0 turns it off, and
// LZ_FASTLOAD_DEBUG=1 makes it say on stderr when it takes the index over.
package fastload

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/jsii-runtime-go"
)

//go:embed lazyindex.js
var script []byte

// jsiiDefault is what jsii-runtime-go puts in NODE_OPTIONS when it is unset;
// setting NODE_OPTIONS ourselves would otherwise drop it.
const jsiiDefault = "--max-old-space-size=4069"

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
	current, set := os.LookupEnv("NODE_OPTIONS")
	if opts := NodeOptions(current, set, path); opts != current {
		os.Setenv("NODE_OPTIONS", opts)
		jsii.Close()
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
	dir, err := os.UserCacheDir()
	if err == nil {
		dir = filepath.Join(dir, "landing-zone")
	} else {
		dir = filepath.Join(os.TempDir(), fmt.Sprintf("landing-zone-%d", os.Getuid()))
	}
	path := filepath.Join(dir, fmt.Sprintf("lazyindex-%x.js", sum[:8]))
	if b, err := os.ReadFile(path); err == nil && bytes.Equal(b, script) {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, ".lazyindex-*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(script)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return path, nil
}
