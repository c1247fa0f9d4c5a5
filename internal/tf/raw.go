package tf

import (
	"crypto/md5"
	"encoding/hex"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// Raw resources are written into their stack's Terraform JSON by Go
// instead of as jsii constructs. A construct costs about 1 ms of synth (jsii
// round trips, then CDKTF's own synth), which is the whole budget for the
// many small resources made once per account and watched region
// (regionalbaseline); a stack's raw resources cost one jsii callback. A raw
// resource gets the address and the "//" metadata CDKTF gives a construct
// at the same path, so moving a resource between the two changes nothing
// in the JSON. CDKTF does not see raw resources: a construct of the same
// type at the same path would not be reported as a duplicate.
//
// Values may hold tokens (a construct's Arn(), ...): the stack resolves
// them with the rest of its JSON at synth.

// Resource is a raw resource's address.
type Resource struct{ Type, ID string }

// FQN is the resource's address, as depends_on lists it.
func (r Resource) FQN() string { return r.Type + "." + r.ID }

// Ref is a reference to the resource's attribute attr.
func (r Resource) Ref(attr string) *string { return S("${" + r.FQN() + "." + attr + "}") }

// RawScope is a place in the construct tree where raw resources are
// written, as if they were constructs under it.
type RawScope struct {
	w        *rawWriter
	path     []string // construct IDs from the stack down, the stack excluded
	provider string   // "": the stack's default provider
}

// rawWriter is a stack's raw resources and outputs: a TerraformElement
// of the stack whose ToTerraform, written in Go, CDKTF calls at synth
// like every element's, so they are written however the stack is
// synthesized.
type rawWriter struct {
	cdktf.TerraformElement
	name      string
	resources map[string]map[string]any // type, then ID, then the body
	outputs   map[string]any            // name, then the body
}

// ToTerraform is the raw resources and outputs as the stack's JSON holds
// them, the outputs' names mapped in "//" as CDKTF maps a TerraformOutput's.
func (w *rawWriter) ToTerraform() any {
	out := map[string]any{}
	if len(w.resources) > 0 {
		out["resource"] = w.resources
	}
	if len(w.outputs) > 0 {
		names := map[string]any{}
		for name := range w.outputs {
			names[name] = name
		}
		out["output"] = w.outputs
		out["//"] = map[string]any{"outputs": map[string]any{w.name: names}}
	}
	return out
}

// rawElementID is the element's construct ID in every stack.
const rawElementID = "landing-zone-raw"

// writers are the stacks' raw writers, by stack.
var writers = map[cdktf.TerraformStack]*rawWriter{}

// scopes caches RawScopeOf: a construct's path never changes, and reading
// it is a jsii round trip.
var scopes = map[constructs.Construct]*RawScope{}

// providers caches the providers' names ("aws.<alias>") likewise.
var providers = map[cdktf.TerraformProvider]string{}

// addresses caches DependsOn's answers likewise.
var addresses = map[cdktf.ITerraformDependable]string{}

// RawScopeOf returns the raw scope at scope's place in the tree.
func RawScopeOf(scope constructs.Construct) *RawScope {
	if s := scopes[scope]; s != nil {
		return s
	}
	stack := cdktf.TerraformStack_Of(scope)
	w := writers[stack]
	if w == nil {
		w = &rawWriter{name: *stack.Node().Id(), resources: map[string]map[string]any{}, outputs: map[string]any{}}
		// A second writer for the same stack would fail here, on the ID.
		cdktf.NewTerraformElement_Override(w, stack, S(rawElementID), nil)
		writers[stack] = w
	}
	parts := strings.Split(*scope.Node().Path(), "/")
	scopes[scope] = &RawScope{w: w, path: parts[1:]}
	return scopes[scope]
}

// Child is the raw scope of a construct named id under s, which need not
// exist: raw resources under it get the addresses they would have under a
// construct of that name.
func (s *RawScope) Child(id string) *RawScope {
	return &RawScope{w: s.w, path: append(slices.Clip(s.path), id), provider: s.provider}
}

// Using is s with its resources made through provider p: a region's
// provider. A nil p is the stack's default provider.
func (s *RawScope) Using(p cdktf.TerraformProvider) *RawScope {
	c := *s
	c.provider = ""
	if p != nil {
		if providers[p] == "" {
			providers[p] = *p.Fqn()
		}
		c.provider = providers[p]
	}
	return &c
}

// Add writes a resource of type typ named id under s. body is its
// arguments (meta-arguments included: depends_on, lifecycle; the
// provider is s's); a "//" entry in it is merged with the metadata CDKTF
// writes.
func (s *RawScope) Add(typ, id string, body map[string]any) Resource {
	path := append(slices.Clip(s.path), id)
	r := Resource{Type: typ, ID: LogicalID(path)}
	out := maps.Clone(body)
	if s.provider != "" {
		out["provider"] = s.provider
	}
	meta := map[string]any{"metadata": map[string]any{
		"path":     s.w.name + "/" + strings.Join(path, "/"),
		"uniqueId": r.ID,
	}}
	if extra, ok := body["//"].(map[string]any); ok {
		maps.Copy(meta, extra)
	}
	out["//"] = meta
	byType := s.w.resources[typ]
	if byType == nil {
		byType = map[string]any{}
		s.w.resources[typ] = byType
	}
	if _, dup := byType[r.ID]; dup {
		panic("tf: two raw resources at " + meta["metadata"].(map[string]any)["path"].(string))
	}
	byType[r.ID] = out
	return r
}

// NameTag is a raw resource's tags holding only a Name tag (Name's
// counterpart): the provider's default_tags supply every other one.
func NameTag(name string) map[string]any { return map[string]any{"Name": name} }

// useProvider makes the raw resources under path use provider.
func (w *rawWriter) useProvider(path []string, provider string) {
	prefix := strings.Join(append([]string{w.name}, path...), "/") + "/"
	for _, byID := range w.resources {
		for _, r := range byID {
			body := r.(map[string]any)
			if strings.HasPrefix(body["//"].(map[string]any)["metadata"].(map[string]any)["path"].(string), prefix) {
				body["provider"] = provider
			}
		}
	}
}

// Output adds an output to s's stack, as a TerraformOutput named name at
// the stack's top level would: value may hold tokens, and the "//" block
// maps the name for the CLI's outputs file.
func (s *RawScope) Output(name, description string, value any) {
	if len(s.path) > 0 {
		panic("tf: an output belongs to its stack, not to " + strings.Join(s.path, "/"))
	}
	if _, dup := s.w.outputs[name]; dup {
		panic("tf: two outputs named " + name + " in " + s.w.name)
	}
	s.w.outputs[name] = map[string]any{"description": description, "value": value}
}

// DependsOn lists the addresses of resources rs, as a raw resource's
// depends_on. (A resource's Fqn() is a token, which resolves to an
// interpolation, not to the bare address depends_on takes.)
func DependsOn(rs ...cdktf.ITerraformDependable) []string {
	out := make([]string, 0, len(rs))
	for _, d := range rs {
		if addresses[d] == "" {
			r, ok := d.(cdktf.TerraformResource)
			if !ok {
				panic("tf.DependsOn: a raw resource can wait for resources only")
			}
			addresses[d] = *r.TerraformResourceType() + "." + *r.FriendlyUniqueId()
		}
		out = append(out, addresses[d])
	}
	return out
}

var disallowed = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// LogicalID is the ID CDKTF gives a resource at path (construct IDs from
// the stack down): cdktf's makeUniqueId, in Go.
func LogicalID(path []string) string {
	var comps []string
	for _, c := range path {
		if c != "Default" {
			comps = append(comps, c)
		}
	}
	if len(comps) == 1 && len(disallowed.ReplaceAllString(comps[0], "")) <= 255 {
		return disallowed.ReplaceAllString(comps[0], "")
	}
	sum := md5.Sum([]byte(strings.Join(comps, "/")))
	hash := strings.ToUpper(hex.EncodeToString(sum[:])[:8])
	var deduped []string // a component ending its predecessor's name is dropped
	for _, c := range comps {
		if len(deduped) == 0 || !strings.HasSuffix(deduped[len(deduped)-1], c) {
			deduped = append(deduped, c)
		}
	}
	var human []string
	for _, c := range deduped {
		if c != "Resource" {
			human = append(human, disallowed.ReplaceAllString(c, ""))
		}
	}
	h := strings.Join(human, "_")
	if len(h) > 240 {
		h = h[:240]
	}
	return h + "_" + hash
}

// DependOn makes construct r wait for the resources named by their
// addresses (Resource.FQN, DependsOn), replacing its depends_on.
func DependOn(r cdktf.TerraformResource, fqns ...string) {
	r.SetDependsOn(Strs(fqns...))
}
