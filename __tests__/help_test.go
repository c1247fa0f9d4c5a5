package tests

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/acme/landing-zone/app/cli"
	"github.com/acme/landing-zone/help"
)

// requiredTopics are the operator docs a fork's engineers need from day one.
var requiredTopics = []string{
	"overview", "authenticate", "vpn", "deploy-app", "add-account",
	"secrets", "monitoring", "state-bootstrap", "upgrading",
}

func TestHelpHasEveryRequiredTopic(t *testing.T) {
	var names []string
	for _, topic := range help.Topics() {
		names = append(names, topic.Name)
	}
	for _, want := range requiredTopics {
		if !slices.Contains(names, want) {
			t.Errorf("no help topic %q (help/%s.md); topics: %v", want, want, names)
		}
	}
}

func TestHelpEveryTopicRendersWithAHeading(t *testing.T) {
	var list bytes.Buffer
	if code := cli.Run([]string{"help"}, &list, &list); code != 0 {
		t.Fatalf("help exited %d:\n%s", code, list.String())
	}
	for _, topic := range help.Topics() {
		var out, errs bytes.Buffer
		if code := cli.Run([]string{"help", topic.Name}, &out, &errs); code != 0 {
			t.Errorf("help %s exited %d: %s", topic.Name, code, errs.String())
			continue
		}
		text := out.String()
		if !strings.HasPrefix(text, "# ") || topic.Title == "" || len(strings.TrimSpace(text)) < 200 {
			t.Errorf("help %s must start with a \"# \" heading and say something; got %.80q", topic.Name, text)
		}
		if !strings.Contains(list.String(), topic.Name) || !strings.Contains(list.String(), topic.Title) {
			t.Errorf("help does not list %s (%s):\n%s", topic.Name, topic.Title, list.String())
		}
	}
}

var (
	mdLinkRe  = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdFileRe  = regexp.MustCompile("`((?:help/)?[a-z0-9-]+\\.md)`")
	codeRe    = regexp.MustCompile("`([^`\n]+)`")
	keyPathRe = regexp.MustCompile(`^([a-z_]+(?:\.[A-Za-z0-9_<>*-]+)+)(?:: .*)?$`)
)

// docFiles are the Markdown files operators read: the help topics and the
// README, relative to this folder.
func docFiles(t *testing.T) []string {
	files, err := filepath.Glob("../help/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no help files: %v", err)
	}
	return append(files, "../README.md")
}

func TestHelpLinksBetweenDocsResolve(t *testing.T) {
	for _, file := range docFiles(t) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Dir(file)
		for _, m := range mdLinkRe.FindAllStringSubmatch(string(b), -1) {
			target := strings.SplitN(m[1], "#", 2)[0]
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(dir, target)); err != nil {
				t.Errorf("%s links to %s, which does not exist", file, m[1])
			}
		}
		// Docs also name each other in backticks: `vpn.md` within help/,
		// `help/vpn.md` from the README.
		for _, m := range mdFileRe.FindAllStringSubmatch(string(b), -1) {
			target := filepath.Join("../help", filepath.Base(m[1]))
			if strings.HasPrefix(m[1], "help/") || filepath.Base(file) != "README.md" {
				if _, err := os.Stat(target); err != nil {
					t.Errorf("%s names %s, which is not a help topic", file, m[1])
				}
			}
		}
	}
}

// TestHelpConfigKeysNamedInTheDocsExist checks every backticked key path in
// the docs (`accounts.<name>.vpc.cidr`, `baseline.users`) against the config
// schema, so that a renamed or removed key cannot linger in the docs.
// Placeholders (<name>, <svc>) and * stand for map keys.
func TestHelpConfigKeysNamedInTheDocsExist(t *testing.T) {
	s := loadSchema(t)
	top := s["properties"].(map[string]any)
	checked := 0
	for _, file := range docFiles(t) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range codeRe.FindAllStringSubmatch(string(b), -1) {
			k := keyPathRe.FindStringSubmatch(m[1])
			if k == nil {
				continue
			}
			segs := strings.Split(k[1], ".")
			if top[segs[0]] == nil {
				continue // a file or host name such as cdk.tf.json
			}
			checked++
			if err := schemaPath(s, segs); err != "" {
				t.Errorf("%s names `%s`: %s", file, k[1], err)
			}
		}
	}
	if checked < 20 {
		t.Errorf("checked only %d key paths; is the pattern still matching the docs?", checked)
	}
}

// schemaPath walks key segments through the schema and says where it fails.
func schemaPath(s map[string]any, segs []string) string {
	node := s
	for i, seg := range segs {
		props, _ := node["properties"].(map[string]any)
		switch next := props[seg]; {
		case next != nil:
			node = next.(map[string]any)
		case seg == "*" && props != nil:
			return "" // any key of an object with known keys
		default:
			values, ok := node["additionalProperties"].(map[string]any)
			if !ok {
				return "no key " + strings.Join(segs[:i+1], ".")
			}
			node = values // a map: any name, or a placeholder, is a key
		}
	}
	return ""
}

func loadSchema(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../config.schema.json")
	if err != nil {
		t.Fatalf("%v; run make schema", err)
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestHelpCommandLineRouting runs the real binary: subcommands route only on
// a known first argument, and validate works without jsii (its Node is set
// to a path that does not exist).
func TestHelpCommandLineRouting(t *testing.T) {
	bin := buildApp(t)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte(edit(t, exampleYAML(t), `"666666666666"`, `"6666"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help lists the topics", []string{"help"}, 0, "add-account"},
		{"help prints one topic", []string{"help", "vpn"}, 0, "# Connect to the VPN"},
		{"help finds a topic whatever its case", []string{"help", "VPN"}, 0, "# Connect to the VPN"},
		{"help finds a topic by its file name", []string{"help", "State-Bootstrap.md"}, 0, "# State bootstrap and recovery"},
		{"an unknown topic exits 2 listing the topics", []string{"help", "nope"}, 2, "state-bootstrap"},
		{"an unknown command exits 2 with usage", []string{"synthesize"}, 2, "usage: landing-zone"},
		{"validate says OK for the example", []string{"validate", exampleConfig}, 0, exampleConfig + ": OK"},
		{"validate lists the problems of a bad config", []string{"validate", bad}, 1, "accounts.prod.id:"},
		{"schema prints the JSON Schema", []string{"schema"}, 0, `"$schema": "https://json-schema.org/draft/2020-12/schema"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(bin, c.args...)
			cmd.Env = append(os.Environ(), "JSII_NODE=/nonexistent/node")
			out, _ := cmd.CombinedOutput()
			if got := cmd.ProcessState.ExitCode(); got != c.code || !strings.Contains(string(out), c.want) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s", got, c.code, c.want, out)
			}
		})
	}
}
