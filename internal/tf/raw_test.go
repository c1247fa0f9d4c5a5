package tf_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/guarddutydetector"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/guarddutydetectorfeature"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/internal/tf"
)

// paths are construct paths under a stack that exercise every rule of
// CDKTF's logical IDs: one component, "Default" (left out), "Resource"
// (hashed, not shown), a component ending its parent's name (shown once),
// characters IDs cannot hold, and a human part over 240 characters.
var paths = [][]string{
	{"guardduty"},
	{"audit", "region-ap-northeast-1", "guardduty"},
	{"audit", "Default", "guardduty"},
	{"audit", "Resource"},
	{"findings-admin", "admin", "min"},
	{"a.b", "c d", "e/f"[:1]},
	{strings.Repeat("x", 200), strings.Repeat("y", 100)},
}

// synthBoth makes a detector and a feature at each path twice, as
// constructs in stack "jsii" and as raw resources in stack "raw", and
// returns both stacks' JSON.
func synthBoth(t *testing.T) (jsiiStack, rawStack map[string]any) {
	t.Helper()
	out := t.TempDir()
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: &out})
	for _, name := range []string{"jsii", "raw"} {
		st := cdktf.NewTerraformStack(app, tf.S(name))
		provider.NewAwsProvider(st, tf.S("aws"), &provider.AwsProviderConfig{Region: tf.S("us-east-1")})
		west := provider.NewAwsProvider(st, tf.S("west"), &provider.AwsProviderConfig{Region: tf.S("us-west-2"), Alias: tf.S("us-west-2")})
		value := []*string{tf.S("a"), tf.S("b")}
		if name == "jsii" {
			cdktf.NewTerraformOutput(st, tf.S("names"), &cdktf.TerraformOutputConfig{Value: value, Description: tf.S("Two names")})
		} else {
			tf.RawScopeOf(st).Output("names", "Two names", value)
		}
		made := map[string]constructs.Construct{}
		for i, p := range paths {
			var scope constructs.Construct = st
			for j, id := range p[:len(p)-1] {
				key := strings.Join(p[:j+1], "/")
				if made[key] == nil {
					made[key] = constructs.NewConstruct(scope, tf.S(id))
				}
				scope = made[key]
			}
			id := p[len(p)-1]
			var prov cdktf.TerraformProvider
			if i%2 == 1 {
				prov = west
			}
			if name == "jsii" {
				d := guarddutydetector.NewGuarddutyDetector(scope, tf.S(id), &guarddutydetector.GuarddutyDetectorConfig{
					Provider: prov, Enable: tf.B(true), Tags: tf.Name("d"),
				})
				guarddutydetectorfeature.NewGuarddutyDetectorFeature(scope, tf.S(id+"-f"), &guarddutydetectorfeature.GuarddutyDetectorFeatureConfig{
					Provider: prov, DetectorId: d.Id(), Name: tf.S("S3_DATA_EVENTS"), Status: tf.S("ENABLED"),
					DependsOn: &[]cdktf.ITerraformDependable{d},
				})
				continue
			}
			s := tf.RawScopeOf(scope).Using(prov)
			d := s.Add("aws_guardduty_detector", id, map[string]any{"enable": true, "tags": map[string]any{"Name": "d"}})
			s.Add("aws_guardduty_detector_feature", id+"-f", map[string]any{
				"detector_id": *d.Ref("id"), "name": "S3_DATA_EVENTS", "status": "ENABLED", "depends_on": []string{d.FQN()},
			})
		}
	}
	app.Synth()
	read := func(name string) map[string]any {
		b, err := os.ReadFile(filepath.Join(out, "stacks", name, "cdk.tf.json"))
		if err != nil {
			t.Fatal(err)
		}
		var j map[string]any
		if err := json.Unmarshal(b, &j); err != nil {
			t.Fatal(err)
		}
		return j
	}
	return read("jsii"), read("raw")
}

// A raw resource is written exactly as CDKTF writes a construct at the
// same path: same address, metadata, arguments, provider and depends_on.
func TestRawResourcesAreWrittenAsConstructsWouldBe(t *testing.T) {
	j, r := synthBoth(t)
	want := strings.ReplaceAll(mustJSON(t, j["resource"]), `"jsii/`, `"raw/`)
	if got := mustJSON(t, r["resource"]); got != want {
		t.Errorf("raw resources differ from constructs at the same paths:\nconstructs: %s\nraw:        %s", want, got)
	}
	if got, want := mustJSON(t, r["output"]), mustJSON(t, j["output"]); got != want || want == "null" {
		t.Errorf("raw outputs %s, constructs' %s", got, want)
	}
	outputs := func(j map[string]any, stack string) string {
		return mustJSON(t, j["//"].(map[string]any)["outputs"].(map[string]any)[stack])
	}
	if got, want := outputs(r, "raw"), outputs(j, "jsii"); got != want {
		t.Errorf("raw outputs' metadata %s, constructs' %s", got, want)
	}
	n := 0
	for _, byID := range j["resource"].(map[string]any) {
		n += len(byID.(map[string]any))
	}
	if n != 2*len(paths) {
		t.Fatalf("%d construct resources, want %d", n, 2*len(paths))
	}
}

func TestLogicalIDMatchesCDKTF(t *testing.T) {
	j, _ := synthBoth(t)
	ids := map[string]bool{}
	for _, byID := range j["resource"].(map[string]any) {
		for id := range byID.(map[string]any) {
			ids[id] = true
		}
	}
	for _, p := range paths {
		if id := tf.LogicalID(p); !ids[id] {
			t.Errorf("LogicalID(%q) = %q, which CDKTF did not give the construct there (it gave %v)", p, id, keys(ids))
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
