package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// yamlLineRe splits the YAML parser's "yaml: line N: what" errors.
var yamlLineRe = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)

// syntaxProblem turns a YAML parse error into a problem on its line, so that
// the line is printed after the file name like every other problem.
func syntaxProblem(data []byte, err error) Problem {
	p := Problem{Path: "(file)", Msg: strings.TrimPrefix(err.Error(), "yaml: "), Fix: "fix the YAML syntax"}
	m := yamlLineRe.FindStringSubmatch(err.Error())
	if m == nil {
		return p
	}
	p.Line, _ = strconv.Atoi(m[1])
	p.Msg, p.Fix = m[2], "fix the YAML syntax at that line"
	if line, key := tabIndented(data, p.Line, strings.Contains(p.Msg, "tab character")); line > 0 {
		p.Line = line
		p.Msg = fmt.Sprintf("%s is indented with a tab", key)
		p.Fix = "indent with spaces: YAML does not allow tabs in indentation"
	}
	return p
}

// tabIndented finds a line indented with a tab at the reported line or the
// next (the parser reports the line before the one a tab indents), and
// names what the line holds. When the parser said the error is a tab
// (anywhere), it looks through the whole file. It returns 0 when no line is
// indented so.
func tabIndented(data []byte, near int, anywhere bool) (int, string) {
	lines := strings.Split(string(data), "\n")
	for n := max(near, 1); n <= len(lines); n++ {
		if !anywhere && n > near+1 {
			break
		}
		text := lines[n-1]
		if indent := text[:len(text)-len(strings.TrimLeft(text, " \t"))]; strings.Contains(indent, "\t") {
			return n, describeLine(strings.TrimSpace(text))
		}
	}
	return 0, ""
}

// describeLine names a line by its key, or quotes it when it has none.
func describeLine(text string) string {
	if key, _, ok := strings.Cut(text, ":"); ok && key != "" && !strings.ContainsAny(key, " \"'{[#") {
		return fmt.Sprintf("key %q", key)
	}
	return fmt.Sprintf("the line %q", clip(text))
}
