package architecture

import (
	"fmt"
	"strings"
)

// Mermaid renders the graph as a Mermaid flowchart (GitHub renders it in
// Markdown).
func (g *Graph) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	for _, n := range g.Nodes {
		mermaidNode(&b, n, "  ")
	}
	for _, grp := range g.Groups {
		mermaidGroup(&b, grp, "  ")
	}
	for _, e := range g.Edges {
		arrow := "-->"
		switch {
		case e.Both:
			arrow = "<-->"
		case e.Dashed:
			arrow = "-.->"
		}
		fmt.Fprintf(&b, "  %s %s|%s| %s\n", e.From, arrow, mermaidText(e.Label), e.To)
	}
	return b.String()
}

func mermaidGroup(b *strings.Builder, g *Group, indent string) {
	fmt.Fprintf(b, "%ssubgraph %s[\"%s\"]\n", indent, g.ID, mermaidText(g.Label))
	for _, n := range g.Nodes {
		mermaidNode(b, n, indent+"  ")
	}
	for _, sub := range g.Groups {
		mermaidGroup(b, sub, indent+"  ")
	}
	fmt.Fprintf(b, "%send\n", indent)
}

func mermaidNode(b *strings.Builder, n *Node, indent string) {
	open, close := "[", "]"
	switch n.Shape {
	case Store:
		open, close = "[(", ")]"
	case Cloud:
		open, close = "((", "))"
	}
	fmt.Fprintf(b, "%s%s%s\"%s\"%s\n", indent, n.ID, open, mermaidText(n.Label), close)
}

// mermaidText escapes a label: quotes become entities, new lines <br/>.
func mermaidText(s string) string {
	s = strings.ReplaceAll(s, `"`, "#quot;")
	return strings.ReplaceAll(s, "\n", "<br/>")
}

// DOT renders the graph for Graphviz (`dot -Tsvg`). Edges that end on a box
// are drawn to the box's edge (compound=true, lhead/ltail) from a node
// inside it.
func (g *Graph) DOT() string {
	var b strings.Builder
	b.WriteString("digraph landing_zone {\n")
	b.WriteString("  graph [rankdir=LR, compound=true, fontname=\"Helvetica\", fontsize=11, labeljust=l, nodesep=0.3];\n")
	b.WriteString("  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\", fontsize=10];\n")
	b.WriteString("  edge [fontname=\"Helvetica\", fontsize=9];\n")
	for _, n := range g.Nodes {
		dotNode(&b, n, "  ")
	}
	anchors := map[string]string{} // group ID to a node inside it
	for _, grp := range g.Groups {
		dotGroup(&b, grp, "  ", 0, anchors)
	}
	for _, e := range g.Edges {
		var attrs []string
		from, to := e.From, e.To
		if a, ok := anchors[from]; ok {
			from = a
			attrs = append(attrs, "ltail=cluster_"+e.From)
		}
		if a, ok := anchors[to]; ok {
			to = a
			attrs = append(attrs, "lhead=cluster_"+e.To)
		}
		attrs = append(attrs, "label="+dotText(e.Label))
		if e.Dashed {
			attrs = append(attrs, "style=dashed")
		}
		if e.Both {
			attrs = append(attrs, "dir=both")
		}
		fmt.Fprintf(&b, "  %s -> %s [%s];\n", from, to, strings.Join(attrs, ", "))
	}
	b.WriteString("}\n")
	return b.String()
}

var dotFills = []string{"#f4f6fa", "#e8f0fb", "#ffffff"}

func dotGroup(b *strings.Builder, g *Group, indent string, depth int, anchors map[string]string) {
	fmt.Fprintf(b, "%ssubgraph cluster_%s {\n", indent, g.ID)
	fmt.Fprintf(b, "%s  label=%s; style=\"rounded,filled\"; fillcolor=%q; color=\"#8899aa\";\n", indent, dotText(g.Label), dotFills[min(depth, len(dotFills)-1)])
	for _, n := range g.Nodes {
		dotNode(b, n, indent+"  ")
	}
	for _, sub := range g.Groups {
		dotGroup(b, sub, indent+"  ", depth+1, anchors)
	}
	if len(g.Nodes) == 0 && len(g.Groups) == 0 {
		// Graphviz drops empty clusters; a point keeps the box (an empty tier).
		fmt.Fprintf(b, "%s  %s_empty [shape=point, style=invis];\n", indent, g.ID)
	}
	fmt.Fprintf(b, "%s}\n", indent)
	anchors[g.ID] = firstNode(g)
}

func firstNode(g *Group) string {
	if len(g.Nodes) > 0 {
		return g.Nodes[0].ID
	}
	if len(g.Groups) > 0 {
		return firstNode(g.Groups[0])
	}
	return g.ID + "_empty"
}

func dotNode(b *strings.Builder, n *Node, indent string) {
	shape := ""
	switch n.Shape {
	case Store:
		shape = ", shape=cylinder, style=filled"
	case Cloud:
		shape = ", shape=ellipse, style=filled"
	}
	fmt.Fprintf(b, "%s%s [label=%s%s];\n", indent, n.ID, dotText(n.Label), shape)
}

// dotText quotes a label; \n is Graphviz's centred line break.
func dotText(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	return `"` + strings.ReplaceAll(s, "\n", `\n`) + `"`
}
