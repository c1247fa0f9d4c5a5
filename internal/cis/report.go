package cis

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Counts tallies the controls by status.
func Counts(rs []Result) map[Status]int {
	c := map[Status]int{}
	for _, r := range rs {
		c[r.Status]++
	}
	return c
}

// Write prints every control: its status and title, then one line per
// finding (scope and evidence), then the tally. With asJSON, the results as
// JSON.
func Write(w io.Writer, rs []Result, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rs)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Status, r.Title)
		for _, f := range r.Findings {
			scope := f.Scope
			if scope == "" {
				scope = "all"
			}
			fmt.Fprintf(tw, "\t  %s\t  %s: %s\n", f.Status, scope, f.Evidence)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	c := Counts(rs)
	var fails []string
	for _, r := range Failures(rs) {
		fails = append(fails, r.ID)
	}
	fmt.Fprintf(w, "\nCIS AWS Foundations Benchmark v3.0.0: %d controls: %d HOLD, %d FAIL, %d MANUAL, %d N/A\n",
		len(rs), c[Hold], c[Fail], c[Manual], c[NA])
	if len(fails) > 0 {
		fmt.Fprintf(w, "FAIL: %s\n", strings.Join(fails, " "))
	}
	return nil
}
