package access

import (
	"regexp"
	"sort"
	"strings"
)

// s3Command is one `aws s3 cp` or `aws s3 rm` of a bucket in a boot script,
// with the encryption headers it sends.
type s3Command struct {
	Line string
	// Verb is "get" (cp from the bucket), "put" (cp into it) or "delete".
	Verb string
	// Key is the object key, with shell variables as written ($user).
	Key string
	// SSE is --sse's value ("" without it); KMSKey is --sse-kms-key-id's,
	// resolved to a key ARN where the script looks the key up by alias, or
	// the expression as written.
	SSE, KMSKey string
}

var (
	assignRe      = regexp.MustCompile(`(?m)^\s*([A-Za-z_][A-Za-z0-9_]*)=([^\s$()"';]+)\s*$`)
	describeKeyRe = regexp.MustCompile(`(?m)^\s*(?:local\s+)?([A-Za-z_][A-Za-z0-9_]*)=["']?\$\((.*kms describe-key[^)]*)\)["']?\s*$`)
	keyIDRe       = regexp.MustCompile(`--key-id[ =]["']?([^ "']+)`)
)

// s3Commands reads a shell script's S3 copies and removals of one bucket.
// keyARN resolves a KMS alias ("alias/x") to its key's ARN.
func s3Commands(script, bucket string, keyARN func(alias string) string) []s3Command {
	script = strings.ReplaceAll(script, "\\\n", " ")
	vars := map[string]string{}
	for _, m := range describeKeyRe.FindAllStringSubmatch(script, -1) {
		if k := keyIDRe.FindStringSubmatch(m[2]); k != nil {
			vars[m[1]] = keyARN(k[1])
		}
	}
	// Plain assignments (BUCKET=name) are expanded in the commands' words.
	var plain []string
	ms := assignRe.FindAllStringSubmatch(script, -1)
	sort.SliceStable(ms, func(i, j int) bool { return len(ms[i][1]) > len(ms[j][1]) }) // $PKI_KEY before $PKI
	for _, m := range ms {
		plain = append(plain, "${"+m[1]+"}", m[2], "$"+m[1], m[2])
	}
	expand := strings.NewReplacer(plain...)
	prefix := "s3://" + bucket + "/"
	var out []s3Command
	for _, line := range expandCalls(script) {
		args := shellWords(line)
		for j, a := range args {
			if !strings.HasPrefix(a, "$(") {
				args[j] = expand.Replace(a)
			}
		}
		i := indexOf(args, "s3")
		if i < 1 || !strings.HasSuffix(args[i-1], "aws") || i+1 >= len(args) {
			continue
		}
		c := s3Command{Line: strings.TrimSpace(line)}
		rest := args[i+2:]
		switch args[i+1] {
		case "cp":
			if len(rest) < 2 {
				continue
			}
			switch {
			case strings.HasPrefix(rest[0], prefix):
				c.Verb, c.Key = "get", strings.TrimPrefix(rest[0], prefix)
			case strings.HasPrefix(rest[1], prefix):
				c.Verb, c.Key = "put", strings.TrimPrefix(rest[1], prefix)
			default:
				continue
			}
		case "rm":
			if len(rest) < 1 || !strings.HasPrefix(rest[0], prefix) {
				continue
			}
			c.Verb, c.Key = "delete", strings.TrimPrefix(rest[0], prefix)
		default:
			continue
		}
		for j := 0; j+1 < len(rest); j++ {
			switch rest[j] {
			case "--sse":
				c.SSE = rest[j+1]
			case "--sse-kms-key-id":
				c.KMSKey = resolveKeyExpr(rest[j+1], vars, keyARN)
			}
		}
		out = append(out, c)
	}
	return out
}

var (
	funcRe       = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_-]*)\s*\(\)\s*\{\s*$`)
	heredocRe    = regexp.MustCompile(`cat\s+>\s*(\S+)\s+<<`)
	positionalRe = regexp.MustCompile(`\$\{?[1-9]\}?`)
)

// expandCalls returns the script's lines, with each line of a shell
// function that uses positional parameters ("$1") replaced by one copy per
// call of that function whose arguments are known: `put FILE KEY`, or
// `SCRIPT put FILE KEY` where SCRIPT is a script the user data writes and
// put is its subcommand. Calls with unknown arguments ("$2") are dropped.
func expandCalls(script string) []string {
	lines := strings.Split(script, "\n")
	scripts := map[string]bool{}
	for _, l := range lines {
		if m := heredocRe.FindStringSubmatch(l); m != nil {
			scripts[m[1][strings.LastIndex(m[1], "/")+1:]] = true
		}
	}
	type fn struct{ start, end int }
	funcs := map[string]fn{}
	for i := 0; i < len(lines); i++ {
		m := funcRe.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		for j := i + 1; j < len(lines); j++ {
			if lines[j] == "}" {
				funcs[m[1]] = fn{i, j}
				break
			}
		}
	}
	var out []string
	inFunc := func(i int) string {
		for name, f := range funcs {
			if i > f.start && i < f.end {
				return name
			}
		}
		return ""
	}
	for i, l := range lines {
		name := inFunc(i)
		if name == "" || !positionalRe.MatchString(l) {
			out = append(out, l)
			continue
		}
		for _, args := range callsOf(lines, name, scripts) {
			expanded := positionalRe.ReplaceAllStringFunc(l, func(p string) string {
				n := int(strings.Trim(p, "${}")[0] - '0')
				if n <= len(args) {
					return args[n-1]
				}
				return p
			})
			if !positionalRe.MatchString(expanded) {
				out = append(out, expanded)
			}
		}
	}
	return out
}

// callsOf lists the argument lists of a function's calls.
func callsOf(lines []string, name string, scripts map[string]bool) [][]string {
	var out [][]string
	for _, l := range lines {
		words := shellWords(l)
		for i, w := range words {
			if w != name {
				continue
			}
			prev := ""
			if i > 0 {
				prev = words[i-1]
			}
			base := prev[strings.LastIndex(prev, "/")+1:]
			if i > 0 && !scripts[base] && prev != "||" && prev != "&&" && prev != ";" && prev != "then" && prev != "do" {
				continue
			}
			var args []string
			for _, a := range words[i+1:] {
				if a == ";" || a == "|" || a == "&" || a == "||" || a == "&&" || a == ";;" {
					break
				}
				args = append(args, a)
			}
			if len(args) > 0 {
				out = append(out, args)
			}
		}
	}
	return out
}

// resolveKeyExpr turns --sse-kms-key-id's argument into a key ARN: a
// variable set from `aws kms describe-key`, such a command inline, an
// alias, or an ARN.
func resolveKeyExpr(v string, vars map[string]string, keyARN func(string) string) string {
	switch {
	case strings.HasPrefix(v, "$("):
		if k := keyIDRe.FindStringSubmatch(v); k != nil {
			return keyARN(k[1])
		}
	case strings.HasPrefix(v, "$"):
		name := strings.Trim(strings.TrimPrefix(v, "$"), "{}")
		if arn, ok := vars[name]; ok {
			return arn
		}
	case strings.HasPrefix(v, "alias/"):
		return keyARN(v)
	}
	return v
}

// shellWords splits a command line into words, honouring quotes and
// keeping $(...) as one word. Good enough for the boot scripts' aws calls.
func shellWords(line string) []string {
	var out []string
	var cur strings.Builder
	quote, depth, in := byte(0), 0, false
	flush := func() {
		if in {
			out = append(out, cur.String())
		}
		cur.Reset()
		in = false
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0 && c == quote && depth == 0:
			quote = 0
		case quote == 0 && depth == 0 && (c == '"' || c == '\''):
			quote, in = c, true
		case c == '$' && i+1 < len(line) && line[i+1] == '(' && quote != '\'':
			depth++
			cur.WriteString("$(")
			in = true
			i++
		case c == ')' && depth > 0:
			depth--
			cur.WriteByte(c)
		case quote == 0 && depth == 0 && (c == ' ' || c == '\t'):
			flush()
		case quote == 0 && depth == 0 && (c == ';' || c == '|' || c == '&'):
			flush()
			if i+1 < len(line) && line[i+1] == c { // ||, &&, ;;
				out = append(out, string(c)+string(c))
				i++
				continue
			}
			out = append(out, string(c))
		case quote == 0 && depth == 0 && c == '#' && !in:
			flush()
			return out
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	flush()
	return out
}

func indexOf(ss []string, s string) int {
	for i, x := range ss {
		if x == s {
			return i
		}
	}
	return -1
}
