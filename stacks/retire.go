package stacks

import (
	"fmt"
	"maps"
	"slices"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/internal/tf"
)

// Retiring is how an account's stacks are synthesized for its last apply
// before `terraform destroy` (Options.Retiring, `landing-zone retire`,
// help/retire.md). Nothing here changes a stack of another account.
type Retiring struct {
	// Account is the app account being retired; "" (the default) retires
	// nothing.
	Account string
	// Empty lets Terraform delete what still holds data it did not write:
	// S3 buckets with their objects and every version (the ALB log bucket,
	// the state bucket) and Route 53 zones with records made outside
	// Terraform. Off by default; the retire command sets it only after the
	// operator typed the account's name (or passed --yes in CI).
	Empty bool
}

// RetiringOverrides are the settings a retiring stack's resources get, by
// resource type: protections off, final snapshots on, secrets deleted at
// once. Buckets and zones are emptied only with Retiring.Empty.
var RetiringOverrides = map[string]map[string]any{
	// Deletion protection off; a final snapshot named by retireSnapshot.
	"aws_rds_cluster": {"deletion_protection": false, "skip_final_snapshot": false},
	// A final backup of the cache, named by retireSnapshot.
	"aws_elasticache_replication_group": {},
	// Deleted at once: a secret in its recovery window blocks recreating
	// one of the same name (for up to 30 days).
	"aws_secretsmanager_secret": {"recovery_window_in_days": 0},
	"aws_lb":                    {"enable_deletion_protection": false},
	"aws_dynamodb_table":        {"deletion_protection_enabled": false},
}

// EmptyOverrides apply on top of RetiringOverrides with Retiring.Empty.
var EmptyOverrides = map[string]map[string]any{
	"aws_s3_bucket":    {"force_destroy": true},
	"aws_route53_zone": {"force_destroy": true},
}

// RetireSnapshotSuffix ends the name of every final snapshot a retiring
// stack takes: <prefix>-<account>-<type>-<n>-retired.
const RetireSnapshotSuffix = "-retired"

// applyRetiring walks the stack's resources once and overrides what
// protects them from `terraform destroy` (RetiringOverrides). It works by
// resource type, so a construct added later is covered without changes.
func (a *Account) applyRetiring(r Retiring) {
	seen := map[string]int{}
	for _, c := range *a.Stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if !*cdktf.TerraformResource_IsTerraformResource(c) {
			continue
		}
		res := c.(cdktf.TerraformResource)
		typ := *res.TerraformResourceType()
		set := map[string]any{}
		for k, v := range RetiringOverrides[typ] {
			set[k] = v
		}
		if r.Empty {
			for k, v := range EmptyOverrides[typ] {
				set[k] = v
			}
		}
		if typ == "aws_rds_cluster" || typ == "aws_elasticache_replication_group" {
			seen[typ]++
			set["final_snapshot_identifier"] = retireSnapshot(a.Config.NamePrefix, a.Name, typ, seen[typ])
		}
		for _, k := range slices.Sorted(maps.Keys(set)) {
			res.AddOverride(tf.S(k), set[k])
		}
	}
}

// retireSnapshot names the n-th final snapshot of a retiring stack's
// resources of type typ (unique per account, valid for RDS and ElastiCache:
// letters, digits and hyphens, starting with a letter).
func retireSnapshot(prefix, account, typ string, n int) string {
	kind := "db"
	if typ == "aws_elasticache_replication_group" {
		kind = "cache"
	}
	return fmt.Sprintf("%s-%s-%s-%d%s", prefix, account, kind, n, RetireSnapshotSuffix)
}

// retire applies Retiring to the retiring account's stacks, after every
// pass has added its resources.
func (l *Landing) retire(r Retiring) {
	if r.Account == "" {
		return
	}
	for _, b := range l.Bootstrap {
		if b.Name == r.Account {
			b.applyRetiring(r)
		}
	}
	for _, app := range l.Apps {
		if app.Name == r.Account {
			app.applyRetiring(r)
		}
	}
}
