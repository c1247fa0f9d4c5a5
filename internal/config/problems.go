package config

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Problem is one thing wrong with a config: where, what, and how to fix it.
type Problem struct {
	Path string // key path, e.g. accounts.dev.vpc.cidr
	Line int    // line in the file, 0 when unknown
	Msg  string // what is wrong
	Fix  string // what to do about it
}

func (p Problem) String() string {
	s := p.Path + ": " + p.Msg
	if p.Fix != "" {
		s += "; " + p.Fix
	}
	return s
}

// Problems is every problem found in one config. Load returns it as its
// error, so callers see all problems at once.
type Problems struct {
	File string
	List []Problem
}

// Error lists the problems by line, then key path. It sorts a copy: an
// error's text must not reorder the list its caller may be reading.
func (ps *Problems) Error() string {
	list := slices.Clone(ps.List)
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Path < b.Path
	})
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problem(s):", ps.File, len(list))
	for _, p := range list {
		b.WriteString("\n  ")
		if p.Line > 0 {
			fmt.Fprintf(&b, "%s:%d: ", ps.File, p.Line)
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// reporter collects problems and knows the line of every key path.
type reporter struct {
	lines map[string]int
	list  []Problem
}

func (r *reporter) add(path, fix, format string, args ...any) {
	if path == "" {
		path = "(top level)"
	}
	r.list = append(r.list, Problem{Path: path, Line: r.lineOf(path), Msg: fmt.Sprintf(format, args...), Fix: fix})
}

// lineOf returns the line of path, or of its nearest ancestor that has one,
// so that a missing key points at the mapping it is missing from.
func (r *reporter) lineOf(path string) int {
	for p := path; p != ""; {
		if l, ok := r.lines[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

func join(parent, key string) string {
	if key == "" {
		key = `""` // an empty key still needs a visible path
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}
