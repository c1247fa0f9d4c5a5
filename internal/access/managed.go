package access

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
)

// managed/ holds the AWS managed policies the stacks attach, as AWS
// publishes them (each file names its version and the repository and
// commit it was copied from). Refresh one by copying the newer version's
// document from the same source.
//
//go:embed managed/*.json
var managedFiles embed.FS

// ManagedPolicy is one vendored AWS managed policy.
type ManagedPolicy struct {
	Name       string
	Arn        string
	VersionId  string
	CreateDate string
	Source     struct{ Repository, Path, Commit string }
	Document   any
}

var managedCache = map[string]*ManagedPolicy{}

// managedPolicy returns the vendored policy with this ARN.
func managedPolicy(arn string) (*ManagedPolicy, error) {
	name := path.Base(arn)
	if m, ok := managedCache[name]; ok {
		return m, nil
	}
	b, err := managedFiles.ReadFile("managed/" + name + ".json")
	if err != nil {
		return nil, fmt.Errorf("the AWS managed policy %s is not vendored under internal/access/managed (vendored: %s); add its document there", arn, strings.Join(VendoredPolicies(), ", "))
	}
	m := &ManagedPolicy{Name: name}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("internal/access/managed/%s.json: %w", name, err)
	}
	if m.Arn != arn {
		return nil, fmt.Errorf("internal/access/managed/%s.json is %s, not %s", name, m.Arn, arn)
	}
	managedCache[name] = m
	return m, nil
}

// VendoredPolicies lists the vendored policies' names.
func VendoredPolicies() []string {
	entries, _ := managedFiles.ReadDir("managed")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(out)
	return out
}
