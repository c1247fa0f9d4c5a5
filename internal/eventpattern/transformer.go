package eventpattern

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Render evaluates an input transformer against an event: each of paths
// (InputPathsMap: name to a JSONPath such as $.detail.findings[0].Title) is
// read from the event and replaces <name> in template (InputTemplate). A
// string value goes in as its text, anything else as its JSON. A template
// that is a quoted JSON string (the form for plain-text targets such as
// SNS) comes back as that string's text. A path the event lacks is an
// error, so a misspelt path fails a test rather than sending a blank.
func Render(paths map[string]string, template string, event []byte) (string, error) {
	ev, err := decode(event)
	if err != nil {
		return "", fmt.Errorf("event: %w", err)
	}
	values := map[string]string{}
	for name, path := range paths {
		v, err := lookup(ev, path)
		if err != nil {
			return "", fmt.Errorf("%s (%s): %w", name, path, err)
		}
		if s, ok := v.(string); ok {
			// Inside a quoted template the text must stay valid JSON.
			b, _ := json.Marshal(s)
			values[name] = string(b[1 : len(b)-1])
		} else {
			b, _ := json.Marshal(v)
			values[name] = string(b)
		}
	}
	out := placeholder.ReplaceAllStringFunc(template, func(m string) string {
		if v, ok := values[m[1:len(m)-1]]; ok {
			return v
		}
		return m
	})
	if strings.HasPrefix(out, `"`) {
		var s string
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			return "", fmt.Errorf("rendered template is not a JSON string: %w", err)
		}
		return s, nil
	}
	return out, nil
}

var placeholder = regexp.MustCompile(`<[A-Za-z0-9_-]+>`)

// lookup follows a JSONPath of the simple form InputPathsMap uses:
// $.a.b[0].c.
func lookup(v any, path string) (any, error) {
	if !strings.HasPrefix(path, "$") {
		return nil, fmt.Errorf("path must start with $")
	}
	rest := path[1:]
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			key := rest[:end]
			rest = rest[end:]
			obj, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%q: not an object", key)
			}
			if v, ok = obj[key]; !ok {
				return nil, fmt.Errorf("no field %q", key)
			}
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed [")
			}
			i, err := strconv.Atoi(rest[1:end])
			if err != nil {
				return nil, fmt.Errorf("index %q: %w", rest[1:end], err)
			}
			rest = rest[end+1:]
			arr, ok := v.([]any)
			if !ok || i < 0 || i >= len(arr) {
				return nil, fmt.Errorf("no element %d", i)
			}
			v = arr[i]
		default:
			return nil, fmt.Errorf("unexpected %q", rest)
		}
	}
	return v, nil
}
