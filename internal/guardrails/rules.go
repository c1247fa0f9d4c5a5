package guardrails

import (
	"maps"
	"slices"
	"strings"

	"github.com/acme/landing-zone/internal/tfjson"
)

// buckets requires each bucket to have versioning, default encryption, a
// full public access block and a policy denying non-TLS requests.
func (c *checker) buckets() {
	has := map[string]map[string]bool{}
	mark := func(bucket, what string) {
		if has[bucket] == nil {
			has[bucket] = map[string]bool{}
		}
		has[bucket][what] = true
	}
	for _, r := range c.doc.Resource["aws_s3_bucket_versioning"] {
		if vc, ok := r["versioning_configuration"].(map[string]any); ok && vc["status"] == "Enabled" {
			mark(tfjson.Ref(r["bucket"]), "versioning")
		}
	}
	for _, r := range c.doc.Resource["aws_s3_bucket_server_side_encryption_configuration"] {
		mark(tfjson.Ref(r["bucket"]), "encryption")
	}
	for _, r := range c.doc.Resource["aws_s3_bucket_public_access_block"] {
		if r["block_public_acls"] == true && r["block_public_policy"] == true && r["ignore_public_acls"] == true && r["restrict_public_buckets"] == true {
			mark(tfjson.Ref(r["bucket"]), "public access block")
		}
	}
	for _, r := range c.doc.Resource["aws_s3_bucket_policy"] {
		if p, _ := r["policy"].(string); strings.Contains(p, `"aws:SecureTransport":["false"]`) && strings.Contains(p, `"Effect":"Deny"`) {
			mark(tfjson.Ref(r["bucket"]), "TLS-only policy")
		}
	}
	for _, id := range slices.Sorted(maps.Keys(c.doc.Resource["aws_s3_bucket"])) {
		var missing []string
		for _, what := range []string{"versioning", "encryption", "public access block", "TLS-only policy"} {
			if !has["aws_s3_bucket."+id][what] {
				missing = append(missing, what)
			}
		}
		if len(missing) > 0 {
			c.flag("aws_s3_bucket", id, RuleBucket, "no "+strings.Join(missing, ", no "))
		}
	}
}

// simple holds the rules that look at one resource at a time.
func (c *checker) simple() {
	c.each("aws_cloudwatch_log_group", func(id string, r map[string]any) {
		if r["retention_in_days"] == nil || r["retention_in_days"] == 0.0 || r["kms_key_id"] == nil {
			c.flag("aws_cloudwatch_log_group", id, RuleLogGroup, "retention or kms_key_id is missing")
		}
	})
	c.each("aws_kms_key", func(id string, r map[string]any) {
		if r["enable_key_rotation"] != true {
			c.flag("aws_kms_key", id, RuleKMSRotation, "enable_key_rotation is not true")
		}
	})
	c.each("aws_launch_template", func(id string, r map[string]any) {
		md, _ := r["metadata_options"].(map[string]any)
		if md == nil || md["http_tokens"] != "required" {
			c.flag("aws_launch_template", id, RuleLaunchTmpl, "IMDSv1 is allowed")
		}
		devices, _ := r["block_device_mappings"].([]any)
		if len(devices) == 0 {
			c.flag("aws_launch_template", id, RuleLaunchTmpl, "the root volume is not declared, so not encrypted")
		}
		for _, d := range devices {
			ebs, _ := d.(map[string]any)["ebs"].(map[string]any)
			if ebs == nil || (ebs["encrypted"] != "true" && ebs["encrypted"] != true) {
				c.flag("aws_launch_template", id, RuleLaunchTmpl, "an EBS volume is not encrypted")
			}
		}
	})
	c.each("aws_rds_cluster", func(id string, r map[string]any) {
		if r["storage_encrypted"] != true {
			c.flag("aws_rds_cluster", id, RuleDataAtRest, "storage_encrypted is not true")
		}
	})
	c.each("aws_elasticache_replication_group", func(id string, r map[string]any) {
		if (r["at_rest_encryption_enabled"] != "true" && r["at_rest_encryption_enabled"] != true) || r["transit_encryption_enabled"] != true {
			c.flag("aws_elasticache_replication_group", id, RuleDataAtRest, "at-rest or in-transit encryption is off")
		}
	})
	if !slices.Contains(c.opts.ProdStacks, c.doc.name) {
		return
	}
	for typ, attr := range map[string]string{"aws_rds_cluster": "deletion_protection", "aws_lb": "enable_deletion_protection", "aws_dynamodb_table": "deletion_protection_enabled"} {
		c.each(typ, func(id string, r map[string]any) {
			if r[attr] != true {
				c.flag(typ, id, RuleProdDeletion, attr+" is not true in prod")
			}
		})
	}
}

// ingress allows internet-facing ingress only where the allow-list says.
func (c *checker) ingress() {
	names := map[string]string{}
	c.each("aws_security_group", func(id string, r map[string]any) {
		names["aws_security_group."+id], _ = r["name"].(string)
		for _, in := range tfjson.Blocks(r["ingress"]) {
			if open(in["cidr_blocks"], in["ipv6_cidr_blocks"]) {
				c.flag("aws_security_group", id, RuleOpenIngress, "an inline ingress rule is open to the internet")
			}
		}
	})
	c.each("aws_vpc_security_group_ingress_rule", func(id string, r map[string]any) {
		if r["cidr_ipv4"] != "0.0.0.0/0" && r["cidr_ipv6"] != "::/0" {
			return
		}
		group := names[tfjson.Ref(r["security_group_id"])]
		proto, _ := r["ip_protocol"].(string)
		from, _ := r["from_port"].(float64)
		to, _ := r["to_port"].(float64)
		for _, o := range c.opts.InternetIngress {
			if o.Group == group && o.Protocol == proto && float64(o.Port) == from && from == to {
				return
			}
		}
		c.flag("aws_vpc_security_group_ingress_rule", id, RuleOpenIngress, "group "+group+" is open to the internet on "+proto+" "+portRange(from, to))
	})
}

// tags requires every provider's default_tags to carry the required tags,
// and no resource to blank one.
func (c *checker) tags() {
	for i, p := range c.doc.Provider["aws"] {
		tags := map[string]any{}
		for _, dt := range tfjson.Blocks(p["default_tags"]) {
			if t, ok := dt["tags"].(map[string]any); ok {
				tags = t
			}
		}
		for _, k := range RequiredTags {
			if v, _ := tags[k].(string); v == "" {
				alias, _ := p["alias"].(string)
				c.out = append(c.out, Violation{Stack: c.doc.name, Path: c.doc.name + "/provider/aws" + suffix(alias, i), Rule: RuleTags, Detail: "default_tags lacks " + k})
			}
		}
	}
	for typ, rs := range c.doc.Resource {
		for _, id := range slices.Sorted(maps.Keys(rs)) {
			tags, _ := rs[id]["tags"].(map[string]any)
			for _, k := range RequiredTags {
				if v, ok := tags[k]; ok && v == "" {
					c.flag(typ, id, RuleTags, "tag "+k+" is blanked")
				}
			}
		}
	}
}
