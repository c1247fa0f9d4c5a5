package tests

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The host proof harness: the user data of the VPN server and of the ECS
// hosts, run for real. Each proof renders a config's user data (from its
// synthesized launch template, what the instance would get), runs it as
// cloud-init would on the instance's first boot, then boots the result
// again and drives it with the real programs: shellcheck, systemd-analyze,
// iptables in a network namespace, easy-rsa, an OpenVPN server with real
// clients, fail2ban-server.
//
// The "instance" is the machine's own root seen through an overlay: every
// file the boot writes lands in the overlay's upper folder (what the
// instance's disk would hold), nothing reaches the real /etc. /run is a
// tmpfs, as on Ubuntu and Amazon Linux. Commands run chrooted into it, in
// network namespaces the test makes, with stand-ins first on PATH for what
// needs AWS or the internet or would change this machine (aws, curl, apt-get,
// snap, dnf, rpm, systemctl start, sysctl outside net.*): see
// testdata/hostproof/standins. Everything is undone by t.Cleanup, on
// failure too.
//
// It needs root (namespaces, mounts) and the programs in hostTools, which
// .ci/run installs from Debian's packages. Without them the proofs skip
// with a message; under CI=true they fail.

// hostTools are the programs the harness runs, with the Debian package
// that provides each.
var hostTools = []struct{ cmd, pkg string }{
	{"shellcheck", "shellcheck"},
	{"systemd-analyze", "systemd"},
	{"systemctl", "systemd"},
	{"systemd-tmpfiles", "systemd"},
	{"openvpn", "openvpn"},
	{"make-cadir", "easy-rsa"},
	{"openssl", "openssl"},
	{"fail2ban-server", "fail2ban"},
	{"fail2ban-client", "fail2ban"},
	{"iptables", "iptables"},
	{"ip", "iproute2"},
	{"jq", "jq"},
	{"nc", "netcat-openbsd"},
	{"python3", "python3"},
	{"chroot", "coreutils"},
	{"mount", "mount"},
}

// hostProofPackages are the packages whose versions the harness reports.
var hostProofPackages = []string{"shellcheck", "systemd", "openvpn", "easy-rsa", "openssl", "fail2ban", "iptables", "iproute2", "jq", "netcat-openbsd", "python3"}

var reportTools sync.Once

// requireHostProof skips (or, under CI=true, fails) when the harness cannot
// run here, and logs the tools and versions it uses once per run.
func requireHostProof(t *testing.T) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (network namespaces and overlay mounts)")
	}
	for _, tool := range hostTools {
		if _, err := exec.LookPath(tool.cmd); err != nil {
			missing = append(missing, tool.cmd+" (Debian package "+tool.pkg+")")
		}
	}
	if len(missing) == 0 {
		probeOnce.Do(func() { probeErr = probeNamespaces() })
		if probeErr != nil {
			missing = append(missing, "network namespaces and overlay mounts ("+probeErr.Error()+")")
		}
	}
	if len(missing) > 0 {
		msg := "the host proof needs " + strings.Join(missing, ", ") + "; .ci/run installs the programs"
		if os.Getenv("CI") == "true" {
			t.Fatal("CI must run the host proof, but " + msg)
		}
		t.Skip("skipping: " + msg)
	}
	reportTools.Do(func() {
		out, _ := exec.Command("dpkg-query", append([]string{"-W", "-f", "${Package} ${Version}\n"}, hostProofPackages...)...).CombinedOutput()
		t.Logf("host proof tools (Debian packages on this machine):\n%s", out)
	})
}

var (
	probeOnce sync.Once
	probeErr  error
)

// probeNamespaces checks, once, that this machine lets the test make a
// network namespace and an overlay of its root (a container may not).
func probeNamespaces() error {
	name := fmt.Sprintf("lzp%d-probe", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns add: %v: %s", err, bytes.TrimSpace(out))
	}
	_ = exec.Command("ip", "netns", "del", name).Run()
	dir, err := os.MkdirTemp("", "lz-hostproof-probe-")
	if err != nil {
		return err
	}
	for _, d := range []string{"u", "w", "m"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	m := filepath.Join(dir, "m")
	if out, err := exec.Command("mount", "-t", "overlay", "overlay", "-o", "lowerdir=/,upperdir="+filepath.Join(dir, "u")+",workdir="+filepath.Join(dir, "w"), m).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("mount -t overlay: %v: %s", err, bytes.TrimSpace(out))
	}
	if out, err := exec.Command("umount", m).CombinedOutput(); err != nil {
		return fmt.Errorf("umount %s: %v: %s (left in place)", m, err, out)
	}
	return os.RemoveAll(dir)
}

// userDataOf decodes the user data of the launch template named name in a
// stack of f's synthesized output.
func userDataOf(t *testing.T, f fixture, stack, name string) string {
	t.Helper()
	for _, lt := range readStack(t, synthOf(t, f), stack).resources("aws_launch_template") {
		if lt["name"] != name {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(lt["user_data"].(string))
		if err != nil {
			t.Fatalf("%s: %s: user data is not base64: %v", stack, name, err)
		}
		return string(b)
	}
	t.Fatalf("%s: no launch template %s", stack, name)
	return ""
}

// proven remembers user data already proven in this run, by content: the
// repository's config.yaml renders what the example fixture renders.
var proven = map[string]string{}

// provenBefore returns the config whose identical user data was already
// proven, and records this one otherwise.
func provenBefore(kind, label, script string) string {
	sum := sha256.Sum256([]byte(script))
	key := kind + "/" + hex.EncodeToString(sum[:])
	if prev, ok := proven[key]; ok {
		return prev
	}
	proven[key] = label
	return ""
}

// instance is a booted instance's root: the machine's own root through an
// overlay whose upper folder is the instance's disk.
type instance struct {
	t             *testing.T
	work          string // upper, overlay work and merged; removed after unmounting
	upper, merged string
	mounts        []string
}

// instancePATH puts the stand-ins first, then the usual system PATH.
const instancePATH = "/lz-test/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// newInstance mounts a fresh instance root with the stand-ins installed.
// settings are files to write under /lz-test (public-ipv4, members, ...).
func newInstance(t *testing.T, settings map[string]string) *instance {
	t.Helper()
	work, err := os.MkdirTemp("", "lz-hostproof-")
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{t: t, work: work, upper: filepath.Join(work, "upper"), merged: filepath.Join(work, "root")}
	t.Cleanup(in.unmount)
	for _, d := range []string{in.upper, filepath.Join(work, "ovl"), in.merged} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	in.mount("-t", "overlay", "overlay", "-o", "lowerdir=/,upperdir="+in.upper+",workdir="+filepath.Join(work, "ovl"), in.merged)
	in.mount("-t", "proc", "proc", filepath.Join(in.merged, "proc"))
	in.mount("-t", "tmpfs", "-o", "mode=0755", "tmpfs", filepath.Join(in.merged, "run"))
	// /dev: a tmpfs with only the devices the scripts use, so that nothing
	// the test removes can reach the machine's own /dev.
	dev := filepath.Join(in.merged, "dev")
	in.mount("-t", "tmpfs", "-o", "mode=0755", "tmpfs", dev)
	for _, d := range []struct {
		name         string
		mode         uint32
		major, minor uint32
	}{{"null", 0o666, 1, 3}, {"zero", 0o666, 1, 5}, {"random", 0o666, 1, 8}, {"urandom", 0o666, 1, 9}, {"net/tun", 0o600, 10, 200}} {
		p := filepath.Join(dev, d.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mknod(p, syscall.S_IFCHR|d.mode, int(d.major<<8|d.minor)); err != nil {
			t.Fatalf("mknod %s: %v", p, err)
		}
		if err := os.Chmod(p, os.FileMode(d.mode)); err != nil {
			t.Fatal(err)
		}
	}
	for name, target := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil {
			t.Fatal(err)
		}
	}
	// The stand-ins, and the files they answer from.
	bin := filepath.Join(in.merged, "lz-test", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	standins, err := filepath.Glob(filepath.Join(hostProofDir, "standins", "*"))
	if err != nil || len(standins) == 0 {
		t.Fatalf("no stand-ins in %s: %v", hostProofDir, err)
	}
	for _, s := range standins {
		in.copyIn(s, filepath.Join("/lz-test/bin", filepath.Base(s)), 0o755)
	}
	for _, name := range []string{"apt-get", "snap", "dpkg", "dnf"} {
		if err := os.Symlink("recorded", filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	// What the AMIs provide that this machine does not: the AWS CLI snap's
	// path and the CloudWatch agent's control script.
	in.link("/snap/bin/aws", "/lz-test/bin/aws")
	in.link("/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl", "/lz-test/bin/recorded")
	for name, content := range settings {
		in.write("/lz-test/"+name, content, 0o644)
	}
	return in
}

// check runs fn as a subtest of t in which the instance's helpers fail the
// subtest, not the test that made the instance.
func (in *instance) check(t *testing.T, name string, fn func(t *testing.T)) {
	t.Run(name, func(t *testing.T) {
		prev := in.t
		in.t = t
		defer func() { in.t = prev }()
		fn(t)
	})
}

// hostProofDir holds the harness's stand-ins.
const hostProofDir = "testdata/hostproof"

func (in *instance) mount(args ...string) {
	in.t.Helper()
	if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
		in.t.Fatalf("mount %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	in.mounts = append(in.mounts, args[len(args)-1])
}

// unmount undoes the mounts, innermost first, and only then removes the
// work folder: never while anything is still mounted below it.
func (in *instance) unmount() {
	ok := true
	for i := len(in.mounts) - 1; i >= 0; i-- {
		if out, err := exec.Command("umount", in.mounts[i]).CombinedOutput(); err != nil {
			if out2, err2 := exec.Command("umount", "-l", in.mounts[i]).CombinedOutput(); err2 != nil {
				in.t.Errorf("umount %s: %v %s; %v %s", in.mounts[i], err, out, err2, out2)
				ok = false
			}
		}
	}
	if !ok {
		in.t.Errorf("left %s in place: something below it is still mounted", in.work)
		return
	}
	if err := os.RemoveAll(in.work); err != nil {
		in.t.Errorf("removing %s: %v", in.work, err)
	}
}

// path is an instance path as seen from the machine running the test.
func (in *instance) path(p string) string { return filepath.Join(in.merged, p) }

// onDisk is where the instance's disk holds p: set when the boot (or a
// later step) wrote p.
func (in *instance) onDisk(p string) string { return filepath.Join(in.upper, p) }

func (in *instance) write(p, content string, mode os.FileMode) {
	in.t.Helper()
	full := in.path(p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		in.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), mode); err != nil {
		in.t.Fatal(err)
	}
}

func (in *instance) read(p string) string {
	in.t.Helper()
	b, err := os.ReadFile(in.path(p))
	if err != nil {
		in.t.Fatalf("instance file %s: %v", p, err)
	}
	return string(b)
}

func (in *instance) exists(p string) bool {
	_, err := os.Stat(in.path(p))
	return err == nil
}

func (in *instance) copyIn(src, dst string, mode os.FileMode) {
	in.t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		in.t.Fatal(err)
	}
	in.write(dst, string(b), mode)
}

func (in *instance) link(p, target string) {
	in.t.Helper()
	full := in.path(p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		in.t.Fatal(err)
	}
	if err := os.Symlink(target, full); err != nil {
		in.t.Fatal(err)
	}
}

// command runs argv chrooted into the instance, in network namespace ns
// ("" for the machine's own), in dir, with the instance's PATH and a
// cloud-init-like empty environment plus env.
func (in *instance) command(ns, dir string, env []string, argv ...string) *exec.Cmd {
	var args []string
	if ns != "" {
		args = append(args, "ip", "netns", "exec", ns)
	}
	args = append(args, "chroot", in.merged, "/usr/bin/env", "-i")
	if dir != "" {
		args = append(args, "--chdir="+dir)
	}
	args = append(args, "PATH="+instancePATH, "HOME=/root", "LANG=C.UTF-8", "TERM=dumb")
	args = append(args, env...)
	args = append(args, argv...)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// run runs a command in the instance to completion (or timeout) and
// returns its combined output and error.
func (in *instance) run(ns string, timeout time.Duration, argv ...string) (string, error) {
	return in.runIn(ns, "", nil, timeout, argv...)
}

func (in *instance) runIn(ns, dir string, env []string, timeout time.Duration, argv ...string) (string, error) {
	cmd := in.command(ns, dir, env, argv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(timeout):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return out.String(), fmt.Errorf("timed out after %s: %s", timeout, strings.Join(argv, " "))
	}
}

// daemon is a long-running process the test started; t.Cleanup stops it.
type daemon struct {
	cmd    *exec.Cmd
	out    *lockedBuffer
	exited chan struct{}
	err    error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startDaemon starts cmd and stops its whole process group at cleanup.
func startDaemon(t *testing.T, cmd *exec.Cmd) *daemon {
	t.Helper()
	d := &daemon{cmd: cmd, out: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = d.out, d.out
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", strings.Join(cmd.Args, " "), err)
	}
	go func() { d.err = cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() { d.stop() })
	return d
}

func (d *daemon) running() bool {
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

func (d *daemon) stop() {
	if !d.running() {
		return
	}
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.exited
	}
}

// exitCode is the daemon's exit status once it has exited, or -1.
func (d *daemon) exitCode() int {
	if d.running() || d.cmd.ProcessState == nil {
		return -1
	}
	return d.cmd.ProcessState.ExitCode()
}

// eventually polls cond every 100ms until it holds or timeout passes.
func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// netnsCount keeps namespace names unique within the run.
var netnsCount int

// newNetns makes a network namespace with only loopback, up, and removes
// it at cleanup.
func newNetns(t *testing.T, label string) string {
	t.Helper()
	netnsCount++
	name := fmt.Sprintf("lzp%d-%d-%s", os.Getpid(), netnsCount, label)
	sh(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v %s", name, err, out)
		}
	})
	sh(t, "ip", "-n", name, "link", "set", "lo", "up")
	return name
}

// link connects two namespaces with a veth pair and addresses both ends
// (CIDR notation); the pair goes with the namespaces.
func linkNetns(t *testing.T, a, aIf, aAddr, b, bIf, bAddr string) {
	t.Helper()
	sh(t, "ip", "link", "add", aIf, "netns", a, "type", "veth", "peer", "name", bIf, "netns", b)
	sh(t, "ip", "-n", a, "addr", "add", aAddr, "dev", aIf)
	sh(t, "ip", "-n", b, "addr", "add", bAddr, "dev", bIf)
	sh(t, "ip", "-n", a, "link", "set", aIf, "up")
	sh(t, "ip", "-n", b, "link", "set", bIf, "up")
}

// sh runs a command on the machine itself and fails the test on error.
func sh(t *testing.T, argv ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// firstBoot runs user data as cloud-init runs it on the first boot: as
// root, from /var/lib/cloud/instance/scripts, in the boot namespace (an
// instance's: one interface, ens5, with a default route).
func (in *instance) firstBoot(t *testing.T, userData string) (string, error) {
	t.Helper()
	boot := newNetns(t, "boot")
	vpc := newNetns(t, "vpc")
	linkNetns(t, boot, "ens5", "100.64.0.10/24", vpc, "eth0", "100.64.0.1/24")
	sh(t, "ip", "-n", boot, "route", "add", "default", "via", "100.64.0.1")
	const script = "/var/lib/cloud/instance/scripts/part-001"
	in.write(script, userData, 0o755)
	return in.run(boot, 3*time.Minute, script)
}

// --- What the boot left on the instance's disk ---

// writtenFiles lists the instance paths the boot wrote (its disk's
// upper layer), except the harness's own /lz-test.
func (in *instance) writtenFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(in.upper, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := "/" + strings.TrimPrefix(p, in.upper+"/")
		if d.IsDir() && rel == "/lz-test" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// scripts are the shell scripts among the files the boot wrote.
func (in *instance) scripts(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, p := range in.writtenFiles(t) {
		f, err := os.Open(in.onDisk(p))
		if err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(f).ReadString('\n')
		f.Close()
		if strings.HasPrefix(line, "#!") && strings.Contains(line, "sh") {
			out = append(out, p)
		}
	}
	return out
}

// units are the systemd unit files and drop-ins the boot wrote.
func (in *instance) units(t *testing.T) (units, dropins []string) {
	t.Helper()
	for _, p := range in.writtenFiles(t) {
		if !strings.HasPrefix(p, "/etc/systemd/system/") {
			continue
		}
		if strings.HasSuffix(filepath.Dir(p), ".d") && strings.HasSuffix(p, ".conf") {
			dropins = append(dropins, p)
		} else if regexp.MustCompile(`\.(service|timer|socket|path|target)$`).MatchString(p) {
			units = append(units, p)
		}
	}
	return units, dropins
}

// enabledAt lists the units the boot enabled for a target (the symlinks
// `systemctl enable` wrote into <target>.wants on the instance's disk).
func (in *instance) enabledAt(t *testing.T, target string) []string {
	t.Helper()
	entries, err := os.ReadDir(in.onDisk("/etc/systemd/system/" + target + ".wants"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// --- systemd units, read the way systemd reads them ---

// unit is a parsed unit file with its drop-ins applied: section -> key ->
// values in order, where an empty assignment resets a list (ExecStart=).
type unit map[string]map[string][]string

func (u unit) get(section, key string) []string { return u[section][key] }

func (u unit) first(section, key string) string {
	if v := u.get(section, key); len(v) > 0 {
		return v[0]
	}
	return ""
}

func parseUnitInto(u unit, text string) {
	section := ""
	for _, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				continue
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if v == "" {
				u[section][k] = nil
				continue
			}
			u[section][k] = append(u[section][k], v)
		}
	}
}

// loadUnit reads a unit as systemd would on the instance: the unit file
// from /etc/systemd/system or the packages' /lib/systemd/system (a
// template for name@instance), then its drop-ins in name order, with the
// instance specifiers %i, %I and %t filled in.
func (in *instance) loadUnit(t *testing.T, name string) unit {
	t.Helper()
	base := name
	inst := ""
	if at := strings.Index(name, "@"); at >= 0 {
		ext := filepath.Ext(name)
		inst = strings.TrimSuffix(name[at+1:], ext)
		base = name[:at+1] + ext
	}
	u := unit{}
	found := false
	for _, dir := range []string{"/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"} {
		for _, n := range []string{name, base} {
			if in.exists(dir+"/"+n) && !found {
				parseUnitInto(u, in.read(dir+"/"+n))
				found = true
			}
		}
	}
	if !found {
		t.Fatalf("no unit file for %s on the instance", name)
	}
	var dropins []string
	seen := map[string]bool{}
	for _, dir := range []string{"/lib/systemd/system/", "/etc/systemd/system/"} {
		for _, n := range []string{base + ".d", name + ".d"} {
			matches, _ := filepath.Glob(in.path(dir + n + "/*.conf"))
			for _, m := range matches {
				if !seen[m] {
					seen[m] = true
					dropins = append(dropins, m)
				}
			}
		}
	}
	sort.Slice(dropins, func(i, j int) bool { return filepath.Base(dropins[i]) < filepath.Base(dropins[j]) })
	for _, d := range dropins {
		b, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		parseUnitInto(u, string(b))
	}
	repl := strings.NewReplacer("%i", inst, "%I", inst, "%t", "/run", "%%", "%")
	for _, keys := range u {
		for k, vs := range keys {
			for i := range vs {
				vs[i] = repl.Replace(vs[i])
			}
			keys[k] = vs
		}
	}
	return u
}

// execArgs splits an Exec*= line into argv, dropping systemd's prefixes
// (-, @, +, !, :). It handles the plain and double-quoted words unit files
// here use.
func execArgs(line string) (argv []string, ignoreFailure bool) {
	for len(line) > 0 && strings.ContainsRune("-@+!:", rune(line[0])) {
		if line[0] == '-' {
			ignoreFailure = true
		}
		line = line[1:]
	}
	var cur strings.Builder
	inQuote, have := false, false
	for _, r := range line {
		switch {
		case r == '"':
			inQuote, have = !inQuote, true
		case (r == ' ' || r == '\t') && !inQuote:
			if have {
				argv = append(argv, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		argv = append(argv, cur.String())
	}
	return argv, ignoreFailure
}

// runUnit runs a oneshot unit's ExecStartPre, ExecStart and ExecStartPost
// lines in order, as systemd would start it, and returns the output.
func (in *instance) runUnit(t *testing.T, ns, name string) (string, error) {
	t.Helper()
	u := in.loadUnit(t, name)
	var all strings.Builder
	for _, key := range []string{"ExecStartPre", "ExecStart", "ExecStartPost"} {
		for _, line := range u.get("Service", key) {
			argv, tolerate := execArgs(line)
			out, err := in.runIn(ns, u.first("Service", "WorkingDirectory"), nil, 2*time.Minute, argv...)
			fmt.Fprintf(&all, "$ %s\n%s", strings.Join(argv, " "), out)
			if err != nil && !tolerate {
				return all.String(), fmt.Errorf("%s: %s: %v", name, strings.Join(argv, " "), err)
			}
		}
	}
	return all.String(), nil
}

// bootUnits are the units the boot both wrote and enabled to start with
// multi-user.target: the part of its work that must hold on every boot.
func (in *instance) bootUnits(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, name := range in.enabledAt(t, "multi-user.target") {
		if _, err := os.Stat(in.onDisk("/etc/systemd/system/" + name)); err == nil && strings.HasSuffix(name, ".service") {
			out = append(out, name)
		}
	}
	return out
}

// reboot does what the instance's next boot does before services start,
// in network namespace ns: systemd-tmpfiles (the packages' runtime folders
// under /run, the instance's own tmpfs), systemd-sysctl (the net.ipv4/ipv6
// keys of /etc/sysctl.d), then every oneshot boot unit the user data
// installed. It returns what ran.
func (in *instance) reboot(t *testing.T, ns string) (string, error) {
	t.Helper()
	var log strings.Builder
	if out, err := in.run("", time.Minute, "systemd-tmpfiles", "--create", "--prefix=/run"); err != nil {
		// Missing users or unknown specifiers elsewhere do not matter here.
		fmt.Fprintf(&log, "systemd-tmpfiles: %v\n%s", err, out)
	}
	if out, err := in.run(ns, time.Minute, "sysctl", "--system"); err != nil {
		return log.String() + out, fmt.Errorf("sysctl --system: %v", err)
	}
	for _, name := range in.bootUnits(t) {
		if in.loadUnit(t, name).first("Service", "Type") != "oneshot" {
			continue
		}
		out, err := in.runUnit(t, ns, name)
		log.WriteString(out)
		if err != nil {
			return log.String(), err
		}
	}
	return log.String(), nil
}

// natRules lists the nat table's POSTROUTING rules in namespace ns.
func natRules(t *testing.T, ns string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(sh(t, "ip", "netns", "exec", ns, "iptables", "-w", "-t", "nat", "-S", "POSTROUTING"), "\n") {
		if strings.HasPrefix(line, "-A ") {
			out = append(out, line)
		}
	}
	return out
}

func ipForward(t *testing.T, ns string) string {
	t.Helper()
	return strings.TrimSpace(sh(t, "ip", "netns", "exec", ns, "cat", "/proc/sys/net/ipv4/ip_forward"))
}

// --- The checks every host gets ---

// checkScripts runs shellcheck on the user data and on every shell script
// it wrote: no finding of any severity; exceptions must be justified
// inline (# shellcheck disable=SCxxxx, with the reason).
func (in *instance) checkScripts(t *testing.T) {
	t.Helper()
	files := map[string]string{"user data": in.path("/var/lib/cloud/instance/scripts/part-001")}
	for _, s := range in.scripts(t) {
		if s != "/var/lib/cloud/instance/scripts/part-001" {
			files[s] = in.onDisk(s)
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out, err := exec.Command("shellcheck", "--norc", "--format=gcc", files[n]).CombinedOutput()
		if err != nil {
			t.Errorf("shellcheck %s: %v\n%s", n, err, strings.ReplaceAll(string(out), files[n], n))
			continue
		}
		t.Logf("shellcheck %s: clean", n)
	}
	if len(names) < 2 {
		t.Errorf("the user data wrote no scripts besides itself (checked %v)", names)
	}
}

// checkUnits runs systemd-analyze verify, inside the instance, on every
// unit the boot wrote and on every packaged unit it changed with a drop-in:
// no output at all (warnings count).
func (in *instance) checkUnits(t *testing.T) {
	t.Helper()
	units, dropins := in.units(t)
	targets := map[string]bool{}
	for _, u := range units {
		targets[u] = true
	}
	for _, d := range dropins {
		name := strings.TrimSuffix(filepath.Base(filepath.Dir(d)), ".d")
		path := "/etc/systemd/system/" + name
		if !in.exists(path) {
			path = "/lib/systemd/system/" + name
			if strings.Contains(name, "@") {
				path = name // a template's instance: verify by name
			}
		}
		targets[path] = true
	}
	if len(targets) == 0 {
		t.Fatal("the user data wrote no systemd units")
	}
	paths := make([]string, 0, len(targets))
	for p := range targets {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		out, err := in.run("", time.Minute, "systemd-analyze", "verify", "--man=no", p)
		if err != nil || strings.TrimSpace(out) != "" {
			t.Errorf("systemd-analyze verify %s: %v\n%s", p, err, out)
			continue
		}
		t.Logf("systemd-analyze verify %s: clean", p)
	}
}
