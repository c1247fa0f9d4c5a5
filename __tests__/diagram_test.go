package tests

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/acme/landing-zone/app/cli"
	"github.com/acme/landing-zone/internal/architecture"
	"github.com/acme/landing-zone/internal/config"
)

const regenerateDiagram = "make diagram  (or: go run . diagram -readme README.md)"

// synthesizedArchitecture reads the shared offline synth of f, as
// `landing-zone diagram` and `inventory` read theirs.
func synthesizedArchitecture(t *testing.T, f fixture) (*config.Config, []*architecture.Stack) {
	t.Helper()
	cfg := f.Cfg
	got, err := architecture.Read(offlineSynthOf(t, f), cli.StackOrder(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return cfg, got
}

// TestDiagramFilesAndREADMEAreCurrent: the diagram files and the README's
// diagram are generated from the repository's config.yaml; after editing it,
// run make diagram.
func TestDiagramFilesAndREADMEAreCurrent(t *testing.T) {
	g := architecture.Diagram(synthesizedArchitecture(t, loadFixture(t, "repo", repoConfig)))
	for file, want := range map[string]string{"../docs/architecture.mmd": g.Mermaid(), "../docs/architecture.dot": g.DOT()} {
		got, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("%v: run %s", err, regenerateDiagram)
			continue
		}
		if string(got) != want {
			t.Errorf("%s is stale (it is drawn from config.yaml):\n%s\nRun %s and commit the result.", file, lineDiff(string(got), want), regenerateDiagram)
		}
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := architecture.ReplaceBlock(string(readme), g.Mermaid())
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	if string(readme) != want {
		t.Errorf("the README's diagram is stale (it is drawn from config.yaml):\n%s\nRun %s.", lineDiff(string(readme), want), regenerateDiagram)
	}
}

// TestDiagramShowsEachConfigsArchitecture checks the drawing against the
// config it came from: every account, VPC range, service and peering.
func TestDiagramShowsEachConfigsArchitecture(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		cfg, got := synthesizedArchitecture(t, f)
		m := architecture.Diagram(cfg, got).Mermaid()
		shared, sharedAcct := cfg.AccountOfKind(config.KindShared)
		want := []string{"Internet", "S3 " + archiveNames(cfg).TrailBucket, "-.->|CloudTrail|", "-.->|AWS Config|", "EC2 " + cfg.NamePrefix + "-openvpn"}
		if slices.Contains(sharedAcct.VPN.AllowedCIDRs, "0.0.0.0/0") {
			want = append(want, "internet -->|udp "+strconv.Itoa(sharedAcct.VPN.Port)+"|")
		}
		if cfg.Monitoring.CentralLogs {
			want = append(want, "-.->|app logs|", "-.->|Firehose|")
		} else if strings.Contains(m, "-.->|app logs|") {
			t.Error("the diagram ships app logs with central_logs off")
		}
		for _, name := range cfg.AccountNames() {
			a := cfg.Accounts[name]
			want = append(want, name+" ("+a.ID+")")
			if a.VPC != nil {
				want = append(want, a.VPC.CIDR)
			}
			if a.Kind == config.KindApp {
				env := envName(cfg, name)
				want = append(want, mermaidID(name)+"_vpc <-->|VPC peering| "+mermaidID(shared)+"_vpc")
				// Data stores only where the config enables them.
				if a.DatabaseEnabled() {
					want = append(want, "Aurora "+env, a.Database.Engine)
				} else if strings.Contains(m, "Aurora "+env+"<") {
					t.Errorf("the diagram shows Aurora %s, which the config does not enable", env)
				}
				if a.CacheEnabled() {
					want = append(want, "Redis "+env)
				} else if strings.Contains(m, "Redis "+env+"<") {
					t.Errorf("the diagram shows Redis %s, which the config does not enable", env)
				}
				for _, svc := range a.ServiceNames() {
					want = append(want, "ECS service "+env+"-"+svc)
				}
			}
		}
		for _, w := range want {
			if !strings.Contains(m, w) {
				t.Errorf("the diagram lacks %q", w)
			}
		}
	})
}

func mermaidID(s string) string { return strings.ReplaceAll(s, "-", "_") }

// TestInventoryCountsMatchTheSynthesizedStacks reads the printed inventory
// back and compares every stack's counts with its synthesized JSON, and the
// notable sizes with the example config.
func TestInventoryCountsMatchTheSynthesizedStacks(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) { inventoryMatches(t, f) })
}

func inventoryMatches(t *testing.T, f fixture) {
	cfg, got := synthesizedArchitecture(t, f)
	var out bytes.Buffer
	if err := architecture.WriteInventory(&out, architecture.Inventory(got)); err != nil {
		t.Fatal(err)
	}
	printed := parseInventory(t, out.String())
	names := stackNames(t, offlineSynthOf(t, f))
	if len(printed) != len(names) {
		t.Errorf("the inventory has %d stacks, the synth %d", len(printed), len(names))
	}
	for _, name := range names {
		s := readStack(t, offlineSynthOf(t, f), name)
		p := printed[name]
		if p == nil {
			t.Errorf("the inventory lacks stack %s", name)
			continue
		}
		if p.total != s.count() {
			t.Errorf("%s: the inventory says %d resources, the JSON has %d", name, p.total, s.count())
		}
		for typ, rs := range s.Resource {
			if p.counts[typ] != len(rs) {
				t.Errorf("%s: the inventory says %d %s, the JSON has %d", name, p.counts[typ], typ, len(rs))
			}
		}
		if len(p.counts) != len(s.Resource) {
			t.Errorf("%s: the inventory lists %d types, the JSON has %d", name, len(p.counts), len(s.Resource))
		}
	}
	for _, name := range cfg.AccountNames() {
		a := cfg.Accounts[name]
		if a.VPC == nil {
			continue
		}
		nats := 1
		if a.VPC.NAT == config.NATPerAZ {
			nats = len(a.VPC.AZs)
		}
		wantSize(t, printed[name], "NAT gateways", strconv.Itoa(nats))
		if a.Kind != config.KindApp {
			continue
		}
		env := envName(cfg, name)
		wantSize(t, printed[name], "EC2 "+env+"-ecs-hosts", fmt.Sprintf("%s, min %d, max %d", a.ECS.InstanceType, a.ECS.MinSize, a.ECS.MaxSize))
		if a.DatabaseEnabled() {
			wantSize(t, printed[name], "Aurora "+env, fmt.Sprintf("%d x %s", a.Database.Instances, a.Database.InstanceClass))
		}
		if a.CacheEnabled() {
			wantSize(t, printed[name], "Redis "+env, fmt.Sprintf("%d x %s", *a.Cache.Replicas+1, a.Cache.NodeType))
		}
		for _, svc := range a.ServiceNames() {
			s := a.Services[svc]
			wantSize(t, printed[name], "ECS service "+env+"-"+svc, fmt.Sprintf("desired %d, min %d, max %d, %d CPU / %d MiB", s.DesiredCount, s.MinCount, s.MaxCount, s.CPU, s.Memory))
		}
	}
}

func wantSize(t *testing.T, p *printedStack, what, prefix string) {
	t.Helper()
	if p == nil || !strings.HasPrefix(p.sizes[what], prefix) {
		t.Errorf("inventory: want %s %q, got %+v", what, prefix, p)
	}
}

type printedStack struct {
	total  int
	counts map[string]int
	sizes  map[string]string
}

var (
	invHeadRe = regexp.MustCompile(`^== (\S+): (\d+) resources ==$`)
	invRowRe  = regexp.MustCompile(`^  (\S.*?)\s{2,}(\S.*)$`)
)

// parseInventory reads the tables WriteInventory prints.
func parseInventory(t *testing.T, text string) map[string]*printedStack {
	out := map[string]*printedStack{}
	var cur *printedStack
	section := ""
	for _, line := range strings.Split(text, "\n") {
		if m := invHeadRe.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[2])
			cur = &printedStack{total: n, counts: map[string]int{}, sizes: map[string]string{}}
			out[m[1]] = cur
			continue
		}
		m := invRowRe.FindStringSubmatch(line)
		if cur == nil || m == nil {
			continue
		}
		switch {
		case m[1] == "TYPE" || m[1] == "SIZE":
			section = m[1]
		case section == "TYPE":
			n, err := strconv.Atoi(m[2])
			if err != nil {
				t.Fatalf("inventory row %q: %v", line, err)
			}
			cur.counts[m[1]] = n
		default:
			cur.sizes[m[1]] = m[2]
		}
	}
	return out
}
