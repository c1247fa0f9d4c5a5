package cis

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// A CloudWatch Logs JSON filter pattern ("{ ($.eventName = X) || ... }"),
// parsed so that a control can ask what it matches rather than how it is
// spelled: the CIS metric filter controls run sample CloudTrail events
// through it. Supported, as CloudWatch Logs defines them: selectors
// $.a.b (and $.a[0]), the operators = != < <= > >=, string values quoted
// or bare with a leading or trailing * wildcard, numbers, IS NULL,
// NOT EXISTS, IS TRUE / IS FALSE, && and || (&& binds tighter), and
// parentheses.

// pattern is a parsed filter pattern.
type pattern interface {
	match(ev map[string]any) bool
}

type and []pattern
type or []pattern

func (a and) match(ev map[string]any) bool {
	for _, p := range a {
		if !p.match(ev) {
			return false
		}
	}
	return true
}

func (o or) match(ev map[string]any) bool {
	for _, p := range o {
		if p.match(ev) {
			return true
		}
	}
	return false
}

// term is one comparison: $.selector OP value.
type term struct {
	path   []string
	op     string // = != < <= > >= "NOT EXISTS" "IS NULL" "IS TRUE" "IS FALSE"
	value  string
	quoted bool
}

func (t term) match(ev map[string]any) bool {
	v, ok := lookup(ev, t.path)
	switch t.op {
	case "NOT EXISTS":
		return !ok
	case "IS NULL":
		return ok && v == nil
	case "IS TRUE":
		return v == true
	case "IS FALSE":
		return v == false
	}
	if !ok {
		// CloudWatch Logs: a comparison on a missing field does not match,
		// != included.
		return false
	}
	switch x := v.(type) {
	case float64:
		n, err := strconv.ParseFloat(t.value, 64)
		if err != nil {
			return t.op == "!="
		}
		switch t.op {
		case "=":
			return x == n
		case "!=":
			return x != n
		case "<":
			return x < n
		case "<=":
			return x <= n
		case ">":
			return x > n
		case ">=":
			return x >= n
		}
		return false
	case string:
		eq := wildcard(t.value, x)
		switch t.op {
		case "=":
			return eq
		case "!=":
			return !eq
		}
		return false
	case bool:
		eq := strconv.FormatBool(x) == t.value
		switch t.op {
		case "=":
			return eq
		case "!=":
			return !eq
		}
	}
	return false
}

// wildcard matches s against a value with * standing for any run of
// characters (CloudWatch Logs allows it at either end).
func wildcard(pat, s string) bool {
	if !strings.Contains(pat, "*") {
		return pat == s
	}
	parts := strings.Split(pat, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, p := range parts[1:] {
		last := i == len(parts)-2
		if last {
			return strings.HasSuffix(s, p)
		}
		k := strings.Index(s, p)
		if k < 0 {
			return false
		}
		s = s[k+len(p):]
	}
	return true
}

func lookup(ev map[string]any, path []string) (any, bool) {
	var cur any = ev
	for _, p := range path {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[p]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// parsePattern parses a JSON filter pattern.
func parsePattern(s string) (pattern, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return nil, fmt.Errorf("not a JSON filter pattern (must be { ... }): %q", s)
	}
	p := &parser{src: s[1 : len(s)-1]}
	out, err := p.or()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.src) {
		return nil, fmt.Errorf("unexpected %q at %d", p.src[p.i:], p.i)
	}
	return out, nil
}

type parser struct {
	src string
	i   int
}

func (p *parser) space() {
	for p.i < len(p.src) && unicode.IsSpace(rune(p.src[p.i])) {
		p.i++
	}
}

func (p *parser) eat(tok string) bool {
	p.space()
	if strings.HasPrefix(p.src[p.i:], tok) {
		p.i += len(tok)
		return true
	}
	return false
}

func (p *parser) or() (pattern, error) {
	alts, err := p.joined("||", p.and)
	if err != nil {
		return nil, err
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return or(alts), nil
}

func (p *parser) and() (pattern, error) {
	all, err := p.joined("&&", p.primary)
	if err != nil {
		return nil, err
	}
	if len(all) == 1 {
		return all[0], nil
	}
	return and(all), nil
}

// joined parses next, then more of it after each sep.
func (p *parser) joined(sep string, next func() (pattern, error)) ([]pattern, error) {
	var out []pattern
	for {
		a, err := next()
		if err != nil {
			return nil, err
		}
		out = append(out, a)
		if !p.eat(sep) {
			return out, nil
		}
	}
}

func (p *parser) primary() (pattern, error) {
	if p.eat("(") {
		in, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.eat(")") {
			return nil, fmt.Errorf("missing ) at %d", p.i)
		}
		return in, nil
	}
	return p.term()
}

func (p *parser) term() (pattern, error) {
	if !p.eat("$.") {
		return nil, fmt.Errorf("expected $.selector at %d in %q", p.i, p.src)
	}
	start := p.i
	for p.i < len(p.src) && (isWord(p.src[p.i]) || p.src[p.i] == '.' || p.src[p.i] == '[' || p.src[p.i] == ']') {
		p.i++
	}
	sel := strings.NewReplacer("[", ".", "]", "").Replace(p.src[start:p.i])
	t := term{path: strings.Split(sel, ".")}
	for _, kw := range []string{"NOT EXISTS", "IS NULL", "IS TRUE", "IS FALSE"} {
		if p.eat(kw) {
			t.op = kw
			return t, nil
		}
	}
	for _, op := range []string{"!=", "<=", ">=", "=", "<", ">"} {
		if p.eat(op) {
			t.op = op
			break
		}
	}
	if t.op == "" {
		return nil, fmt.Errorf("expected an operator after $.%s at %d", sel, p.i)
	}
	p.space()
	if p.i < len(p.src) && p.src[p.i] == '"' {
		end := strings.IndexByte(p.src[p.i+1:], '"')
		if end < 0 {
			return nil, fmt.Errorf("unterminated string at %d", p.i)
		}
		t.value, t.quoted = p.src[p.i+1:p.i+1+end], true
		p.i += end + 2
		return t, nil
	}
	start = p.i
	for p.i < len(p.src) && (isWord(p.src[p.i]) || strings.ContainsRune("*.-:/@", rune(p.src[p.i]))) {
		p.i++
	}
	if start == p.i {
		return nil, fmt.Errorf("expected a value after $.%s %s at %d", sel, t.op, p.i)
	}
	t.value = p.src[start:p.i]
	return t, nil
}

func isWord(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
