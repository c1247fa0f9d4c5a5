package cost

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stackJSON builds a one-stack synth output in region with the given
// resources (type -> id -> arguments).
func stackJSON(t *testing.T, region string, res map[string]map[string]map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"provider": map[string]any{"aws": []any{map[string]any{"region": region}}},
		"resource": res,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func estimate(t *testing.T, docs map[string][]byte) *Report {
	t.Helper()
	tb, err := Prices()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Estimate(docs, tb, Assumptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func lineOf(t *testing.T, rep *Report, stack, class string) Line {
	t.Helper()
	for _, s := range rep.Stacks {
		for _, l := range s.Lines {
			if s.Name == stack && l.Class == class {
				return l
			}
		}
	}
	t.Fatalf("no line %q in stack %s", class, stack)
	return Line{}
}

// The hand-computed cases: each amount is the price cited in prices.json
// (sources in the comment) times the hours or months, worked out by hand.
func TestHandComputed(t *testing.T) {
	docs := map[string][]byte{"a": stackJSON(t, "us-east-1", map[string]map[string]map[string]any{
		"aws_nat_gateway": {"nat": {"allocation_id": "${aws_eip.ip.allocation_id}"}},
		"aws_eip":         {"ip": {"domain": "vpc"}},
		"aws_rds_cluster": {"db": {"engine": "aurora-postgresql"}},
		"aws_rds_cluster_instance": {"one": {
			"engine": "aurora-postgresql", "instance_class": "db.r6g.large", "cluster_identifier": "${aws_rds_cluster.db.id}"}},
		"aws_elasticache_replication_group": {"cache": {"engine": "redis", "node_type": "cache.t4g.micro", "num_cache_clusters": 1}},
		"aws_kms_key":                       {"k1": {}, "k2": {}, "k3": {}},
	})}
	rep := estimate(t, docs)
	cases := []struct {
		class string
		count int
		want  float64
		why   string
	}{
		// sources.nat_gateway: $0.045 per hour in us-east-1 (checked).
		{"NAT gateway", 1, 32.85, "0.045 x 730"},
		// sources.public_ipv4: $0.005 per address-hour (checked).
		{"Public IPv4 (Elastic IP)", 1, 3.65, "0.005 x 730"},
		// sources.aurora: db.r6g.large Aurora PostgreSQL $0.26 per hour.
		{"Aurora aurora-postgresql db.r6g.large", 1, 189.80, "0.26 x 730"},
		// sources.elasticache: cache.t4g.micro (Redis OSS) $0.016 per hour.
		{"ElastiCache redis cache.t4g.micro", 1, 11.68, "0.016 x 730"},
		// sources.kms: $1 per key-month (checked).
		{"KMS customer managed key", 3, 3.00, "3 x 1"},
		// Idle by default: no traffic assumed.
		{"NAT gateway data processed", 1, 0, "0 GB assumed"},
		{"Aurora storage", 1, 0, "0 GB assumed"},
	}
	var sum float64
	for _, c := range cases {
		l := lineOf(t, rep, "a", c.class)
		if l.Count != c.count || l.Monthly != c.want {
			t.Errorf("%s: got %d for %.2f, want %d for %.2f (%s)", c.class, l.Count, l.Monthly, c.count, c.want, c.why)
		}
		sum += c.want
	}
	if rep.Monthly != round(sum) {
		t.Errorf("total %.2f, want %.2f", rep.Monthly, round(sum))
	}
}

func TestAssumptionsScaleTheirLines(t *testing.T) {
	docs := map[string][]byte{"a": stackJSON(t, "us-east-1", map[string]map[string]map[string]any{
		"aws_nat_gateway": {"nat": {}},
		"aws_lb":          {"alb": {"internal": true, "load_balancer_type": "application"}},
	})}
	tb, _ := Prices()
	rep, err := Estimate(docs, tb, Assumptions{NATGBPerMonth: 100, ALBLCUPerHour: 1})
	if err != nil {
		t.Fatal(err)
	}
	// 100 GB x $0.045; 1 LCU x 730 h x $0.008; $0.0225 x 730.
	for class, want := range map[string]float64{"NAT gateway data processed": 4.50, "ALB capacity units (LCU)": 5.84, "Application Load Balancer": 16.43} {
		if got := lineOf(t, rep, "a", class).Monthly; got != want {
			t.Errorf("%s: %.2f, want %.2f", class, got, want)
		}
	}
}

func TestUnknownInstanceClassFailsLoudly(t *testing.T) {
	docs := map[string][]byte{"a": stackJSON(t, "us-east-1", map[string]map[string]map[string]any{
		"aws_rds_cluster_instance": {"one": {"engine": "aurora-postgresql", "instance_class": "db.x9.huge"}},
	})}
	tb, _ := Prices()
	_, err := Estimate(docs, tb, Assumptions{})
	if err == nil || !strings.Contains(err.Error(), `"db.x9.huge"`) || !strings.Contains(err.Error(), "prices.json") {
		t.Fatalf("want an error naming the class and the fix, got %v", err)
	}
}

func TestUnknownRegionFailsLoudly(t *testing.T) {
	docs := map[string][]byte{"a": stackJSON(t, "sa-east-1", map[string]map[string]map[string]any{"aws_kms_key": {"k": {}}})}
	tb, _ := Prices()
	_, err := Estimate(docs, tb, Assumptions{})
	if err == nil || !strings.Contains(err.Error(), `"sa-east-1"`) || !strings.Contains(err.Error(), "add a") {
		t.Fatalf("want an error naming the region and the fix, got %v", err)
	}
}

func TestUnclassifiedTypeFailsLoudly(t *testing.T) {
	docs := map[string][]byte{"a": stackJSON(t, "us-east-1", map[string]map[string]map[string]any{"aws_redshift_cluster": {"r": {}}})}
	tb, _ := Prices()
	_, err := Estimate(docs, tb, Assumptions{})
	if err == nil || !strings.Contains(err.Error(), "aws_redshift_cluster") {
		t.Fatalf("want an error naming the type, got %v", err)
	}
}

// fixtureRegion reads region: from a fixture config.
func fixtureRegion(t *testing.T, fixture string) string {
	b, err := os.ReadFile(filepath.Join("..", "..", "__tests__", "testdata", "configs", fixture+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "region:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("%s: no region", fixture)
	return ""
}

// Every fixture's snapshot is priced in full: each costed resource has a
// price for the fixture's region, the total is positive, and the NAT line
// counts every aws_nat_gateway.
func TestEveryFixture(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "__tests__", "testdata", "snapshots", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no snapshots: %v", err)
	}
	tb, _ := Prices()
	for _, dir := range dirs {
		fixture := filepath.Base(dir)
		t.Run(fixture, func(t *testing.T) {
			docs, err := ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Estimate(docs, tb, Assumptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Monthly <= 0 {
				t.Errorf("total %.2f, want > 0", rep.Monthly)
			}
			region := fixtureRegion(t, fixture)
			nats, lines := 0, 0
			for _, b := range docs {
				var d doc
				if err := json.Unmarshal(b, &d); err != nil {
					t.Fatal(err)
				}
				nats += len(d.Resource["aws_nat_gateway"])
			}
			for _, s := range rep.Stacks {
				if s.Region != region {
					t.Errorf("stack %s priced in %s, the fixture says %s", s.Name, s.Region, region)
				}
				for _, l := range s.Lines {
					if l.Class == "NAT gateway" {
						lines += l.Count
					}
					if l.Basis != Usage && l.UnitPrice <= 0 {
						t.Errorf("%s: %s has no unit price", s.Name, l.Class)
					}
				}
			}
			if nats == 0 || lines != nats {
				t.Errorf("NAT gateways priced %d, in the snapshot %d", lines, nats)
			}
		})
	}
}

func TestDelta(t *testing.T) {
	res := func(kms int) map[string]map[string]map[string]any {
		keys := map[string]map[string]any{}
		for i := 0; i < kms; i++ {
			keys[string(rune('a'+i))] = map[string]any{}
		}
		return map[string]map[string]map[string]any{"aws_kms_key": keys, "aws_nat_gateway": {"n": {}}}
	}
	base := estimate(t, map[string][]byte{"one": stackJSON(t, "us-east-1", res(2)), "two": stackJSON(t, "us-east-1", res(1))})

	// One resource fewer: one KMS key, -$1.
	head := estimate(t, map[string][]byte{"one": stackJSON(t, "us-east-1", res(1)), "two": stackJSON(t, "us-east-1", res(1))})
	d := Diff(base, head)
	if d.Delta != -1 || len(d.Changes) != 1 || d.Changes[0] != (Change{Stack: "one", Class: "KMS customer managed key", BaseCount: 2, HeadCount: 1, Delta: -1}) {
		t.Errorf("one key removed: %+v", d)
	}

	// One stack fewer: its key and NAT gateway (1 + 0.045 x 730 = 33.85).
	head = estimate(t, map[string][]byte{"one": stackJSON(t, "us-east-1", res(2))})
	d = Diff(base, head)
	if d.Delta != -33.85 {
		t.Errorf("stack removed: delta %.2f, want -33.85 (%+v)", d.Delta, d.Changes)
	}
	for _, c := range d.Changes {
		if c.Stack != "two" || c.HeadCount != 0 || c.Delta > 0 {
			t.Errorf("stack removed: unexpected change %+v", c)
		}
	}

	if d := Diff(base, base); d.Delta != 0 || len(d.Changes) != 0 {
		t.Errorf("no change: %+v", d)
	}
}

func TestEverySourceIsCited(t *testing.T) {
	tb, err := Prices()
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range tb.Sources {
		if !strings.HasPrefix(s.URL, "https://aws.amazon.com/") || s.Checked == "" {
			t.Errorf("source %s: want an aws.amazon.com URL and what was checked, got %+v", name, s)
		}
	}
	rep := estimate(t, map[string][]byte{"a": stackJSON(t, "us-east-1", map[string]map[string]map[string]any{
		"aws_nat_gateway": {"n": {}}, "aws_kms_key": {"k": {}}, "aws_cloudwatch_metric_alarm": {"a": {}},
	})})
	for _, l := range rep.Stacks[0].Lines {
		if _, ok := tb.Sources[l.Source]; !ok && l.Basis != Usage {
			t.Errorf("%s: source %q not in the table", l.Class, l.Source)
		}
	}
}
