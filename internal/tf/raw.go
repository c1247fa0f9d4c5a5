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

// Raw resources are written into their stack's Terraform JSON by Go, all
// of a stack's in a few overrides, instead of one jsii construct each. A
// construct costs about 1 ms of synth in jsii round trips and in CDKTF's
// own synth, which is the whole budget for the many small resources made
// once per watched region (regionalbaseline). A raw resource gets the
// address and the "//" metadata CDKTF would give a construct at the same
// path, so moving a resource between the two changes nothing in the JSON
// but the stack's list of overrides.
//
// Values may hold tokens (a construct's Arn(), ...): the stack resolves
// its overrides with the rest of its JSON at synth.

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

type rawWriter struct {
	stack     cdktf.TerraformStack
	name      string
	resources map[string]map[string]any // type, then ID, then the body
}

// writers are the stacks with raw resources not yet flushed, by stack
// name. FlushRaw empties it; stacks.Build flushes before it returns.
var writers = map[string]*rawWriter{}

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
	parts := strings.Split(*scope.Node().Path(), "/")
	w := writers[parts[0]]
	if w == nil {
		w = &rawWriter{stack: cdktf.TerraformStack_Of(scope), name: parts[0], resources: map[string]map[string]any{}}
		writers[parts[0]] = w
	}
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

// FlushRaw hands every stack's raw resources to the stack, one override
// per resource type, and forgets them. Call it once every construct is
// built (stacks.Build does): a resource added later is never written.
func FlushRaw() {
	for _, name := range slices.Sorted(maps.Keys(writers)) {
		w := writers[name]
		for _, typ := range slices.Sorted(maps.Keys(w.resources)) {
			w.stack.AddOverride(S("resource."+typ), w.resources[typ])
		}
	}
	DiscardRaw()
}

// DiscardRaw forgets raw resources not flushed: those of a build that
// failed. stacks.Build calls it first, so that a stack of a new app never
// takes the place of an old one of the same name.
func DiscardRaw() {
	clear(writers)
	clear(scopes)
	clear(providers)
	clear(addresses)
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
