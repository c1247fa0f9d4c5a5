package access

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/tfjson"
)

// Stack is one synthesized stack: its resources by type and name, its
// providers and its backend, and the account it deploys to.
type Stack struct {
	// Name is the stack's; Resources holds its resources by type and name,
	// and its data sources as "data.<type>".
	Name      string
	Account   string // the account's name in config
	AccountID string
	Region    string
	Resources map[string]map[string]map[string]any
	Providers []map[string]any
	Backend   map[string]any // the S3 backend block, nil for local state
}

// Stacks are every stack of a synth, by name.
type Stacks struct {
	byName map[string]*Stack
	names  []string
}

// Read loads every stacks/*/cdk.tf.json under a synth output directory.
func Read(dir string, cfg *config.Config) (*Stacks, error) {
	docs, err := tfjson.ReadStacks(dir)
	if err != nil {
		return nil, err
	}
	return Parse(docs, cfg)
}

// Parse reads stacks given as stack name → cdk.tf.json bytes. Stacks are
// "<account>" or "bootstrap-<account>".
func Parse(docs map[string][]byte, cfg *config.Config) (*Stacks, error) {
	s := &Stacks{byName: map[string]*Stack{}}
	for name, b := range docs {
		var doc struct {
			Resource  map[string]map[string]map[string]any `json:"resource"`
			Data      map[string]map[string]map[string]any `json:"data"`
			Provider  map[string]any                       `json:"provider"`
			Terraform struct {
				Backend map[string]map[string]any `json:"backend"`
			} `json:"terraform"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("stack %s: %w", name, err)
		}
		acct := cfg.AccountOfStack(name)
		a := cfg.Accounts[acct]
		if a == nil {
			return nil, fmt.Errorf("stack %s: no account %q in the config", name, acct)
		}
		st := &Stack{Name: name, Account: acct, AccountID: a.ID, Region: cfg.Region, Resources: doc.Resource,
			Providers: tfjson.Blocks(doc.Provider["aws"]), Backend: doc.Terraform.Backend["s3"]}
		if st.Resources == nil {
			st.Resources = map[string]map[string]map[string]any{}
		}
		for typ, rs := range doc.Data { // data sources as "data.<type>"
			st.Resources["data."+typ] = rs
		}
		s.byName[name] = st
		s.names = append(s.names, name)
	}
	sort.Strings(s.names)
	return s, nil
}

// Names lists the stacks in name order.
func (s *Stacks) Names() []string { return s.names }

// Stack returns one stack, or nil.
func (s *Stacks) Stack(name string) *Stack { return s.byName[name] }

// each calls fn for every resource of a type in every stack, in order.
func (s *Stacks) each(typ string, fn func(st *Stack, name string, r map[string]any)) {
	for _, n := range s.names {
		st := s.byName[n]
		rs := st.Resources[typ]
		for _, name := range slices.Sorted(maps.Keys(rs)) {
			fn(st, name, rs[name])
		}
	}
}

// Where names a resource for people: "dev: aws_iam_role.github_plan".
func (st *Stack) Where(typ, name string) string { return st.Name + ": " + typ + "." + name }

// Resolve turns a string from the synthesized JSON into what AWS would
// see: references to other resources ("${aws_iam_role.x.arn}") become the
// values they will have (ARNs from names and the account; IDs that AWS
// makes up become stable placeholders), and Terraform's "$${" escape
// becomes "${".
func (st *Stack) Resolve(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			b.WriteString(st.value(s[i+2 : i+end]))
			i += end + 1
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String()
}

// value resolves one reference expression "type.name.attr".
func (st *Stack) value(expr string) string {
	parts := strings.SplitN(expr, ".", 3)
	if len(parts) < 3 {
		return "UNRESOLVED(" + expr + ")"
	}
	typ, name, attr := parts[0], parts[1], parts[2]
	r := st.Resources[typ][name]
	if r == nil {
		return "UNRESOLVED(" + expr + ")"
	}
	attrOf := func(k string) string {
		v, _ := r[k].(string)
		return st.Resolve(v)
	}
	acct, region := st.AccountID, st.RegionOf(r)
	switch typ + "." + attr {
	case "aws_iam_role.arn":
		return "arn:aws:iam::" + acct + ":role" + pathOf(attrOf("path")) + attrOf("name")
	case "aws_iam_role.name", "aws_iam_role.id", "aws_iam_group.name", "aws_iam_group.id", "aws_iam_user.name", "aws_iam_user.id":
		return attrOf("name")
	case "aws_iam_policy.arn", "aws_iam_policy.id":
		return "arn:aws:iam::" + acct + ":policy" + pathOf(attrOf("path")) + attrOf("name")
	case "aws_kms_key.arn":
		return KeyARN(region, acct, st.Placeholder(typ, name, 32))
	case "aws_kms_key.key_id", "aws_kms_key.id":
		return st.Placeholder(typ, name, 32)
	case "aws_s3_bucket.arn":
		return "arn:aws:s3:::" + attrOf("bucket")
	case "aws_s3_bucket.id", "aws_s3_bucket.bucket":
		return attrOf("bucket")
	case "aws_vpc.id":
		return "vpc-" + st.Placeholder(typ, name, 17)
	case "aws_route_table.id":
		return "rtb-" + st.Placeholder(typ, name, 17)
	case "aws_eip.allocation_id", "aws_eip.id":
		return "eipalloc-" + st.Placeholder(typ, name, 17)
	case "aws_rds_cluster.cluster_resource_id":
		return "cluster-" + strings.ToUpper(st.Placeholder(typ, name, 26))
	case "aws_rds_cluster.master_user_secret[0].secret_arn":
		return SecretARN(region, acct, "rds!cluster-"+st.Placeholder(typ, name, 32))
	case "aws_rds_cluster.arn":
		return "arn:aws:rds:" + region + ":" + acct + ":cluster:" + attrOf("cluster_identifier")
	case "aws_secretsmanager_secret.arn", "aws_secretsmanager_secret.id":
		return SecretARN(region, acct, attrOf("name"))
	case "aws_sns_topic.arn", "aws_sns_topic.id":
		return "arn:aws:sns:" + region + ":" + acct + ":" + attrOf("name")
	case "aws_cloudwatch_log_group.arn":
		return "arn:aws:logs:" + region + ":" + acct + ":log-group:" + attrOf("name")
	case "aws_cloudwatch_log_destination.arn":
		return "arn:aws:logs:" + region + ":" + acct + ":destination:" + attrOf("name")
	case "aws_kinesis_firehose_delivery_stream.arn":
		return "arn:aws:firehose:" + region + ":" + acct + ":deliverystream/" + attrOf("name")
	case "aws_ecr_repository.arn":
		return "arn:aws:ecr:" + region + ":" + acct + ":repository/" + attrOf("name")
	case "aws_ecs_cluster.arn", "aws_ecs_cluster.id":
		return "arn:aws:ecs:" + region + ":" + acct + ":cluster/" + attrOf("name")
	}
	if s, ok := r[attr].(string); ok && (attr == "name" || attr == "bucket") {
		return st.Resolve(s)
	}
	return "UNRESOLVED(" + expr + ")"
}

// RegionOf is the region a resource is made in: its aliased provider's
// ("provider": "aws.<alias>"), or the stack's.
func (st *Stack) RegionOf(r map[string]any) string {
	p, _ := r["provider"].(string)
	alias, ok := strings.CutPrefix(p, "aws.")
	if !ok {
		return st.Region
	}
	for _, pc := range st.Providers {
		if pc["alias"] == alias {
			if reg, _ := pc["region"].(string); reg != "" {
				return reg
			}
		}
	}
	return st.Region
}

func pathOf(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// Placeholder is a stable stand-in, n hex digits long, for an ID that AWS
// makes up when it creates a resource.
func (st *Stack) Placeholder(typ, name string, n int) string {
	var out string
	for i := 0; len(out) < n; i++ {
		h := fnv.New64a()
		fmt.Fprintf(h, "%s/%s.%s/%d", st.Name, typ, name, i)
		out += fmt.Sprintf("%016x", h.Sum64())
	}
	return out[:n]
}

// KeyARN is a KMS key's ARN.
func KeyARN(region, accountID, keyID string) string {
	return "arn:aws:kms:" + region + ":" + accountID + ":key/" + keyID
}

// SecretARN is a secret's ARN; Secrets Manager appends six random
// characters, here always the same.
func SecretARN(region, accountID, name string) string {
	return "arn:aws:secretsmanager:" + region + ":" + accountID + ":secret:" + name + "-Ab12Cd"
}

// ref is the "type.name" a value holding one reference points at, or "".
func ref(v any) (typ, name string) {
	t := tfjson.Ref(v)
	if i := strings.IndexByte(t, '.'); i > 0 {
		return t[:i], t[i+1:]
	}
	return "", ""
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
