package access

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/tfjson"
)

// Universe is every policy of the synthesized stacks, as AWS would hold
// them: roles with their trust and permissions, the security account's
// users and groups, and the resource policies of buckets, keys,
// repositories, log destinations and topics.
type Universe struct {
	cfg      *config.Config
	stacks   *Stacks
	Policies map[string]any // policy ID (a readable name) → document
	Roles    map[string]*Role
	Groups   map[string][]string // group name → policy IDs
	// Resource policies by resource ARN: roles' trust policies, bucket,
	// key, repository, destination and topic policies.
	ResourcePolicy map[string]string
	// Keys are KMS keys by ARN; Aliases map "alias/x" in an account
	// ("<account id>/alias/x") to a key's ARN.
	Keys    map[string]*Key
	Aliases map[string]string
	// Buckets maps a bucket's name to its stack and resource name.
	Buckets map[string]*Bucket
	// problems are policies that could not be read.
	problems []string
	// SCPs are the SCP levels over each member account, by account ID
	// (organization.go); empty without a management account.
	SCPs map[string][]SCPLevel
}

// Role is an IAM role made by the stacks (or a known one made by AWS).
type Role struct {
	ARN, Name, AccountID string
	Where                string // "dev: aws_iam_role.x", or who makes it
	Trust                string // policy ID of the trust policy
	Policies             []string
	// Assumed marks permissions the proof assumes rather than reads (a
	// deploy_role the landing zone does not make).
	Assumed string
}

// Key is a KMS key of the stacks.
type Key struct {
	ARN, AccountID, Where string
	Aliases               []string
	Policy                string
}

// Bucket is an S3 bucket of the stacks.
type Bucket struct {
	Name, AccountID, Where string
	Stack                  *Stack
	Resource               string
	// Key is the default encryption key's ARN, "" for SSE-S3.
	Key string
}

// Build reads every policy of the stacks.
func Build(stacks *Stacks, cfg *config.Config) *Universe {
	u := &Universe{
		cfg: cfg, stacks: stacks,
		Policies: map[string]any{}, Roles: map[string]*Role{}, Groups: map[string][]string{},
		ResourcePolicy: map[string]string{}, Keys: map[string]*Key{}, Aliases: map[string]string{}, Buckets: map[string]*Bucket{},
	}
	u.readRoles()
	u.readGroups()
	u.readKeys()
	u.readBuckets()
	u.readOtherResourcePolicies()
	u.readOrganization()
	return u
}

// add stores a policy document (JSON, with references) under an ID.
func (u *Universe) add(id string, st *Stack, raw string) string {
	var doc any
	if err := json.Unmarshal([]byte(st.Resolve(raw)), &doc); err != nil {
		u.problems = append(u.problems, fmt.Sprintf("%s: the policy does not parse: %v", id, err))
		doc = map[string]any{"Version": "2012-10-17", "Statement": []any{}}
	}
	u.Policies[id] = doc
	return id
}

// Managed returns the ID of an AWS managed policy, vendored under managed/.
func (u *Universe) Managed(arn string) (string, error) {
	m, err := managedPolicy(arn)
	if err != nil {
		return "", err
	}
	id := "AWS managed " + m.Name + " (" + m.VersionId + ")"
	u.Policies[id] = m.Document
	return id, nil
}

func (u *Universe) readRoles() {
	byAddr := map[string]*Role{}
	u.stacks.each("aws_iam_role", func(st *Stack, name string, r map[string]any) {
		role := &Role{Name: st.Resolve(str(r["name"])), AccountID: st.AccountID, Where: st.Where("aws_iam_role", name)}
		role.ARN = st.value("aws_iam_role." + name + ".arn")
		role.Trust = u.add("trust policy of "+role.Name+" ("+st.Name+")", st, str(r["assume_role_policy"]))
		u.ResourcePolicy[role.ARN] = role.Trust
		u.Roles[role.ARN] = role
		byAddr[st.Name+"/aws_iam_role."+name] = role
	})
	roleOf := func(st *Stack, v any) *Role {
		typ, name := ref(v)
		if typ == "aws_iam_role" {
			return byAddr[st.Name+"/aws_iam_role."+name]
		}
		// A role named by its name rather than a reference.
		for _, r := range u.Roles {
			if r.AccountID == st.AccountID && r.Name == st.Resolve(str(v)) {
				return r
			}
		}
		return nil
	}
	u.stacks.each("aws_iam_role_policy", func(st *Stack, name string, r map[string]any) {
		role := roleOf(st, r["role"])
		if role == nil {
			u.problems = append(u.problems, st.Where("aws_iam_role_policy", name)+": names no role of the stack")
			return
		}
		id := u.add("inline policy "+st.Resolve(str(r["name"]))+" of "+role.Name+" ("+st.Name+")", st, str(r["policy"]))
		role.Policies = append(role.Policies, id)
	})
	u.stacks.each("aws_iam_role_policy_attachment", func(st *Stack, name string, r map[string]any) {
		role := roleOf(st, r["role"])
		if role == nil {
			u.problems = append(u.problems, st.Where("aws_iam_role_policy_attachment", name)+": names no role of the stack")
			return
		}
		role.Policies = append(role.Policies, u.attached(st, st.Resolve(str(r["policy_arn"]))))
	})
}

// attached returns the ID of an attached policy: AWS managed (vendored) or
// a customer managed policy of the stack. A policy the proof cannot read
// becomes a lazy error: it fails only the questions of its principals.
func (u *Universe) attached(st *Stack, arn string) string {
	if strings.HasPrefix(arn, "arn:aws:iam::aws:policy/") {
		id, err := u.Managed(arn)
		if err != nil {
			id = "UNKNOWN " + arn
			u.Policies[id] = nil
		}
		return id
	}
	for _, name := range slices.Sorted(maps.Keys(st.Resources["aws_iam_policy"])) {
		if st.value("aws_iam_policy."+name+".arn") == arn {
			p := st.Resources["aws_iam_policy"][name]
			return u.add("managed policy "+st.Resolve(str(p["name"]))+" ("+st.Name+")", st, str(p["policy"]))
		}
	}
	id := "UNKNOWN " + arn
	u.Policies[id] = nil
	return id
}

func (u *Universe) readGroups() {
	u.stacks.each("aws_iam_group_policy", func(st *Stack, name string, r map[string]any) {
		g := st.Resolve(str(r["group"]))
		u.Groups[g] = append(u.Groups[g], u.add("policy "+st.Resolve(str(r["name"]))+" of group "+g+" ("+st.Name+")", st, str(r["policy"])))
	})
	u.stacks.each("aws_iam_group_policy_attachment", func(st *Stack, name string, r map[string]any) {
		g := st.Resolve(str(r["group"]))
		u.Groups[g] = append(u.Groups[g], u.attached(st, st.Resolve(str(r["policy_arn"]))))
	})
}

func (u *Universe) readKeys() {
	u.stacks.each("aws_kms_key", func(st *Stack, name string, r map[string]any) {
		k := &Key{ARN: st.value("aws_kms_key." + name + ".arn"), AccountID: st.AccountID, Where: st.Where("aws_kms_key", name)}
		k.Policy = u.add("key policy of "+st.Where("aws_kms_key", name), st, str(r["policy"]))
		u.Keys[k.ARN] = k
		u.ResourcePolicy[k.ARN] = k.Policy
	})
	u.stacks.each("aws_kms_alias", func(st *Stack, name string, r map[string]any) {
		alias := st.Resolve(str(r["name"]))
		target := st.Resolve(str(r["target_key_id"]))
		for arn, k := range u.Keys {
			if k.AccountID == st.AccountID && (arn == target || strings.HasSuffix(arn, "/"+target)) {
				k.Aliases = append(k.Aliases, alias)
				u.Aliases[st.AccountID+"/"+alias] = arn
			}
		}
	})
	// The policy names the key's aliases in the key policy's own ID.
	for _, k := range u.Keys {
		if len(k.Aliases) > 0 {
			doc := u.Policies[k.Policy]
			delete(u.Policies, k.Policy)
			k.Policy = "key policy of " + k.Aliases[0] + " (" + strings.SplitN(k.Where, ":", 2)[0] + ")"
			u.Policies[k.Policy] = doc
			u.ResourcePolicy[k.ARN] = k.Policy
		}
	}
}

// KeyByAlias returns the key an alias names in an account, or nil.
func (u *Universe) KeyByAlias(accountID, alias string) *Key {
	return u.Keys[u.Aliases[accountID+"/"+alias]]
}

func (u *Universe) readBuckets() {
	byAddr := map[string]*Bucket{}
	u.stacks.each("aws_s3_bucket", func(st *Stack, name string, r map[string]any) {
		b := &Bucket{Name: st.Resolve(str(r["bucket"])), AccountID: st.AccountID, Where: st.Where("aws_s3_bucket", name), Stack: st, Resource: name}
		u.Buckets[b.Name] = b
		byAddr[st.Name+"/aws_s3_bucket."+name] = b
	})
	bucketOf := func(st *Stack, v any) *Bucket {
		if typ, name := ref(v); typ == "aws_s3_bucket" {
			return byAddr[st.Name+"/aws_s3_bucket."+name]
		}
		return u.Buckets[st.Resolve(str(v))]
	}
	u.stacks.each("aws_s3_bucket_policy", func(st *Stack, name string, r map[string]any) {
		b := bucketOf(st, r["bucket"])
		if b == nil {
			u.problems = append(u.problems, st.Where("aws_s3_bucket_policy", name)+": names no bucket")
			return
		}
		u.ResourcePolicy["arn:aws:s3:::"+b.Name] = u.add("bucket policy of "+b.Name, st, str(r["policy"]))
	})
	u.stacks.each("aws_s3_bucket_server_side_encryption_configuration", func(st *Stack, name string, r map[string]any) {
		b := bucketOf(st, r["bucket"])
		if b == nil {
			return
		}
		for _, rule := range blocks(r["rule"]) {
			for _, def := range blocks(rule["apply_server_side_encryption_by_default"]) {
				if str(def["sse_algorithm"]) == "aws:kms" {
					b.Key = st.Resolve(str(def["kms_master_key_id"]))
				}
			}
		}
	})
}

// readOtherResourcePolicies reads the policies of ECR repositories, log
// destinations and SNS topics.
func (u *Universe) readOtherResourcePolicies() {
	u.stacks.each("aws_ecr_repository_policy", func(st *Stack, name string, r map[string]any) {
		repo := st.Resolve(str(r["repository"]))
		if typ, n := ref(r["repository"]); typ == "aws_ecr_repository" {
			repo = st.Resolve(str(st.Resources[typ][n]["name"]))
		}
		arn := "arn:aws:ecr:" + st.Region + ":" + st.AccountID + ":repository/" + repo
		u.ResourcePolicy[arn] = u.add("repository policy of "+repo, st, str(r["policy"]))
	})
	u.stacks.each("aws_cloudwatch_log_destination_policy", func(st *Stack, name string, r map[string]any) {
		dest := st.Resolve(str(r["destination_name"]))
		if typ, n := ref(r["destination_name"]); typ != "" {
			dest = st.Resolve(str(st.Resources[typ][n]["name"]))
		}
		arn := "arn:aws:logs:" + st.Region + ":" + st.AccountID + ":destination:" + dest
		u.ResourcePolicy[arn] = u.add("access policy of log destination "+dest, st, str(r["access_policy"]))
	})
	u.stacks.each("aws_backup_vault_policy", func(st *Stack, name string, r map[string]any) {
		vault := st.Resolve(str(r["backup_vault_name"]))
		if typ, n := ref(r["backup_vault_name"]); typ != "" {
			vault = st.Resolve(str(st.Resources[typ][n]["name"]))
		}
		arn := BackupVaultARN(st.Region, st.AccountID, vault)
		u.ResourcePolicy[arn] = u.add("access policy of backup vault "+vault, st, str(r["policy"]))
	})
	u.stacks.each("aws_sns_topic_policy", func(st *Stack, name string, r map[string]any) {
		arn := st.Resolve(str(r["arn"]))
		id := "topic policy of " + arn[strings.LastIndex(arn, ":")+1:]
		if reg := strings.Split(arn, ":")[3]; reg != st.Region {
			id += " in " + reg // a topic of the same name in another region
		}
		u.ResourcePolicy[arn] = u.add(id, st, str(r["policy"]))
	})
}

// blocks reads a nested block held as one object or a list of objects.
var blocks = tfjson.Blocks
