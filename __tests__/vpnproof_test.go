package tests

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acme/landing-zone/constructs/vpn"
	"github.com/acme/landing-zone/internal/config"
)

// vpnPublicIP is the server's Elastic IP in the proof: instance metadata
// (the curl stand-in) answers it and profiles point at it. As on AWS, the
// server itself only holds a private address (vpnPrivateIP); an "internet
// gateway" namespace translates one to the other, both ways, and routes
// to each client's namespace, so the server sees clients' own addresses.
const (
	vpnPublicIP  = "203.0.113.10"
	vpnPrivateIP = "100.64.1.10"
)

// TestVPNServerProof runs the VPN server's user data for real, for every
// config: first boot, then what the next boot starts, then a day in its
// life with real clients and attackers, then time. See hostproof_test.go
// for the instance it runs in.
func TestVPNServerProof(t *testing.T) {
	requireHostProof(t)
	eachConfig(t, func(t *testing.T, f fixture) {
		sharedName, shared := f.Cfg.AccountOfKind(config.KindShared)
		name := f.Cfg.NamePrefix + "-openvpn"
		ud := userDataOf(t, f, sharedName, name)
		if prev := provenBefore("vpn", f.Name, ud); prev != "" {
			t.Skipf("renders the same VPN user data as %s, proven above", prev)
		}
		p := &vpnProof{t: t, cfg: f.Cfg, acct: shared, name: name, userData: ud, bucket: vpn.BucketName(name, shared.ID)}
		p.run()
	})
}

type vpnProof struct {
	t        *testing.T
	cfg      *config.Config
	acct     *config.Account
	name     string
	userData string
	bucket   string

	in       *instance
	conf     string // the rendered server.conf
	f2b      *daemon
	srv, igw string // the server's network namespace, and the internet's
	server   *daemon
	clients  int
	ready    map[string]bool // what the steps so far established, for the steps that need it

	alice, carol *vpnClient
	carolAgain   *vpnClient // carol with her kept profile, after revocation
	carolProfile string
	mallory      *vpnClient
	attackers    []*vpnClient
}

// step runs one check as a subtest. It skips unless every state it needs
// was established (p.ready) by an earlier step.
func (p *vpnProof) step(name string, needs []string, fn func(t *testing.T)) {
	p.in.check(p.t, name, func(t *testing.T) {
		for _, n := range needs {
			if !p.ready[n] {
				t.Skipf("needs %s, which an earlier step did not establish", n)
			}
		}
		fn(t)
	})
}

func (p *vpnProof) run() {
	t := p.t
	p.in = newInstance(t, map[string]string{"public-ipv4": vpnPublicIP, "region": p.cfg.Region, "members": ""})
	// Ubuntu's rsyslog keeps these; fail2ban's stock jails read them.
	p.in.write("/var/log/auth.log", "", 0o640)
	p.in.write("/var/log/syslog", "", 0o640)
	out, err := p.in.firstBoot(t, p.userData)
	if err != nil {
		t.Fatalf("the first boot failed: %v\n%s", err, lastLines(out, 40))
	}
	p.conf = p.in.read("/etc/openvpn/server/server.conf")
	t.Logf("first boot: ran the user data (%d lines); it wrote %d files", strings.Count(p.userData, "\n"), len(p.in.writtenFiles(t)))

	p.ready = map[string]bool{}
	p.step("shellcheck", nil, func(t *testing.T) { p.in.checkScripts(t) })
	p.step("systemd-analyze verify", nil, func(t *testing.T) { p.in.checkUnits(t) })
	p.step("reboot keeps forwarding and the NAT rule", nil, p.reboot)
	p.step("fail2ban starts before the VPN log exists", nil, p.startFail2ban)
	p.step("openvpn runs the rendered config", nil, p.startServer)
	p.step("profiles follow the VPN group", []string{"a running server"}, p.profiles)
	p.step("revoking ends the session and refuses the certificate", []string{"connected clients"}, p.revoke)
	p.step("the fail2ban filter sees every failed handshake", []string{"connected clients"}, p.attacks)
	p.step("fail2ban bans failed handshakes", []string{"a running fail2ban", "attacks"}, p.bans)
	p.step("the CRL is renewed long before it expires", []string{"connected clients"}, p.crl)
	p.step("no CA or user key stays on the server's disk", []string{"connected clients"}, p.keysOffDisk)
}

// directive returns the argument of an OpenVPN config directive.
func directive(conf, key string) string {
	for _, line := range strings.Split(conf, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), key+" "); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

// reboot: the kernel forgets forwarding and NAT at reboot. A fresh network
// namespace (loopback only) is that kernel; the boot applies what systemd
// would, twice (a reboot, then the boot units once more, as a restart
// would), and the NAT rule for the client range must be there exactly once.
func (p *vpnProof) reboot(t *testing.T) {
	clients := p.acct.VPN.ClientCIDR
	boot := p.in.bootUnits(t)
	t.Logf("units the user data enabled to start at boot (multi-user.target): %v", boot)
	ordered := false
	for _, u := range boot {
		if strings.Contains(strings.Join(p.in.loadUnit(t, u).get("Unit", "Before"), " "), "openvpn-server@server.service") {
			ordered = true
		}
	}
	if !ordered {
		t.Errorf("no boot unit the user data installed is ordered before openvpn-server@server.service")
	}
	ns := newNetns(t, "reboot")
	for i := 1; i <= 2; i++ {
		out, err := p.in.reboot(t, ns)
		if err != nil {
			t.Fatalf("boot %d: %v\n%s", i, err, out)
		}
		var masq []string
		for _, r := range natRules(t, ns) {
			if strings.Contains(r, "-s "+clients) && strings.Contains(r, "MASQUERADE") {
				masq = append(masq, r)
			}
		}
		fwd := ipForward(t, ns)
		t.Logf("after boot %d: net.ipv4.ip_forward = %s; nat POSTROUTING: %q", i, fwd, natRules(t, ns))
		if len(masq) != 1 {
			t.Errorf("after boot %d the nat table has %d MASQUERADE rules for %s, want exactly 1: without it VPN clients' traffic leaves with client addresses, which no route, network ACL or security group admits", i, len(masq), clients)
		}
		if fwd != "1" {
			t.Errorf("after boot %d net.ipv4.ip_forward = %s, want 1", i, fwd)
		}
	}
}

// startFail2ban starts fail2ban as systemd starts fail2ban.service at boot
// (its ExecStartPre lines, drop-ins included, then fail2ban-server -xf
// start), on the instance as the first boot left it, where OpenVPN has not
// run yet, so its log does not exist. The test's only changes, in a
// jail.d file of its own: a dummy ban action instead of iptables, and the
// polling backend.
func (p *vpnProof) startFail2ban(t *testing.T) {
	logPath := directive(p.conf, "log-append")
	if logPath == "" {
		t.Fatal("server.conf has no log-append: fail2ban has no log to read")
	}
	if p.in.exists(logPath) {
		t.Fatalf("%s exists before OpenVPN ever ran; the proof needs a fresh instance", logPath)
	}
	p.in.write("/etc/fail2ban/jail.d/zz-lz-test.local", "# The test's copy only: no firewall changes, no optional backends.\n[DEFAULT]\nbanaction = dummy\nbanaction_allports = dummy\nbackend = polling\n", 0o644)
	u := p.in.loadUnit(t, "fail2ban.service")
	for _, d := range u.get("Service", "RuntimeDirectory") {
		p.in.write("/run/"+d+"/.keep", "", 0o644)
	}
	for _, line := range u.get("Service", "ExecStartPre") {
		argv, tolerate := execArgs(line)
		if out, err := p.in.run("", time.Minute, argv...); err != nil && !tolerate {
			t.Fatalf("fail2ban.service ExecStartPre %s: %v\n%s", line, err, out)
		}
		t.Logf("ran ExecStartPre=%s", line)
	}
	argv, _ := execArgs(u.first("Service", "ExecStart"))
	p.f2b = startDaemon(p.t, p.in.command("", "", nil, argv...))
	up := eventually(30*time.Second, func() bool {
		if !p.f2b.running() {
			return true
		}
		out, err := p.in.run("", 10*time.Second, "fail2ban-client", "ping")
		return err == nil && strings.Contains(out, "pong")
	})
	if !p.f2b.running() || !up {
		code := p.f2b.exitCode()
		log := ""
		if p.in.exists("/var/log/fail2ban.log") {
			log = lastLines(p.in.read("/var/log/fail2ban.log"), 5)
		}
		t.Fatalf("%s exited with status %d (its unit's RestartPreventExitStatus=%s: systemd does not retry):\n%s%s",
			strings.Join(argv, " "), code, u.first("Service", "RestartPreventExitStatus"), p.f2b.out.String(), log)
	}
	p.ready["a running fail2ban"] = true
	status, _ := p.in.run("", 10*time.Second, "fail2ban-client", "status", "openvpn")
	t.Logf("%s is up; fail2ban-client status openvpn:\n%s", strings.Join(argv, " "), status)
}

// startServer starts OpenVPN as systemd starts openvpn-server@server at
// boot (the packaged unit with the user data's drop-ins, its ExecStart and
// WorkingDirectory), in a namespace of its own that holds the Elastic IP
// and reaches the clients' namespaces, after the boot units.
func (p *vpnProof) startServer(t *testing.T) {
	p.srv, p.igw = newNetns(p.t, "srv"), newNetns(p.t, "igw")
	linkNetns(t, p.srv, "ens5", vpnPrivateIP+"/24", p.igw, "vpc", "100.64.1.1/24")
	sh(t, "ip", "-n", p.srv, "route", "add", "default", "via", "100.64.1.1")
	sh(t, "ip", "netns", "exec", p.igw, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
	sh(t, "ip", "netns", "exec", p.igw, "iptables", "-w", "-t", "nat", "-A", "PREROUTING", "-d", vpnPublicIP, "-j", "DNAT", "--to-destination", vpnPrivateIP)
	if out, err := p.in.reboot(t, p.srv); err != nil {
		t.Fatalf("boot units: %v\n%s", err, out)
	}
	u := p.in.loadUnit(t, "openvpn-server@server.service")
	execs := u.get("Service", "ExecStart")
	if len(execs) != 1 {
		t.Fatalf("openvpn-server@server.service has %d ExecStart lines: %q", len(execs), execs)
	}
	argv, _ := execArgs(execs[0])
	t.Logf("ExecStart=%s (WorkingDirectory=%s)", execs[0], u.first("Service", "WorkingDirectory"))
	logPath := directive(p.conf, "log-append")
	p.server = startDaemon(p.t, p.in.command(p.srv, u.first("Service", "WorkingDirectory"), nil, argv...))
	started := eventually(30*time.Second, func() bool {
		return !p.server.running() || (p.in.exists(logPath) && strings.Contains(p.in.read(logPath), "Initialization Sequence Completed"))
	})
	log := ""
	if p.in.exists(logPath) {
		log = p.in.read(logPath)
	}
	if !started || !p.server.running() {
		t.Fatalf("openvpn did not come up (exit %d):\n%s\n%s", p.server.exitCode(), p.server.out.String(), lastLines(log, 30))
	}
	p.ready["a running server"] = true
	t.Logf("openvpn is up with the rendered server.conf:\n%s", indent(p.conf))
	for _, line := range strings.Split(log, "\n") {
		if regexp.MustCompile(`WARNING|Options error|DEPRECATED`).MatchString(line) {
			t.Errorf("openvpn warns at startup: %s", line)
		}
	}
	if undated := undatedLines(log); len(undated) > 0 {
		t.Errorf("%d of the server log's lines carry no timestamp (e.g. %q): fail2ban cannot date them, so it bans no one", len(undated), undated[0])
	}
}

var logDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} `)

func undatedLines(log string) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		if line != "" && !logDate.MatchString(line) {
			out = append(out, line)
		}
	}
	return out
}

// vpnClient is a real OpenVPN client in a namespace of its own, linked to
// the internet gateway's: its address is what the server (and fail2ban)
// sees.
type vpnClient struct {
	label, ns, addr, log string
	proc                 *daemon
}

// connect starts a client with a profile from its own namespace. The
// client configures no interface or route (the test only needs the
// connection and what the server pushes).
func (p *vpnProof) connect(t *testing.T, label, profile string) *vpnClient {
	t.Helper()
	p.clients++
	i := p.clients
	ns := newNetns(p.t, label)
	gw := fmt.Sprintf("192.0.2.%d", 4*i+1)
	addr := fmt.Sprintf("192.0.2.%d", 4*i+2)
	linkNetns(t, p.igw, fmt.Sprintf("c%d", i), gw+"/30", ns, "eth0", addr+"/30")
	sh(t, "ip", "-n", ns, "route", "add", "default", "via", gw)
	return p.startClient(label, ns, addr, profile)
}

// alsoFrom starts another client process from c's namespace (address).
func (p *vpnProof) alsoFrom(c *vpnClient, label, profile string) *vpnClient {
	return p.startClient(label, c.ns, c.addr, profile)
}

func (p *vpnProof) startClient(label, ns, addr, profile string) *vpnClient {
	c := &vpnClient{label: label, ns: ns, addr: addr, log: filepath.Join(p.t.TempDir(), label+".log")}
	cmd := exec.Command("ip", "netns", "exec", ns, "openvpn", "--config", profile, "--ifconfig-noexec", "--route-noexec", "--log", c.log, "--verb", "3")
	c.proc = startDaemon(p.t, cmd)
	return c
}

func (c *vpnClient) logText() string {
	b, _ := os.ReadFile(c.log)
	return string(b)
}

func (c *vpnClient) connected(timeout time.Duration) bool {
	return eventually(timeout, func() bool { return strings.Contains(c.logText(), "Initialization Sequence Completed") })
}

func (p *vpnProof) serverLog() string {
	b, _ := os.ReadFile(p.in.path(directive(p.conf, "log-append")))
	return string(b)
}

func (p *vpnProof) profile(user string) string {
	return p.in.path("/lz-test/s3/" + p.bucket + "/profiles/" + user + ".ovpn")
}

func (p *vpnProof) sync(t *testing.T, members ...string) {
	t.Helper()
	p.in.write("/lz-test/members", strings.Join(members, "\n")+"\n", 0o644)
	out, err := p.in.runUnit(t, p.srv, "lz-vpn-sync.service")
	if err != nil {
		t.Fatalf("lz-vpn-sync with members %v: %v\n%s", members, err, out)
	}
}

// profiles: the sync issues a profile for each member of the VPN group;
// each connects with the pushed routes to every VPC and the VPC resolver.
func (p *vpnProof) profiles(t *testing.T) {
	p.sync(t, "alice", "carol")
	for _, user := range []string{"alice", "carol"} {
		b, err := os.ReadFile(p.profile(user))
		if err != nil {
			t.Fatalf("no profile for %s after the sync: %v", user, err)
		}
		want := fmt.Sprintf("remote %s %d", vpnPublicIP, p.acct.VPN.Port)
		if !strings.Contains(string(b), want+"\n") {
			t.Errorf("%s's profile lacks %q", user, want)
		}
	}
	// carol's profile, kept as a user would keep it after leaving.
	p.carolProfile = filepath.Join(p.t.TempDir(), "carol.ovpn")
	b, _ := os.ReadFile(p.profile("carol"))
	if err := os.WriteFile(p.carolProfile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	p.alice = p.connect(t, "alice", p.profile("alice"))
	p.carol = p.connect(t, "carol", p.carolProfile)
	for _, c := range []*vpnClient{p.alice, p.carol} {
		if !c.connected(30 * time.Second) {
			t.Fatalf("%s did not connect (running: %v):\n%s%s\nserver:\n%s", c.label, c.proc.running(), c.proc.out.String(), lastLines(c.logText(), 20), lastLines(p.serverLog(), 20))
		}
	}
	p.ready["connected clients"] = true
	push := ""
	for _, line := range strings.Split(p.alice.logText(), "\n") {
		if strings.Contains(line, "PUSH_REPLY") {
			push = line
		}
	}
	var want []string
	for _, acct := range vpcAccounts(p.cfg) {
		want = append(want, "route "+dottedCIDR(p.cfg.Accounts[acct].VPC.CIDR))
	}
	vpc := netip.MustParsePrefix(p.acct.VPC.CIDR)
	want = append(want, "dhcp-option DNS "+vpc.Addr().Next().Next().String())
	for _, w := range want {
		if !strings.Contains(push, w+",") {
			t.Errorf("the server does not push %q: %s", w, push)
		}
	}
	t.Logf("alice (%s) and carol (%s) connected; alice received %s", p.alice.addr, p.carol.addr, strings.TrimSpace(push[strings.Index(push, "PUSH"):]))
}

func dottedCIDR(cidr string) string {
	pre := netip.MustParsePrefix(cidr)
	return pre.Addr().String() + " " + net.IP(net.CIDRMask(pre.Bits(), 32)).String()
}

// revoke: carol leaves the VPN group. The next sync revokes her
// certificate; her open session must end, and her kept profile must no
// longer connect.
func (p *vpnProof) revoke(t *testing.T) {
	p.sync(t, "alice")
	if _, err := os.Stat(p.profile("carol")); err == nil {
		t.Errorf("carol's profile is still published after she left the group")
	}
	ended := regexp.MustCompile(`carol/` + regexp.QuoteMeta(p.carol.addr) + `:\d+ .*client-instance (exiting|restarting)`)
	if !eventually(20*time.Second, func() bool { return ended.MatchString(p.serverLog()) }) {
		t.Errorf("carol's open session is still up 20s after the sync revoked her certificate; the server log ends:\n%s", lastLines(p.serverLog(), 8))
	} else {
		t.Logf("carol's open session ended at the sync: %s", firstMatch(p.serverLog(), ended))
	}
	again := p.connect(t, "carol-again", p.carolProfile)
	refused := regexp.MustCompile(regexp.QuoteMeta(again.addr) + `:\d+ VERIFY ERROR: depth=0, error=certificate revoked`)
	if !eventually(20*time.Second, func() bool {
		return refused.MatchString(p.serverLog()) || strings.Contains(again.logText(), "Initialization Sequence Completed")
	}) ||
		strings.Contains(again.logText(), "Initialization Sequence Completed") {
		t.Errorf("carol's revoked certificate still connects (from %s); the server log ends:\n%s", again.addr, lastLines(p.serverLog(), 8))
	} else {
		t.Logf("carol's kept profile is refused: %s", firstMatch(p.serverLog(), refused))
	}
	p.carolAgain = again
}

// attacks: two sources fail the handshake repeatedly, for real: carol's
// revoked certificate (three clients), and mallory, an internet scanner
// without the tls-crypt key (three clients), whose packets OpenVPN drops
// unread. The
// rendered filter (fail2ban-regex on the real server log) must count at
// least maxretry failures for each, and none for alice.
func (p *vpnProof) attacks(t *testing.T) {
	key := filepath.Join(p.t.TempDir(), "other-tls-crypt.key")
	sh(t, "openvpn", "--genkey", "secret", key)
	k, _ := os.ReadFile(key)
	a, _ := os.ReadFile(p.profile("alice"))
	prof := regexp.MustCompile(`(?s)<tls-crypt>.*</tls-crypt>`).ReplaceAllString(string(a), "<tls-crypt>\n"+strings.TrimSpace(string(k))+"\n</tls-crypt>")
	path := filepath.Join(p.t.TempDir(), "mallory.ovpn")
	if err := os.WriteFile(path, []byte(prof), 0o600); err != nil {
		t.Fatal(err)
	}
	p.mallory = p.connect(t, "mallory", path)
	// A client backs off between attempts; a scanner need not: three at once.
	p.alsoFrom(p.mallory, "mallory-2", path)
	p.alsoFrom(p.mallory, "mallory-3", path)
	revoked := p.carolAgain
	if revoked == nil {
		revoked = p.connect(t, "carol-again", p.carolProfile)
	}
	p.alsoFrom(revoked, "carol-again-2", p.carolProfile)
	p.alsoFrom(revoked, "carol-again-3", p.carolProfile)
	p.attackers = []*vpnClient{revoked, p.mallory}
	jail := unit{}
	parseUnitInto(jail, p.in.read("/etc/fail2ban/jail.d/landing-zone.local"))
	maxretry, err := strconv.Atoi(jail.first("openvpn", "maxretry"))
	if err != nil {
		t.Fatalf("the openvpn jail's maxretry: %v", err)
	}
	count := func(addr string) int {
		return len(regexp.MustCompile(`(?m)(^|[ \]/])`+regexp.QuoteMeta(addr)+`:\d+\b`).FindAllString(p.serverLog(), -1))
	}
	eventually(30*time.Second, func() bool { return count(revoked.addr) >= 2*3 && count(p.mallory.addr) >= maxretry })
	out, err := p.in.run("", time.Minute, "fail2ban-regex", "-r", "-o", "ip", directive(p.conf, "log-append"), "/etc/fail2ban/filter.d/openvpn.local")
	if err != nil {
		t.Fatalf("fail2ban-regex: %v\n%s", err, out)
	}
	found := map[string]int{}
	for _, ip := range strings.Fields(out) {
		found[ip]++
	}
	summary, _ := p.in.run("", time.Minute, "fail2ban-regex", "-r", directive(p.conf, "log-append"), "/etc/fail2ban/filter.d/openvpn.local")
	t.Logf("fail2ban-regex %s filter.d/openvpn.local (the real server log, the rendered filter): failures by address %v (maxretry %d)\n%s",
		directive(p.conf, "log-append"), found, maxretry, indent(regexpLines(summary, `^(Lines|Failregex|Date template hits)|^\|  `)))
	for _, c := range p.attackers {
		if found[c.addr] < maxretry {
			t.Errorf("the filter finds %d failures from %s (%s), want at least maxretry = %d; its lines in the server log:\n%s",
				found[c.addr], c.addr, c.label, maxretry, indent(regexpLines(p.serverLog(), regexp.QuoteMeta(c.addr)+":")))
		}
	}
	if found[p.alice.addr] > 0 {
		t.Errorf("the filter counts %d failures from alice (%s), who only connected", found[p.alice.addr], p.alice.addr)
	}
	p.ready["attacks"] = true
}

// regexpLines keeps the lines of text that match pattern, at most 12.
func regexpLines(text, pattern string) string {
	re := regexp.MustCompile(pattern)
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if re.MatchString(line) && len(out) < 12 {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// bans: fail2ban, started before the log existed, must ban both attackers,
// and not alice.
func (p *vpnProof) bans(t *testing.T) {
	banned := func() string {
		out, _ := p.in.run("", 10*time.Second, "fail2ban-client", "get", "openvpn", "banned")
		return out
	}
	var want []string
	for _, c := range p.attackers {
		want = append(want, c.addr)
	}
	ok := eventually(60*time.Second, func() bool {
		b := banned()
		for _, w := range want {
			if !strings.Contains(b, "'"+w+"'") {
				return false
			}
		}
		return true
	})
	b := banned()
	if !ok {
		t.Errorf("fail2ban bans %s, want %v banned; the server log's last lines:\n%s", strings.TrimSpace(b), want, lastLines(p.serverLog(), 8))
	} else {
		t.Logf("fail2ban-client get openvpn banned: %s", strings.TrimSpace(b))
	}
	if strings.Contains(b, "'"+p.alice.addr+"'") {
		t.Errorf("fail2ban banned alice (%s), who only connected", p.alice.addr)
	}
}

// crl: OpenVPN rejects every client once the CRL it verifies against
// expires. The CRL must be renewed by a timer, and stay valid for more than
// twice the longest gap between renewals.
func (p *vpnProof) crl(t *testing.T) {
	crlPath := directive(p.conf, "crl-verify")
	next := crlNextUpdate(t, p.in.path(crlPath))
	t.Logf("%s: nextUpdate %s (%.0f days from now)", crlPath, next.Format(time.RFC3339), time.Until(next).Hours()/24)
	// The real consequence, checked by openssl at the time the CRL expires.
	ca, cert := profileBlock(t, p.profile("alice"), "ca"), profileBlock(t, p.profile("alice"), "cert")
	at := next.Add(time.Hour)
	out := verifyAt(t, ca, cert, p.in.path(crlPath), at)
	t.Logf("openssl verify -crl_check of alice's certificate at %s (an hour after nextUpdate): %s", at.Format(time.RFC3339), strings.TrimSpace(out))
	timer, interval := p.crlTimer(t)
	if timer == "" {
		t.Fatalf("no timer renews the CRL: it is regenerated only when the VPN group changes, so on %s (%.0f days from now) OpenVPN starts rejecting every client", next.Format("2006-01-02"), time.Until(next).Hours()/24)
	}
	before := sh(t, "openssl", "crl", "-in", p.in.path(crlPath), "-noout", "-lastupdate")
	time.Sleep(1100 * time.Millisecond) // lastUpdate has one-second resolution
	service := strings.TrimSuffix(timer, ".timer") + ".service"
	if u := p.in.loadUnit(t, timer).first("Timer", "Unit"); u != "" {
		service = u
	}
	if out, err := p.in.runUnit(t, p.srv, service); err != nil {
		t.Fatalf("%s: %v\n%s", service, err, out)
	}
	after := sh(t, "openssl", "crl", "-in", p.in.path(crlPath), "-noout", "-lastupdate")
	if before == after {
		t.Errorf("running %s did not renew %s (lastUpdate still %s)", service, crlPath, strings.TrimSpace(after))
	}
	next = crlNextUpdate(t, p.in.path(crlPath))
	validity := time.Until(next)
	t.Logf("%s renews the CRL at most every %s; after a renewal it is valid for %.1f days, %.0f times that", timer, interval, validity.Hours()/24, validity.Hours()/interval.Hours())
	if validity <= 2*interval {
		t.Errorf("the CRL is valid for %s after renewal, want more than twice the renewal interval (%s)", validity.Round(time.Hour), 2*interval)
	}
	ok := verifyAt(t, ca, cert, p.in.path(crlPath), time.Now().Add(2*interval))
	if !strings.Contains(ok, ": OK") {
		t.Errorf("alice's certificate does not verify against the renewed CRL two renewal intervals from now: %s", ok)
	}
	metrics := ""
	if p.in.exists("/lz-test/metrics.log") {
		metrics = p.in.read("/lz-test/metrics.log")
	}
	if !strings.Contains(metrics, vpn.MetricNamespace+" "+vpn.CRLDaysLeftMetric+" AutoScalingGroupName="+p.name+" ") {
		t.Errorf("the renewal did not report %s/%s for %s: %q", vpn.MetricNamespace, vpn.CRLDaysLeftMetric, p.name, metrics)
	} else {
		t.Logf("reported to CloudWatch: %s", strings.TrimSpace(lastLines(metrics, 1)))
	}
}

// crlTimer finds the timer the user data enabled whose service renews the
// CRL (its script runs easy-rsa's gen-crl), and the longest gap between its
// runs: the calendar's gap (systemd-analyze calendar) plus its randomized
// delay, or OnUnitActiveSec.
func (p *vpnProof) crlTimer(t *testing.T) (string, time.Duration) {
	t.Helper()
	for _, timer := range p.in.enabledAt(t, "timers.target") {
		tu := p.in.loadUnit(t, timer)
		service := strings.TrimSuffix(timer, ".timer") + ".service"
		if u := tu.first("Timer", "Unit"); u != "" {
			service = u
		}
		renews := false
		for _, line := range p.in.loadUnit(t, service).get("Service", "ExecStart") {
			argv, _ := execArgs(line)
			if p.in.exists(argv[0]) && strings.Contains(p.in.read(argv[0]), "gen-crl") && strings.Contains(strings.Join(argv[1:], " "), "crl") {
				renews = true
			}
		}
		if !renews {
			continue
		}
		var gap time.Duration
		if cal := tu.first("Timer", "OnCalendar"); cal != "" {
			out := sh(t, "systemd-analyze", "calendar", "--iterations=2", cal)
			var times []time.Time
			for _, line := range strings.Split(out, "\n") {
				line = strings.TrimSpace(line)
				if strings.HasPrefix(line, "Next elapse:") || strings.HasPrefix(line, "Iter. #2:") {
					v := strings.TrimSpace(line[strings.Index(line, ":")+1:])
					ts, err := time.Parse("Mon 2006-01-02 15:04:05 MST", v)
					if err != nil {
						t.Fatalf("systemd-analyze calendar %s: %q: %v", cal, v, err)
					}
					times = append(times, ts)
				}
			}
			if len(times) != 2 {
				t.Fatalf("systemd-analyze calendar %s:\n%s", cal, out)
			}
			gap = times[1].Sub(times[0])
		}
		if v := tu.first("Timer", "OnUnitActiveSec"); v != "" {
			if d := timespan(t, v); gap == 0 || d > gap {
				gap = d
			}
		}
		if v := tu.first("Timer", "RandomizedDelaySec"); v != "" {
			gap += timespan(t, v)
		}
		if gap == 0 {
			t.Fatalf("%s has neither OnCalendar nor OnUnitActiveSec", timer)
		}
		return timer, gap
	}
	return "", 0
}

// timespan converts a systemd time span with systemd-analyze.
func timespan(t *testing.T, v string) time.Duration {
	t.Helper()
	out := sh(t, "systemd-analyze", "timespan", v)
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "μs:"); ok {
			us, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			if err == nil {
				return time.Duration(us) * time.Microsecond
			}
		}
	}
	t.Fatalf("systemd-analyze timespan %s:\n%s", v, out)
	return 0
}

func crlNextUpdate(t *testing.T, path string) time.Time {
	t.Helper()
	out := strings.TrimSpace(sh(t, "openssl", "crl", "-in", path, "-noout", "-nextupdate"))
	ts, err := time.Parse("Jan _2 15:04:05 2006 MST", strings.TrimPrefix(out, "nextUpdate="))
	if err != nil {
		t.Fatalf("openssl crl -nextupdate: %q: %v", out, err)
	}
	return ts
}

// profileBlock writes an inline block (<ca>, <cert>) of a profile to a file.
func profileBlock(t *testing.T, profile, tag string) string {
	t.Helper()
	b, err := os.ReadFile(profile)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)<` + tag + `>\n(.*?)</` + tag + `>`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s has no <%s>", profile, tag)
	}
	path := filepath.Join(t.TempDir(), tag+".pem")
	if err := os.WriteFile(path, m[1], 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// verifyAt is openssl verify with CRL checks at a given time.
func verifyAt(t *testing.T, ca, cert, crl string, at time.Time) string {
	t.Helper()
	out, _ := exec.Command("openssl", "verify", "-attime", strconv.FormatInt(at.Unix(), 10), "-crl_check", "-CAfile", ca, "-CRLfile", crl, cert).CombinedOutput()
	return strings.ReplaceAll(string(out), cert, "alice.crt")
}

// keysOffDisk: after the first boot, syncs, a revocation and a renewal, the
// only private key on the server's disk is its own (server.conf's key);
// the CA key and users' keys are nowhere on it, nor in the PKI backup.
func (p *vpnProof) keysOffDisk(t *testing.T) {
	serverKey := directive(p.conf, "key")
	var onDisk []string
	for _, f := range p.in.writtenFiles(t) {
		b, err := os.ReadFile(p.in.onDisk(f))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("PRIVATE KEY-----")) && f != serverKey {
			onDisk = append(onDisk, f)
		}
	}
	if len(onDisk) > 0 {
		t.Errorf("private keys on the internet-facing server's disk besides its own (%s):\n  %s", serverKey, strings.Join(onDisk, "\n  "))
	}
	backup := p.in.path("/lz-test/s3/" + p.bucket + "/pki/pki.tar.gz")
	inBackup, err := privateKeysInTarball(backup)
	if err != nil {
		t.Fatalf("the PKI backup: %v", err)
	}
	var extra []string
	for _, k := range inBackup {
		if filepath.Base(k) != filepath.Base(serverKey) {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		t.Errorf("the PKI backup s3://%s/pki/pki.tar.gz holds private keys besides the server's: %v", p.bucket, extra)
	}
	caKey := p.in.path("/lz-test/s3/" + p.bucket + "/pki/ca.key")
	if sse, err := os.ReadFile(caKey + ".sse"); err == nil {
		t.Logf("the CA key is in s3://%s/pki/ca.key only (server-side encryption %s); private keys on disk: %s only", p.bucket, sse, serverKey)
		if !strings.HasPrefix(string(sse), "aws:kms arn:aws:kms:") {
			t.Errorf("the CA key was uploaded with --sse %s, want aws:kms with the PKI key's ARN", sse)
		}
	}
}

func privateKeysInTarball(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(z)
	var out []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(tr)
		if bytes.Contains(b, []byte("PRIVATE KEY-----")) {
			out = append(out, h.Name)
		}
	}
}

func firstMatch(text string, re *regexp.Regexp) string {
	for _, line := range strings.Split(text, "\n") {
		if re.MatchString(line) {
			return line
		}
	}
	return ""
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}
