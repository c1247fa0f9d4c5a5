package fastload

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// node runs a script with the preload and env, and returns stdout and
// stderr.
func node(t *testing.T, stdin string, env []string, args ...string) (string, string) {
	t.Helper()
	path, err := Script()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(findNode(t), args...)
	cmd.Env = append(os.Environ(), append([]string{"LZ_FASTLOAD=", "LZ_FASTLOAD_SKIP=", "LZ_FASTLOAD_DEBUG=1",
		"NODE_OPTIONS=" + NodeOptions("", true, path)}, env...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %v: %v\n%s", args, err, stderr.String())
	}
	return string(out), stderr.String()
}

// A fake package whose .jsii is over the (lowered) size limit, and a probe
// that loads it twice through the kernel's hook, as two synths would.
const assemblyProbe = `
const load = (dir) => { globalThis.loads = (globalThis.loads || 0) + 1;
  return JSON.parse(require('fs').readFileSync(dir + '/.jsii', 'utf8')); };
const hook = globalThis[Symbol.for('landing-zone.fastload.assembly')];
const whole = hook(process.argv[1], false, load);
const split = hook(process.argv[1], false, load);
const before = Object.keys(split.types).filter((k) => Object.getOwnPropertyDescriptor(split.types, k).get);
const beta = split.types['fake.Beta'].kind;
const after = Object.keys(split.types).filter((k) => Object.getOwnPropertyDescriptor(split.types, k).get);
const validated = hook(process.argv[1], true, load);
console.log(JSON.stringify({ loads: globalThis.loads, same: JSON.stringify(whole) === JSON.stringify(split),
  before, beta, after, validatedIsWhole: !Object.getOwnPropertyDescriptor(validated.types, 'fake.Alpha').get }));
`

func TestLazyTypesServeTheSameAssembly(t *testing.T) {
	pkg := filepath.Join(t.TempDir(), "fake")
	write(t, filepath.Join(pkg, "package.json"), `{"name": "@fake/pkg", "version": "1.2.3"}`)
	write(t, filepath.Join(pkg, ".jsii"), `{"name": "fake", "types": {
		"fake.Zeta": {"kind": "class", "fqn": "fake.Zeta", "properties": [{"name": "a", "optional": true}]},
		"fake.Alpha": {"kind": "interface", "fqn": "fake.Alpha", "datatype": true},
		"fake.Beta": {"kind": "enum", "fqn": "fake.Beta", "members": [{"name": "X"}]}},
		"version": "1.2.3", "fingerprint": "abc"}`)
	cache := t.TempDir()
	write(t, filepath.Join(cache, "types-@fake-pkg@1.2.2-0123456789abcdef.json"), `{}`)
	out, stderr := node(t, "", []string{"LZ_FASTLOAD_CACHE=" + cache, "LZ_FASTLOAD_LAZY_MIN_BYTES=1"},
		"-e", assemblyProbe, pkg)

	var r struct {
		Loads                  int
		Same, ValidatedIsWhole bool
		Before, After          []string
		Beta                   string
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s\n%s", err, out, stderr)
	}
	if r.Loads != 2 || !r.ValidatedIsWhole {
		t.Errorf("loaded the whole assembly %d times (want 2: to split it, and to validate it)", r.Loads)
	}
	if !r.Same {
		t.Errorf("the split assembly differs from the whole one (values or key order)")
	}
	if strings.Join(r.Before, ",") != "fake.Zeta,fake.Alpha,fake.Beta" || r.Beta != "enum" ||
		strings.Join(r.After, ",") != "fake.Zeta,fake.Alpha" {
		t.Errorf("types parsed before any lookup, or not on lookup: unparsed before %v, after reading Beta %v", r.Before, r.After)
	}
	entries, _ := os.ReadDir(cache)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 2 || !strings.HasPrefix(names[0], "types-@fake-pkg@1.2.3-") {
		t.Errorf("cache holds %v, want this version's split (index and texts) only", names)
	}
	if !strings.Contains(stderr, "lazy-types: split fake into") || !strings.Contains(stderr, "lazy-types: fake from") {
		t.Errorf("stderr does not say it split, then served the split:\n%s", stderr)
	}
}

// fakeRuntime lays out a jsii runtime (bin/jsii-runtime.js, the relay, and
// lib/program.js, the kernel) with kernel as the kernel's code.
func fakeRuntime(t *testing.T, kernel string) string {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "bin", "jsii-runtime.js"), `process.stderr.write("relay ran\n");`)
	write(t, filepath.Join(dir, "lib", "program.js"), kernel)
	return filepath.Join(dir, "bin", "jsii-runtime.js")
}

// The fake kernel answers one request on its channel, as the real one does,
// and prints to stdout, as user code might.
const fakeKernel = `const fs = require("fs");
const stdio = {
        readFD: 3,
        writeFD: 3
    };
const buf = Buffer.alloc(100);
const n = fs.readSync(stdio.readFD, buf, 0, 100, null);
console.log("printed by user code");
fs.writeSync(stdio.writeFD, "answer to " + buf.toString("utf8", 0, n));
`

func TestOneProcessRunsTheKernelOnStdio(t *testing.T) {
	out, stderr := node(t, "request\n", nil, fakeRuntime(t, fakeKernel))
	if out != "answer to request\n" {
		t.Errorf("the kernel's answer on stdout = %q, want %q\nstderr:\n%s", out, "answer to request\n", stderr)
	}
	if strings.Contains(stderr, "relay ran") || !strings.Contains(stderr, "one-process: ") {
		t.Errorf("the relay ran instead of the kernel:\n%s", stderr)
	}
	// What user code prints is wrapped as the relay wraps it.
	want, _ := json.Marshal(map[string]string{"stdout": base64.StdEncoding.EncodeToString([]byte("printed by user code\n"))})
	if !strings.Contains(stderr, string(want)) {
		t.Errorf("stdout of user code is not on stderr as %s:\n%s", want, stderr)
	}
}

func TestChangedKernelRunsAsBeforeWithAWarning(t *testing.T) {
	relay := fakeRuntime(t, strings.Replace(fakeKernel, "readFD: 3", "readFD: 4", 1))
	_, stderr := node(t, "", nil, relay)
	if !strings.Contains(stderr, "relay ran") || !strings.Contains(stderr, "one-process is off") {
		t.Errorf("want the relay to run after a warning, got:\n%s", stderr)
	}

	// The kernel's other edits: it still loads, unchanged, after a warning.
	kernel := filepath.Join(filepath.Dir(relay), "..", "lib", "program.js")
	write(t, kernel, `module.exports = "kernel loaded";`)
	out, stderr := node(t, "", nil, "-p", "require(process.argv[1])", kernel)
	if out != "kernel loaded\n" || !strings.Contains(stderr, "kernel is off") || !strings.Contains(stderr, "lazy-types is off") {
		t.Errorf("want the kernel loaded unchanged with two warnings, got %q:\n%s", out, stderr)
	}
}

// The real cdktf file: what it returns must read the same with the speed-up.
const stackProbe = `
const { captureStackTrace } = require(process.argv[1]);
function probeCaller() { return captureStackTrace(); }
const s = probeCaller();
console.log(JSON.stringify({ isArray: Array.isArray(s), first: s[0], joined: s.join("|"), length: s.length, copy: [...s] }));
`

func TestStackTracesAreFormattedWhenRead(t *testing.T) {
	file := cdktfFile(t, "lib/tokens/private/stack-trace.js")
	type trace struct {
		IsArray bool
		First   string
		Joined  string
		Length  int
		Copy    []string
	}
	run := func(mode string) (trace, string) {
		out, stderr := node(t, "", []string{"LZ_FASTLOAD=" + mode}, "-e", stackProbe, file)
		var r trace
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return r, stderr
	}
	lazy, stderr := run("")
	eager, _ := run("0")
	if !strings.Contains(stderr, "stack-traces: ") || strings.Contains(stderr, " is off") {
		t.Fatalf("the speed-up did not apply to the real file:\n%s", stderr)
	}
	if !lazy.IsArray || !strings.HasPrefix(lazy.First, "probeCaller ") || lazy.Length != eager.Length ||
		lazy.Joined != eager.Joined || strings.Join(lazy.Copy, "|") != eager.Joined {
		t.Errorf("lazy trace %+v\ndiffers from the normal %+v", lazy, eager)
	}
}

func TestCloseDropsOnlyTheFalseAlarm(t *testing.T) {
	var out strings.Builder
	dropFalseAlarm(strings.NewReader("a warning\n"+falseAlarm+"Runtime process exited abnormally: exit status 2"), &out)
	if got := out.String(); got != "a warning\nRuntime process exited abnormally: exit status 2" {
		t.Errorf("passed through %q", got)
	}
}

// A synth of three stacks, each with a moved block, with the real cdktf:
// each stack adds a check of terraform's version (>=1.5).
const movedProbe = `
const { App, TerraformStack, TerraformResource } = require(process.argv[1]);
const app = new App({ outdir: process.argv[2] });
for (const name of ["a", "b", "c"]) {
  const stack = new TerraformStack(app, name);
  new TerraformResource(stack, "r", { terraformResourceType: "null_resource" }).moveFromId("null_resource.old");
}
try {
  app.synth();
  console.log(JSON.stringify({ ok: true }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, message: e.message }));
}
`

// fakeTerraform puts first on PATH a terraform that logs each run to the
// returned file and prints version, or fails when version is "fail"; it
// returns that PATH and the log.
func fakeTerraform(t *testing.T, version string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "runs.log")
	write(t, filepath.Join(dir, "terraform"), "#!/bin/sh\necho \"$@\" >>"+log+"\necho 'Terraform v"+version+"'\necho 'on linux_amd64'\n"+
		"[ "+version+" = fail ] && { echo broken >&2; exit 1; }\nexit 0\n")
	if err := os.Chmod(filepath.Join(dir, "terraform"), 0o755); err != nil {
		t.Fatal(err)
	}
	return "PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH"), log
}

func TestVersionOnceRunsTerraformOncePerSynth(t *testing.T) {
	cdktf := cdktfFile(t, "")
	type result struct {
		OK      bool
		Message string
	}
	synth := func(version, skip string) (result, int, string) {
		path, log := fakeTerraform(t, version)
		out, stderr := node(t, "", []string{path, "TERRAFORM_BINARY_NAME=", "LZ_FASTLOAD_SKIP=" + skip},
			"-e", movedProbe, cdktf, t.TempDir())
		var r result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v: %s\n%s", err, out, stderr)
		}
		runs, _ := os.ReadFile(log)
		if strings.Trim(strings.ReplaceAll(string(runs), "version\n", ""), "\n") != "" {
			t.Errorf("terraform ran with other arguments than version:\n%s", runs)
		}
		return r, strings.Count(string(runs), "\n"), stderr
	}

	r, runs, _ := synth("1.11.0", "version-once")
	if !r.OK || runs != 3 {
		t.Fatalf("without version-once: synth ok %v (%s), %d runs of terraform version, want ok and 3", r.OK, r.Message, runs)
	}
	r, runs, stderr := synth("1.11.0", "")
	if !strings.Contains(stderr, "version-once: ") || strings.Contains(stderr, " is off") {
		t.Fatalf("version-once did not apply to the real file:\n%s", stderr)
	}
	if !r.OK || runs != 1 {
		t.Errorf("with version-once: synth ok %v (%s), %d runs of terraform version, want ok and 1", r.OK, r.Message, runs)
	}

	// Each stack's constraint is still checked against the version, and
	// fails the synth with cdktf's own message.
	off, _, _ := synth("1.4.6", "version-once")
	on, runs, _ := synth("1.4.6", "")
	const want = "terraform version 1.4.6 is lower than the required version >=1.5 for this construct."
	if on.OK || !strings.Contains(on.Message, want) || on.Message != off.Message || runs != 1 {
		t.Errorf("terraform 1.4.6 with version-once: ok %v, %d runs, message:\n%s\nwant the synth to fail as without it:\n%s",
			on.OK, runs, on.Message, off.Message)
	}

	// A failing terraform fails the synth (at the first stack) with the
	// same message.
	off, offRuns, _ := synth("fail", "version-once")
	on, runs, _ = synth("fail", "")
	const failed = "Could not determine version of terraform, terraform version failed: Error: Command failed: terraform version\nbroken"
	if on.OK || !strings.Contains(on.Message, failed) || on.Message != off.Message || runs != offRuns {
		t.Errorf("failing terraform with version-once: ok %v, %d runs (%d without), message:\n%s\nwant the synth to fail as without it:\n%s",
			on.OK, runs, offRuns, on.Message, off.Message)
	}

	// A failure is not kept: each check runs terraform again and reports
	// its own error, as without version-once.
	path, log := fakeTerraform(t, "fail")
	out, _ := node(t, "", []string{path, "TERRAFORM_BINARY_NAME="}, "-e", `
const { ValidateTerraformVersion } = require(process.argv[1] + "/lib/validations/validate-terraform-version");
console.log(JSON.stringify([new ValidateTerraformVersion(">=1.5").validate(), new ValidateTerraformVersion(">=1.2").validate()]));
`, cdktf)
	var errs [][]string
	if err := json.Unmarshal([]byte(out), &errs); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	logged, _ := os.ReadFile(log)
	if n := strings.Count(string(logged), "\n"); n != 2 || len(errs) != 2 || len(errs[0]) != 1 || len(errs[1]) != 1 ||
		!strings.Contains(errs[0][0], failed) || errs[0][0] != errs[1][0] {
		t.Errorf("two checks with a failing terraform: %d runs (want 2), errors %s", n, out)
	}
}

// Stack b refers to an attribute of stack a's resource. Without the
// preparing pass cdktf would write an address b cannot resolve; with
// no-prepare, the synth must fail instead, naming the reference.
const crossStackProbe = `
const { App, TerraformStack, TerraformResource, TerraformOutput } = require(process.argv[1]);
const fs = require("fs");
const app = new App({ outdir: process.argv[2] });
const a = new TerraformStack(app, "a");
const r = new TerraformResource(a, "r", { terraformResourceType: "null_resource" });
const b = new TerraformStack(app, "b");
new TerraformOutput(b, "o", { value: r.getStringAttribute("id") });
try {
  app.synth();
  console.log(JSON.stringify({ ok: true, b: fs.readFileSync(process.argv[2] + "/stacks/b/cdk.tf.json", "utf8") }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, message: e.message }));
}
`

func TestNoPrepareRefusesCrossStackReferences(t *testing.T) {
	cdktf := cdktfFile(t, "")
	type result struct {
		OK         bool
		Message, B string
	}
	synth := func(cdktf, skip string, env ...string) (result, string) {
		out, stderr := node(t, "", append([]string{"LZ_FASTLOAD_SKIP=" + skip}, env...), "-e", crossStackProbe, cdktf, t.TempDir())
		var r result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v: %s\n%s", err, out, stderr)
		}
		return r, stderr
	}
	// cdktf's own way, with the preparing pass: b reads a's output
	// through a remote state.
	off, _ := synth(cdktf, "no-prepare")
	if !off.OK || !strings.Contains(off.B, "terraform_remote_state") {
		t.Fatalf("without no-prepare: ok %v (%s), b: %s", off.OK, off.Message, off.B)
	}
	on, stderr := synth(cdktf, "")
	if !strings.Contains(stderr, "no-prepare: ") || strings.Contains(stderr, " is off") {
		t.Fatalf("no-prepare did not apply to the real files:\n%s", stderr)
	}
	const want = "b refers to null_resource.r.id of stack a: the landing zone's stacks are deployed one by one and never refer to each other"
	if on.OK || !strings.Contains(on.Message, want) {
		t.Errorf("with no-prepare: ok %v, message %q, want the synth refused with %q", on.OK, on.Message, want)
	}

	// A cdktf whose tfExpression.js no longer holds the code the check
	// goes into: the preparing pass must run as before.
	copied := filepath.Join(t.TempDir(), "node_modules", "cdktf")
	if err := os.MkdirAll(filepath.Dir(copied), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-r", cdktf, copied).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	expr := filepath.Join(copied, "lib", "tfExpression.js")
	src, err := os.ReadFile(expr)
	if err != nil {
		t.Fatal(err)
	}
	write(t, expr, strings.Replace(string(src), "// If this is a cross stack reference", "// A cross stack reference", 1))
	changed, stderr := synth(copied, "", "NODE_PATH="+filepath.Dir(cdktf))
	if !strings.Contains(stderr, "no-prepare is off") || !changed.OK || changed.B != off.B {
		t.Errorf("with the check left out, the preparing pass did not run as before: ok %v (%s)\n%s", changed.OK, changed.Message, stderr)
	}
}

// cdktfFile is the absolute path of file in the installed cdktf package
// ("" for the package), or skips the test where it is not installed.
func cdktfFile(t *testing.T, file string) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("../../node_modules/cdktf", file))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Skip("no node_modules/cdktf: run make deps")
	}
	return path
}
