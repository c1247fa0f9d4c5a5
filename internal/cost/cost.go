// Package cost estimates what the synthesized stacks cost per month, per
// stack and per resource class, from the price table in prices.json (kept
// in the repository with its sources and the date it was read; no network).
// Every line says whether its amount is fixed by the stacks (a resource
// that bills by the hour or month), rests on a stated assumption (traffic
// through a NAT gateway, ALB capacity units, Aurora storage), or is
// usage-based and not estimated at all. Diff compares two estimates for a
// pull request. Entry points: ReadDir, Estimate, Diff, Write*.
package cost

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/acme/landing-zone/internal/tfjson"
)

// Basis says how far a line's amount can be trusted.
type Basis string

const (
	// Fixed lines bill whether or not anything uses the resource.
	Fixed Basis = "fixed"
	// Assumed lines depend on a number this package assumes (Assumptions).
	Assumed Basis = "assumed"
	// Usage lines depend on traffic or data volume and are not estimated:
	// their monthly amount is 0 and their note says what drives the bill.
	Usage Basis = "usage-based, not estimated"
)

// Assumptions are the usage numbers that assumed lines rest on. The zero
// value is an idle landing zone.
type Assumptions struct {
	// NATGBPerMonth is the data each NAT gateway processes a month, in GB.
	// Default 0: idle.
	NATGBPerMonth float64 `json:"nat_gb_per_month"`
	// ALBLCUPerHour is the load balancer capacity units each ALB uses an
	// hour. AWS bills used LCUs with no minimum. Default 0: idle.
	ALBLCUPerHour float64 `json:"alb_lcu_per_hour"`
	// AuroraGBPerCluster is the storage each Aurora cluster holds, in GB.
	// Default 0: an empty database.
	AuroraGBPerCluster float64 `json:"aurora_gb_per_cluster"`
}

// Line is one resource class of one stack.
type Line struct {
	Stack string `json:"stack"`
	Class string `json:"class"`
	Count int    `json:"count"`
	// UnitPrice is the cited price of one Unit; UnitsPerMonth turns it into
	// a monthly amount per counted resource (730 for hourly prices).
	UnitPrice     float64 `json:"unit_price"`
	Unit          string  `json:"unit"`
	UnitsPerMonth float64 `json:"units_per_month"`
	Monthly       float64 `json:"monthly_usd"`
	Basis         Basis   `json:"basis"`
	Note          string  `json:"note,omitempty"`
	// Source names the entry of prices.json the price comes from.
	Source string `json:"source,omitempty"`
}

// Stack is the estimate of one stack.
type Stack struct {
	Name    string  `json:"name"`
	Region  string  `json:"region"`
	Lines   []Line  `json:"lines"`
	Monthly float64 `json:"monthly_usd"`
}

// Report is the estimate of a whole synth output.
type Report struct {
	PricesRead  string      `json:"prices_read"`
	Assumptions Assumptions `json:"assumptions"`
	Stacks      []Stack     `json:"stacks"`
	Monthly     float64     `json:"monthly_usd"`
}

// ReadDir reads the stacks of a synth output: DIR/stacks/NAME/cdk.tf.json
// (what cdktf writes), or DIR/NAME.tf.json (the test snapshots).
func ReadDir(dir string) (map[string][]byte, error) {
	if _, err := os.Stat(filepath.Join(dir, "stacks")); err == nil {
		return tfjson.ReadStacks(dir)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.tf.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s holds neither stacks/*/cdk.tf.json nor *.tf.json", dir)
	}
	docs := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		docs[strings.TrimSuffix(filepath.Base(f), ".tf.json")] = b
	}
	return docs, nil
}

// doc is the part of a cdk.tf.json an estimate reads.
type doc struct {
	Provider map[string]any                       `json:"provider"`
	Resource map[string]map[string]map[string]any `json:"resource"`
}

// Estimate prices every stack of docs (by stack name) with the table t.
// It fails on a region, instance class or resource type the table does not
// know, naming what to add: an estimate that silently skips one would
// understate the bill.
func Estimate(docs map[string][]byte, t *Table, a Assumptions) (*Report, error) {
	rep := &Report{PricesRead: t.Read, Assumptions: a}
	var errs []string
	for _, name := range keys(docs) {
		var d doc
		if err := json.Unmarshal(docs[name], &d); err != nil {
			return nil, fmt.Errorf("stack %s: %w", name, err)
		}
		s, err := estimateStack(name, d, t, a)
		if err != nil {
			errs = append(errs, fmt.Sprintf("stack %s: %v", name, err))
			continue
		}
		rep.Stacks = append(rep.Stacks, *s)
		rep.Monthly += s.Monthly
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	rep.Monthly = round(rep.Monthly)
	return rep, nil
}

func estimateStack(name string, d doc, t *Table, a Assumptions) (*Stack, error) {
	region, err := regionOf(d)
	if err != nil {
		return nil, err
	}
	r, err := t.region(region)
	if err != nil {
		return nil, err
	}
	e := &estimator{stack: name, region: region, r: r, t: t, a: a, res: d.Resource, lines: map[string]*Line{}}
	var unknown []string
	for _, typ := range keys(d.Resource) {
		if err := e.add(typ); err != nil {
			if err == errUnclassified {
				unknown = append(unknown, typ)
				continue
			}
			return nil, err
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("resource types with no cost model: %s; classify them in internal/cost/classes.go (costed, usage-based or free)",
			strings.Join(unknown, ", "))
	}
	s := &Stack{Name: name, Region: region}
	for _, l := range e.lines {
		l.Monthly = round(float64(l.Count) * l.UnitPrice * l.UnitsPerMonth)
		s.Lines = append(s.Lines, *l)
		s.Monthly += l.Monthly
	}
	sortLines(s.Lines)
	s.Monthly = round(s.Monthly)
	return s, nil
}

// regionOf reads the region of the stack's default AWS provider (the one
// without an alias).
func regionOf(d doc) (string, error) {
	for _, p := range tfjson.Blocks(d.Provider["aws"]) {
		if _, aliased := p["alias"]; aliased {
			continue
		}
		if r, ok := p["region"].(string); ok && r != "" {
			return r, nil
		}
	}
	return "", fmt.Errorf("no region on the default aws provider")
}

var basisRank = map[Basis]int{Fixed: 0, Assumed: 1, Usage: 2}

func sortLines(ls []Line) {
	sort.Slice(ls, func(i, j int) bool {
		if ls[i].Basis != ls[j].Basis {
			return basisRank[ls[i].Basis] < basisRank[ls[j].Basis]
		}
		return ls[i].Class < ls[j].Class
	})
}

// round keeps cents, so that sums and tests compare exactly.
func round(v float64) float64 {
	if v < 0 {
		return -round(-v)
	}
	return float64(int64(v*100+0.5)) / 100
}
