// Package help embeds the operator docs (the Markdown files in this folder)
// in the binary, so that `landing-zone help TOPIC` works from any checkout
// or copy of the binary. It owns only the lookup; the docs themselves are
// plain Markdown for GitHub and editors. Entry points: Topics, Get.
package help

import (
	"embed"
	"sort"
	"strings"
)

//go:embed *.md
var files embed.FS

// Topic is one help file: its name (the file name without .md) and title
// (its first "# " heading).
type Topic struct {
	Name, Title string
}

// Topics returns every topic, sorted by name.
func Topics() []Topic {
	entries, _ := files.ReadDir(".")
	var out []Topic
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".md")
		text, _ := Get(name)
		out = append(out, Topic{Name: name, Title: title(text)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Get returns the Markdown of one topic.
func Get(name string) (string, bool) {
	if name == "" || strings.ContainsAny(name, "/\\") {
		return "", false
	}
	b, err := files.ReadFile(strings.TrimSuffix(name, ".md") + ".md")
	if err != nil {
		return "", false
	}
	return string(b), true
}

// title is the text of the first "# " heading, or "" if there is none.
func title(md string) string {
	for _, line := range strings.Split(md, "\n") {
		if t, ok := strings.CutPrefix(line, "# "); ok {
			return strings.TrimSpace(t)
		}
	}
	return ""
}
