package cost

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteText prints one table per stack (fixed lines, then assumed, then
// usage-based), a summary by stack and the total.
func WriteText(w io.Writer, rep *Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range rep.Stacks {
		fmt.Fprintf(tw, "== %s (%s)\n", s.Name, s.Region)
		fmt.Fprintln(tw, "CLASS\tCOUNT\tUNIT PRICE\tMONTHLY USD\tBASIS\tNOTE")
		for _, l := range s.Lines {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", l.Class, l.Count, unitPrice(l), monthly(l), l.Basis, l.Note)
		}
		fmt.Fprintf(tw, "total\t\t\t%.2f\t\t\n\n", s.Monthly)
	}
	fmt.Fprintln(tw, "STACK\tREGION\tMONTHLY USD")
	for _, s := range rep.Stacks {
		fmt.Fprintf(tw, "%s\t%s\t%.2f\n", s.Name, s.Region, s.Monthly)
	}
	fmt.Fprintf(tw, "total\t\t%.2f\n", rep.Monthly)
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprint(w, footer(rep))
	return err
}

// WriteJSON prints the report as JSON.
func WriteJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteMarkdown prints the summary by stack and by class as Markdown (for
// a GitHub job summary).
func WriteMarkdown(w io.Writer, rep *Report) error {
	var b strings.Builder
	b.WriteString("## Monthly cost estimate\n\n| Stack | Region | Monthly USD |\n|---|---|---:|\n")
	for _, s := range rep.Stacks {
		fmt.Fprintf(&b, "| %s | %s | %.2f |\n", s.Name, s.Region, s.Monthly)
	}
	fmt.Fprintf(&b, "| **total** | | **%.2f** |\n\n", rep.Monthly)
	b.WriteString(strings.ReplaceAll(footer(rep), "\n", "\n\n"))
	_, err := io.WriteString(w, b.String())
	return err
}

func footer(rep *Report) string {
	a := rep.Assumptions
	return fmt.Sprintf("\nOn-demand list prices read %s (internal/cost/prices.json: sources and what was checked). "+
		"Assumed: %g GB per NAT gateway-month, %g LCU per ALB-hour, %g GB per Aurora cluster. "+
		"Usage-based lines are listed, not estimated; taxes, support, data transfer and the free tier are left out.\n",
		rep.PricesRead, a.NATGBPerMonth, a.ALBLCUPerHour, a.AuroraGBPerCluster)
}

func unitPrice(l Line) string {
	if l.Basis == Usage {
		return "-"
	}
	return fmt.Sprintf("%s/%s", trim(l.UnitPrice), l.Unit)
}

func monthly(l Line) string {
	if l.Basis == Usage {
		return "-"
	}
	return fmt.Sprintf("%.2f", l.Monthly)
}

func trim(v float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", v), "0"), ".")
}

// Change is how one class of one stack differs between two reports.
type Change struct {
	Stack     string  `json:"stack"`
	Class     string  `json:"class"`
	BaseCount int     `json:"base_count"`
	HeadCount int     `json:"head_count"`
	Delta     float64 `json:"delta_usd"`
}

// Delta is the difference between a base and a head report.
type Delta struct {
	Base    float64  `json:"base_monthly_usd"`
	Head    float64  `json:"head_monthly_usd"`
	Delta   float64  `json:"delta_usd"`
	Changes []Change `json:"changes"`
}

// Diff compares two reports line by line: every class whose count or
// amount changed, a stack that appears or disappears included.
func Diff(base, head *Report) *Delta {
	type key struct{ stack, class string }
	b, h := map[key]Line{}, map[key]Line{}
	for _, s := range base.Stacks {
		for _, l := range s.Lines {
			b[key{s.Name, l.Class}] = l
		}
	}
	for _, s := range head.Stacks {
		for _, l := range s.Lines {
			h[key{s.Name, l.Class}] = l
		}
	}
	d := &Delta{Base: base.Monthly, Head: head.Monthly, Delta: round(head.Monthly - base.Monthly)}
	seen := map[key]bool{}
	for _, m := range []map[key]Line{b, h} {
		for k := range m {
			if seen[k] {
				continue
			}
			seen[k] = true
			bl, hl := b[k], h[k]
			if bl.Count == hl.Count && bl.Monthly == hl.Monthly {
				continue
			}
			d.Changes = append(d.Changes, Change{Stack: k.stack, Class: k.class, BaseCount: bl.Count, HeadCount: hl.Count, Delta: round(hl.Monthly - bl.Monthly)})
		}
	}
	sort.Slice(d.Changes, func(i, j int) bool {
		if d.Changes[i].Stack != d.Changes[j].Stack {
			return d.Changes[i].Stack < d.Changes[j].Stack
		}
		return d.Changes[i].Class < d.Changes[j].Class
	})
	return d
}

// WriteDelta prints a delta as a text table, or as Markdown with md.
func WriteDelta(w io.Writer, d *Delta, md bool) error {
	if md {
		var b strings.Builder
		fmt.Fprintf(&b, "## Monthly cost change\n\n%s USD a month (%.2f → %.2f)\n\n", signed(d.Delta), d.Base, d.Head)
		if len(d.Changes) == 0 {
			b.WriteString("No costed resource changed.\n")
		} else {
			b.WriteString("| Stack | Class | Count | Monthly USD |\n|---|---|---|---:|\n")
			for _, c := range d.Changes {
				fmt.Fprintf(&b, "| %s | %s | %d → %d | %s |\n", c.Stack, c.Class, c.BaseCount, c.HeadCount, signed(c.Delta))
			}
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STACK\tCLASS\tCOUNT\tMONTHLY USD")
	for _, c := range d.Changes {
		fmt.Fprintf(tw, "%s\t%s\t%d -> %d\t%s\n", c.Stack, c.Class, c.BaseCount, c.HeadCount, signed(c.Delta))
	}
	fmt.Fprintf(tw, "total\t\t\t%s (%.2f -> %.2f)\n", signed(d.Delta), d.Base, d.Head)
	return tw.Flush()
}

func signed(v float64) string {
	if v > 0 {
		return fmt.Sprintf("+%.2f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
