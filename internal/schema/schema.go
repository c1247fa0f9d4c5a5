// Package schema generates the JSON Schema (draft 2020-12) of config.yaml
// from the Go types of internal/config, so that editors can check and
// complete the config as it is typed.
//
// Property names come from the yaml tags, descriptions from the fields' doc
// comments (read from the package's embedded source with go/ast), required
// keys from comments that say "Required", and enums from config.Enums. The
// loader is strict, so every object forbids unknown keys. The schema is a
// convenience for editors; config.Load stays the authority (it also checks
// ranges, patterns and cross-field rules). Entry point: Generate.
package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"reflect"
	"regexp"
	"strings"

	"github.com/acme/landing-zone/internal/config"
)

// Schema is one JSON Schema node, limited to the keywords Generate emits.
type Schema struct {
	Schema      string `json:"$schema,omitempty"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	// Type is a string, or a list when null is also allowed.
	Type       any                `json:"type,omitempty"`
	Enum       []any              `json:"enum,omitempty"`
	Properties map[string]*Schema `json:"properties,omitempty"`
	Required   []string           `json:"required,omitempty"`
	// AdditionalProperties is false for structs and the value schema for maps.
	AdditionalProperties any     `json:"additionalProperties,omitempty"`
	Items                *Schema `json:"items,omitempty"`
}

// Generate returns the schema of config.Config as indented JSON with a
// trailing newline: the content of config.schema.json.
func Generate() ([]byte, error) {
	docs, err := readDocs(config.Source)
	if err != nil {
		return nil, err
	}
	g := &generator{docs: docs, enums: config.Enums(), used: map[string]bool{}}
	root := g.object(reflect.TypeOf(config.Config{}))
	root.Schema = "https://json-schema.org/draft/2020-12/schema"
	root.Title = "Landing zone config (config.yaml)"
	for key := range g.enums {
		if !g.used[key] {
			return nil, fmt.Errorf("schema: config.Enums names %s, which is not a field", key)
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // descriptions hold <account> placeholders
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

type generator struct {
	docs  map[string]string // "Type" and "Type.Field" to doc comment text
	enums map[string][]any
	used  map[string]bool
}

var requiredRe = regexp.MustCompile(`\bRequired([.,:]|$)`)

// object describes a struct type: its yaml keys, documented and closed.
func (g *generator) object(t reflect.Type) *Schema {
	s := &Schema{Type: "object", Description: g.docs[t.Name()], Properties: map[string]*Schema{}, AdditionalProperties: false}
	names := yamlNames(t)
	prevDoc := ""
	for i := range t.NumField() {
		f := t.Field(i)
		key := names[f.Name]
		doc, ok := g.docs[t.Name()+"."+f.Name]
		if !ok && strings.Contains(strings.ToLower(prevDoc), strings.ToLower(f.Name)) {
			doc = prevDoc // "MinSize and MaxSize bound ...": one comment, two fields
		}
		prevDoc = doc
		p := g.value(f.Type)
		if doc != "" {
			p.Description = clean(doc, names)
		}
		if e, ok := g.enums[t.Name()+"."+key]; ok {
			p.Enum = e
			g.used[t.Name()+"."+key] = true
		}
		if requiredRe.MatchString(doc) {
			s.Required = append(s.Required, key)
		}
		s.Properties[key] = p
	}
	return s
}

// value describes a field or element type. The loader reads a null value as
// "not set", so pointers, whose absence means "use the defaults", also
// accept null.
func (g *generator) value(t reflect.Type) *Schema {
	nullable := false
	if t.Kind() == reflect.Pointer {
		t, nullable = t.Elem(), true
	}
	var s *Schema
	switch t.Kind() {
	case reflect.Struct:
		s = g.object(t)
	case reflect.Map:
		v := g.value(t.Elem())
		if t.Elem().Kind() == reflect.Pointer && len(v.Required) > 0 {
			v.Type = "object" // an empty entry misses required keys: not allowed
		}
		s = &Schema{Type: "object", AdditionalProperties: v}
	case reflect.Slice:
		s = &Schema{Type: "array", Items: g.value(t.Elem())}
	case reflect.String:
		s = &Schema{Type: "string"}
	case reflect.Int:
		s = &Schema{Type: "integer"}
	case reflect.Bool:
		s = &Schema{Type: "boolean"}
	default:
		panic(fmt.Sprintf("schema: no JSON type for %s", t))
	}
	if nullable {
		s.Type = []string{s.Type.(string), "null"}
	}
	return s
}

// yamlNames maps a struct's Go field names to their yaml keys.
func yamlNames(t reflect.Type) map[string]string {
	out := map[string]string{}
	for i := range t.NumField() {
		f := t.Field(i)
		out[f.Name] = strings.Split(f.Tag.Get("yaml"), ",")[0]
	}
	return out
}

var camelRe = regexp.MustCompile(`\b[A-Z][a-z0-9]+([A-Z][A-Za-z0-9]*)+\b`)

// clean turns a doc comment into one line and writes the struct's
// multi-word Go field names (MinSize) as the yaml keys users type
// (min_size).
func clean(doc string, names map[string]string) string {
	doc = strings.Join(strings.Fields(doc), " ")
	return camelRe.ReplaceAllStringFunc(doc, func(w string) string {
		if key, ok := names[w]; ok {
			return key
		}
		return w
	})
}

// readDocs collects the doc comments of the package's types and of their
// fields from its source.
func readDocs(src fs.FS) (map[string]string, error) {
	docs := map[string]string{}
	fset := token.NewFileSet()
	paths, err := fs.Glob(src, "*.go")
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		b, err := fs.ReadFile(src, p)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, p, b, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				doc := ts.Doc
				if doc == nil && len(gd.Specs) == 1 {
					doc = gd.Doc
				}
				if doc != nil {
					docs[ts.Name.Name] = strings.Join(strings.Fields(doc.Text()), " ")
				}
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				for _, field := range st.Fields.List {
					if field.Doc == nil {
						continue
					}
					for _, n := range field.Names {
						docs[ts.Name.Name+"."+n.Name] = field.Doc.Text()
					}
				}
			}
		}
	}
	return docs, nil
}
