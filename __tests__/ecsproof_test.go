package tests

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/acme/landing-zone/constructs/ecscluster"
	"github.com/acme/landing-zone/internal/config"
)

// releaseAgeDays is how old the proof's Amazon Linux release is: the rpm
// stand-in reports system-release 2023.6.<that many days ago>.
const releaseAgeDays = 40

// TestECSHostProof runs every app environment's ECS host user data for
// real, for every config (see hostproof_test.go): first boot on an
// Amazon-Linux-shaped instance (rpm, dnf and the agent are stand-ins),
// shellcheck, systemd-analyze verify, the cluster it joins, and the
// release age the host reports, which the image-age alarm watches.
func TestECSHostProof(t *testing.T) {
	requireHostProof(t)
	eachConfig(t, func(t *testing.T, f fixture) {
		for _, acct := range appAccounts(f.Cfg) {
			env := envName(f.Cfg, acct)
			ud := userDataOf(t, f, acct, env+"-ecs-host")
			t.Run(acct, func(t *testing.T) {
				if prev := provenBefore("ecs", f.Name+"/"+acct, ud); prev != "" {
					t.Skipf("renders the same ECS host user data as %s, proven above", prev)
				}
				proveECSHost(t, f.Cfg, env, ud)
			})
		}
	})
}

func proveECSHost(t *testing.T, cfg *config.Config, cluster, ud string) {
	released := time.Now().UTC().AddDate(0, 0, -releaseAgeDays).Format("20060102")
	in := newInstance(t, map[string]string{"region": cfg.Region, "system-release": "2023.6." + released})
	in.write("/etc/ecs/.keep", "", 0o644) // the ECS-optimized AMI has /etc/ecs
	out, err := in.firstBoot(t, ud)
	if err != nil {
		t.Fatalf("the first boot failed: %v\n%s", err, lastLines(out, 30))
	}
	in.check(t, "shellcheck", func(t *testing.T) { in.checkScripts(t) })
	in.check(t, "systemd-analyze verify", func(t *testing.T) { in.checkUnits(t) })
	in.check(t, "joins its cluster", func(t *testing.T) {
		conf := in.read("/etc/ecs/ecs.config")
		if !strings.Contains(conf, "ECS_CLUSTER="+cluster+"\n") {
			t.Errorf("/etc/ecs/ecs.config does not join %s:\n%s", cluster, conf)
		}
	})
	in.check(t, "no in-place patching that cannot patch", func(t *testing.T) {
		// Amazon Linux 2023 locks dnf to the AMI's release (deterministic
		// upgrades): `dnf update` without --releasever finds nothing newer.
		calls := in.read("/lz-test/calls.log")
		for _, line := range strings.Split(calls, "\n") {
			if strings.HasPrefix(line, "dnf ") && regexp.MustCompile(`\b(update|upgrade)\b`).MatchString(line) && !strings.Contains(line, "--releasever") {
				t.Errorf("the first boot runs `%s`: on Amazon Linux 2023 that installs nothing newer than the AMI's release", line)
			}
		}
		for _, f := range in.writtenFiles(t) {
			if strings.HasPrefix(f, "/etc/cron") && regexp.MustCompile(`dnf .*\b(update|upgrade)\b`).MatchString(in.read(f)) && !strings.Contains(in.read(f), "--releasever") {
				t.Errorf("%s schedules dnf updates that, on Amazon Linux 2023, install nothing newer than the AMI's release:\n%s", f, in.read(f))
			}
		}
	})
	in.check(t, "reports its release age", func(t *testing.T) {
		var timer string
		for _, tm := range in.enabledAt(t, "timers.target") {
			service := strings.TrimSuffix(tm, ".timer") + ".service"
			if u := in.loadUnit(t, service); strings.Contains(strings.Join(u.get("Service", "ExecStart"), " "), "release-age") {
				timer = tm
			}
		}
		if timer == "" {
			t.Fatalf("no timer the user data enabled reports the host's release age: nothing shows a host that keeps its launch image (enabled timers: %v)", in.enabledAt(t, "timers.target"))
		}
		if out, err := in.runUnit(t, "", strings.TrimSuffix(timer, ".timer")+".service"); err != nil {
			t.Fatalf("%s: %v\n%s", timer, err, out)
		}
		want := fmt.Sprintf("%s %s AutoScalingGroupName=%s %d", ecscluster.MetricNamespace, ecscluster.ReleaseAgeMetric, ecscluster.HostsName(cluster), releaseAgeDays)
		metrics := ""
		if in.exists("/lz-test/metrics.log") {
			metrics = in.read("/lz-test/metrics.log")
		}
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("a host on system-release 2023.6.%s reported %q, want %q", released, strings.TrimSpace(metrics), want)
		} else {
			tu := in.loadUnit(t, timer)
			t.Logf("%s (%s): reported %s", timer, strings.Join(append(tu.get("Timer", "OnBootSec"), tu.get("Timer", "OnUnitActiveSec")...), ", "), want)
		}
	})
}
