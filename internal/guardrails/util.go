package guardrails

import (
	"maps"
	"slices"
	"strconv"
)

func (c *checker) each(typ string, fn func(id string, r map[string]any)) {
	rs := c.doc.Resource[typ]
	for _, id := range slices.Sorted(maps.Keys(rs)) {
		fn(id, rs[id])
	}
}

func open(v4, v6 any) bool {
	for _, l := range []any{v4, v6} {
		cidrs, _ := l.([]any)
		for _, c := range cidrs {
			if c == "0.0.0.0/0" || c == "::/0" {
				return true
			}
		}
	}
	return false
}

func portRange(from, to float64) string {
	if from == to {
		return strconv.Itoa(int(from))
	}
	return strconv.Itoa(int(from)) + "-" + strconv.Itoa(int(to))
}

func suffix(alias string, i int) string {
	if alias != "" {
		return "." + alias
	}
	if i > 0 {
		return "[" + strconv.Itoa(i) + "]"
	}
	return ""
}
