// Package eventpattern evaluates Amazon EventBridge event patterns and
// input transformers offline, so that tests can show which events a
// synthesized rule matches and what message its target receives.
//
// Semantics follow the EventBridge User Guide ("Creating event patterns",
// "Content filtering", "Comparison operators"): every field of the pattern
// must match (AND); a field's array of values matches if any one does (OR);
// nested objects match nested objects; an event array matches if any of its
// elements does (for objects: one element must match the whole sub-pattern).
// Value matchers: exact strings, numbers (compared as numbers), booleans and
// null; prefix, suffix, equals-ignore-case, wildcard, anything-but (a value,
// a list, or a prefix/suffix/equals-ignore-case/wildcard), numeric ranges,
// exists and cidr (IPv4); "$or" takes a list of sub-patterns of which one
// must match. A missing field matches only {"exists": false}.
//
// Entry points: Match, Render.
package eventpattern

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strings"
)

// Match reports whether the event matches the pattern (both JSON). A
// malformed pattern is an error, as EventBridge rejects it.
func Match(pattern, event []byte) (bool, error) {
	p, err := decode(pattern)
	if err != nil {
		return false, fmt.Errorf("pattern: %w", err)
	}
	e, err := decode(event)
	if err != nil {
		return false, fmt.Errorf("event: %w", err)
	}
	po, ok := p.(map[string]any)
	if !ok {
		return false, fmt.Errorf("pattern: must be a JSON object")
	}
	return matchObject(po, e)
}

func decode(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// matchObject matches an object pattern against an event value: an object,
// or an array of which one element must match.
func matchObject(p map[string]any, v any) (bool, error) {
	if arr, ok := v.([]any); ok {
		for _, el := range arr {
			ok, err := matchObject(p, el)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	obj, _ := v.(map[string]any)
	for key, sub := range p {
		if key == "$or" {
			alts, ok := sub.([]any)
			if !ok || len(alts) < 2 {
				return false, fmt.Errorf("$or takes a list of at least two patterns")
			}
			found := false
			for _, alt := range alts {
				ao, ok := alt.(map[string]any)
				if !ok {
					return false, fmt.Errorf("$or: each alternative must be an object")
				}
				m, err := matchObject(ao, obj)
				if err != nil {
					return false, err
				}
				found = found || m
			}
			if !found {
				return false, nil
			}
			continue
		}
		val, present := obj[key]
		var ok bool
		var err error
		switch s := sub.(type) {
		case map[string]any:
			ok, err = present && val != nil, nil
			if ok {
				ok, err = matchObject(s, val)
			}
		case []any:
			ok, err = matchField(s, val, present)
		default:
			return false, fmt.Errorf("field %q: a pattern value must be an array or an object", key)
		}
		if err != nil {
			return false, fmt.Errorf("%s: %w", key, err)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// matchField matches a leaf's list of matchers: any matcher against the
// value, or against any element when the value is an array.
func matchField(matchers []any, val any, present bool) (bool, error) {
	if len(matchers) == 0 {
		return false, fmt.Errorf("empty array of values")
	}
	values := []any{val}
	if arr, ok := val.([]any); ok {
		values = arr
	}
	for _, m := range matchers {
		if obj, ok := m.(map[string]any); ok {
			if e, ok := obj["exists"]; ok && len(obj) == 1 {
				want, ok := e.(bool)
				if !ok {
					return false, fmt.Errorf("exists takes true or false")
				}
				// A field exists when it has a leaf value (an empty array
				// has none).
				has := present
				if arr, ok := val.([]any); ok && len(arr) == 0 {
					has = false
				}
				if has == want {
					return true, nil
				}
				continue
			}
		}
		// Check the matcher even when the field is missing: EventBridge
		// rejects a malformed pattern whatever the event.
		if _, err := matchValue(m, absent{}); err != nil {
			return false, err
		}
		if !present {
			continue
		}
		for _, v := range values {
			ok, err := matchValue(m, v)
			if err != nil || ok {
				return ok, err
			}
		}
	}
	return false, nil
}

// absent stands for no value, to check a matcher's syntax.
type absent struct{}

// matchValue matches one matcher against one leaf value.
func matchValue(m, v any) (bool, error) {
	switch mm := m.(type) {
	case nil:
		return v == nil, nil
	case string:
		s, ok := v.(string)
		return ok && s == mm, nil
	case bool:
		b, ok := v.(bool)
		return ok && b == mm, nil
	case json.Number:
		return numEqual(mm, v), nil
	case map[string]any:
		if len(mm) != 1 {
			return false, fmt.Errorf("a matcher object has exactly one key, got %d", len(mm))
		}
		for op, arg := range mm {
			return matchOp(op, arg, v)
		}
	}
	return false, fmt.Errorf("unsupported matcher %v", m)
}

func matchOp(op string, arg, v any) (bool, error) {
	s, isStr := v.(string)
	switch op {
	case "prefix", "suffix":
		if obj, ok := arg.(map[string]any); ok {
			ic, ok := obj["equals-ignore-case"].(string)
			if !ok || len(obj) != 1 {
				return false, fmt.Errorf("%s takes a string or {\"equals-ignore-case\": string}", op)
			}
			s, ic = strings.ToLower(s), strings.ToLower(ic)
			arg = ic
		}
		a, ok := arg.(string)
		if !ok {
			return false, fmt.Errorf("%s takes a string", op)
		}
		if op == "prefix" {
			return isStr && strings.HasPrefix(s, a), nil
		}
		return isStr && strings.HasSuffix(s, a), nil
	case "equals-ignore-case":
		a, ok := arg.(string)
		if !ok {
			return false, fmt.Errorf("equals-ignore-case takes a string")
		}
		return isStr && strings.EqualFold(s, a), nil
	case "wildcard":
		a, ok := arg.(string)
		if !ok {
			return false, fmt.Errorf("wildcard takes a string")
		}
		return isStr && wildcard(a).MatchString(s), nil
	case "anything-but":
		if v == nil {
			return false, nil
		}
		switch a := arg.(type) {
		case []any:
			for _, x := range a {
				ok, err := matchValue(x, v)
				if err != nil || ok {
					return false, err
				}
			}
			return true, nil
		case map[string]any:
			ok, err := matchValue(a, v)
			return !ok && err == nil, err
		default:
			ok, err := matchValue(a, v)
			return !ok && err == nil, err
		}
	case "numeric":
		return numeric(arg, v)
	case "cidr":
		a, ok := arg.(string)
		if !ok {
			return false, fmt.Errorf("cidr takes a string")
		}
		pfx, err := netip.ParsePrefix(a)
		if err != nil {
			return false, fmt.Errorf("cidr: %w", err)
		}
		addr, err := netip.ParseAddr(s)
		return isStr && err == nil && pfx.Contains(addr), nil
	case "exists":
		return false, fmt.Errorf("exists is a matcher of its own")
	}
	return false, fmt.Errorf("unknown matcher %q", op)
}

func wildcard(p string) *regexp.Regexp {
	parts := strings.Split(p, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

func toFloat(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

func numEqual(m json.Number, v any) bool {
	a, ok1 := toFloat(m)
	b, ok2 := toFloat(v)
	return ok1 && ok2 && math.Abs(a-b) < 1e-9
}

// numeric evaluates ["op", n, "op", n]: one or two comparisons, all of
// which must hold.
func numeric(arg, v any) (bool, error) {
	ops, ok := arg.([]any)
	if !ok || len(ops) == 0 || len(ops)%2 != 0 || len(ops) > 4 {
		return false, fmt.Errorf("numeric takes [op, number] or [op, number, op, number]")
	}
	x, isNum := toFloat(v)
	result := isNum
	for i := 0; i < len(ops); i += 2 {
		op, ok := ops[i].(string)
		n, ok2 := toFloat(ops[i+1])
		if !ok || !ok2 {
			return false, fmt.Errorf("numeric: %v %v is not an operator and a number", ops[i], ops[i+1])
		}
		var holds bool
		switch op {
		case "<":
			holds = x < n
		case "<=":
			holds = x <= n
		case "=":
			holds = x == n
		case ">":
			holds = x > n
		case ">=":
			holds = x >= n
		default:
			return false, fmt.Errorf("numeric: unknown operator %q", op)
		}
		result = result && holds
	}
	return result, nil
}
