package architecture

import (
	"errors"
	"strings"
)

// The README embeds the Mermaid diagram between these markers.
const (
	BlockStart = "<!-- diagram:start -->"
	BlockEnd   = "<!-- diagram:end -->"
)

// ReplaceBlock returns doc with the text between the markers replaced by
// the Mermaid diagram as a fenced block.
func ReplaceBlock(doc, mermaid string) (string, error) {
	start := strings.Index(doc, BlockStart)
	end := strings.Index(doc, BlockEnd)
	if start < 0 || end < start {
		return "", errors.New("no " + BlockStart + " ... " + BlockEnd + " markers")
	}
	return doc[:start] + BlockStart + "\n```mermaid\n" + mermaid + "```\n" + doc[end:], nil
}
