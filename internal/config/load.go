package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"

	"go.yaml.in/yaml/v3"

	"github.com/acme/landing-zone/internal/awsenv"
)

// DefaultPath is the config file the app reads when LZ_CONFIG is unset.
const DefaultPath = "config.yaml"

// Path is the config file to read: LZ_CONFIG, or DefaultPath.
func Path() string {
	if p := os.Getenv("LZ_CONFIG"); p != "" {
		return p
	}
	return DefaultPath
}

// maxSize bounds the input: a landing zone config is a few kilobytes.
const maxSize = 1 << 20

// Load reads, defaults and validates the config at path. On any problem it
// returns a *Problems listing all of them, and a nil config.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w; set LZ_CONFIG to the config file's path", err)
	}
	return Parse(path, data)
}

// Parse is Load for a config already in memory; name is used in messages.
func Parse(name string, data []byte) (*Config, error) {
	r := &reporter{lines: map[string]int{}}
	fail := func() error { return &Problems{File: name, List: r.list} }

	if len(data) > maxSize {
		r.add("(file)", "a config is a few kilobytes; check the path", "is %d bytes, over the %d-byte limit", len(data), maxSize)
		return nil, fail()
	}
	root, err := parseYAML(data)
	if err != nil {
		r.list = append(r.list, syntaxProblem(data, err))
		return nil, fail()
	}
	checkShape(r, root, reflect.TypeOf(Config{}), "")
	if len(r.list) > 0 {
		return nil, fail()
	}
	var cfg Config
	if err := root.Decode(&cfg); err != nil {
		r.list = append(r.list, Problem{Path: "(file)", Msg: err.Error(), Fix: "fix the value at that line"})
		return nil, fail()
	}
	applyDefaults(&cfg)
	validate(r, &cfg)
	if len(r.list) > 0 {
		return nil, fail()
	}
	return &cfg, nil
}

// parseYAML returns the document's root node. An empty file or a second
// document is an error: the config is exactly one mapping.
func parseYAML(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty")
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("the file holds more than one YAML document")
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("the top level must be a mapping of keys (name_prefix, region, accounts, ...)")
	}
	return doc.Content[0], nil
}

// AccountNames returns the account names sorted by kind (management,
// logs, security, shared-services, then apps from dev to prod) and then by name: the order
// stacks are built and deployed in.
func (c *Config) AccountNames() []string {
	names := make([]string, 0, len(c.Accounts))
	for n := range c.Accounts {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := c.Accounts[names[i]].rank(), c.Accounts[names[j]].rank()
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	return names
}

// AccountOfKind returns the name and account of the only account of kind k
// (logs, security or shared-services).
func (c *Config) AccountOfKind(k string) (string, *Account) {
	for _, n := range c.AccountNames() {
		if a := c.Accounts[n]; a != nil && a.Kind == k {
			return n, c.Accounts[n]
		}
	}
	return "", nil
}

var kindRank = map[string]int{KindManagement: -1, KindLogs: 0, KindSecurity: 1, KindShared: 2, KindApp: 3}

var profileRank = map[string]int{ProfileDev: 0, ProfileStage: 1, ProfileProd: 2}

// rank orders accounts; a nil account (reported by validation) sorts last.
func (a *Account) rank() int {
	if a == nil {
		return 99
	}
	return kindRank[a.Kind]*10 + profileRank[a.Profile]
}

// DeployRoleARN returns the ARN of the role Terraform assumes in the
// account, in partition p (awsenv.PartitionOf the config's region) when
// deploy_role is a name.
func (a *Account) DeployRoleARN(p awsenv.Partition) string {
	if isARN(a.DeployRole) {
		return a.DeployRole
	}
	return p.Role(a.ID, a.DeployRole)
}
