package cis

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/tfjson"
)

// Status is the verdict on a control, or on one account's part of it.
type Status string

const (
	Hold   Status = "HOLD"   // the stacks satisfy the control
	Fail   Status = "FAIL"   // they do not; the evidence says where
	Manual Status = "MANUAL" // not expressible in IaC: an operator checks it (help cis)
	NA     Status = "N/A"    // nothing the control applies to (no EFS, no RDS, ...)
)

// Finding is one verdict with its evidence: the resource address that
// satisfies the control, or the thing that is missing or wrong.
type Finding struct {
	Scope    string `json:"scope,omitempty"` // account (and region) it is about; "" for the whole config
	Status   Status `json:"status"`
	Evidence string `json:"evidence"`
}

// Control is one CIS v3.0.0 recommendation.
type Control struct {
	ID    string
	Title string
	// IaC reports whether the stacks can express (and so this package
	// evaluates) the control; the others are reported MANUAL with Note.
	IaC  bool
	Note string
	eval func(*set) []Finding
}

// Result is the verdict on one control.
type Result struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	IaC      bool      `json:"iac"`
	Status   Status    `json:"status"`
	Findings []Finding `json:"findings"`
}

// Evaluate runs every control over the synthesized stacks of cfg (docs by
// stack name, as tfjson.ReadStacks returns them).
func Evaluate(cfg *config.Config, docs map[string][]byte) ([]Result, error) {
	s, err := load(cfg, docs)
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, c := range Controls() {
		r := Result{ID: c.ID, Title: c.Title, IaC: c.IaC}
		if !c.IaC {
			r.Status = Manual
			r.Findings = []Finding{{Status: Manual, Evidence: c.Note}}
			out = append(out, r)
			continue
		}
		r.Findings = c.eval(s)
		r.Status = overall(r.Findings)
		out = append(out, r)
	}
	return out, nil
}

func overall(fs []Finding) Status {
	st := NA
	for _, f := range fs {
		switch f.Status {
		case Fail:
			return Fail
		case Hold:
			st = Hold
		case Manual:
			if st == NA {
				st = Manual
			}
		}
	}
	return st
}

// Failures returns the IaC-expressible controls that fail.
func Failures(rs []Result) []Result {
	var out []Result
	for _, r := range rs {
		if r.IaC && r.Status == Fail {
			out = append(out, r)
		}
	}
	return out
}

func hold(scope, f string, a ...any) Finding {
	return Finding{Scope: scope, Status: Hold, Evidence: fmt.Sprintf(f, a...)}
}
func fail(scope, f string, a ...any) Finding {
	return Finding{Scope: scope, Status: Fail, Evidence: fmt.Sprintf(f, a...)}
}
func na(scope, f string, a ...any) Finding {
	return Finding{Scope: scope, Status: NA, Evidence: fmt.Sprintf(f, a...)}
}

func manual(id, title, note string) Control {
	return Control{ID: id, Title: title, Note: note}
}

func iac(id, title string, eval func(*set) []Finding) Control {
	return Control{ID: id, Title: title, IaC: true, eval: eval}
}

// Controls lists the CIS AWS Foundations Benchmark v3.0.0
// recommendations in order.
func Controls() []Control {
	cs := []Control{
		manual("1.1", "Maintain current contact details", "account contact details are set in the console by the root user"),
		manual("1.2", "Ensure security contact information is registered", "alternate contacts are set per account in the console (or aws account put-alternate-contact)"),
		manual("1.3", "Ensure security questions are registered in the AWS account", "root user setting, console only"),
		manual("1.4", "Ensure no 'root' user account access key exists", "root credentials are outside IaC; see help cis (credential report)"),
		manual("1.5", "Ensure MFA is enabled for the 'root' user account", "root credentials are outside IaC"),
		manual("1.6", "Ensure hardware MFA is enabled for the 'root' user account", "root credentials are outside IaC"),
		manual("1.7", "Eliminate use of the 'root' user for administrative and daily tasks", "a practice; control 4.3 alarms on root use"),
		iac("1.8", "Ensure IAM password policy requires minimum length of 14 or greater", passwordPolicy("minimum_password_length", 14)),
		iac("1.9", "Ensure IAM password policy prevents password reuse", passwordPolicy("password_reuse_prevention", 24)),
		iac("1.10", "Ensure MFA is enabled for all IAM users that have a console password", usersNeedMFA),
		iac("1.11", "Do not setup access keys during initial user setup for all IAM users that have a console password", noAccessKeys),
		manual("1.12", "Ensure credentials unused for 45 days or greater are disabled", "credential age is runtime state; see help cis (credential report)"),
		manual("1.13", "Ensure there is only one active access key available for any single IAM user", "access keys are created by users, not IaC (1.11 holds: IaC creates none)"),
		manual("1.14", "Ensure access keys are rotated every 90 days or less", "access key age is runtime state; see help cis (credential report)"),
		iac("1.15", "Ensure IAM Users Receive Permissions Only Through Groups", permissionsThroughGroups),
		iac("1.16", "Ensure IAM policies that allow full \"*:*\" administrative privileges are not attached", noStarStar),
		iac("1.17", "Ensure a support role has been created to manage incidents with AWS Support", supportRole),
		iac("1.18", "Ensure IAM instance roles are used for AWS resource access from instances", instanceRoles),
		manual("1.19", "Ensure that all the expired SSL/TLS certificates stored in AWS IAM are removed", "the stacks use ACM, not IAM server certificates; expiry is runtime state"),
		iac("1.20", "Ensure that IAM Access analyzer is enabled for all regions", perRegion("aws_accessanalyzer_analyzer", "IAM Access Analyzer", nil)),
		manual("1.21", "Ensure IAM users are managed centrally via identity federation or AWS Organizations for multi-account environments", "users live in the security account and assume roles into the others (help iam); a design review, not a resource"),
		iac("1.22", "Ensure access to AWSCloudShellFullAccess is restricted", noCloudShellFullAccess),

		iac("2.1.1", "Ensure S3 Bucket Policy is set to deny HTTP requests", bucketsDenyHTTP),
		manual("2.1.2", "Ensure MFA Delete is enabled on S3 buckets", "MFA delete can only be enabled by the root user with its MFA device; the log archive relies on versioning and Object Lock"),
		iac("2.1.3", "Ensure all data in Amazon S3 has been discovered, classified and secured when required (Macie)", macie),
		iac("2.1.4", "Ensure that S3 Buckets are configured with 'Block public access (bucket settings)'", blockPublicAccess),
		iac("2.2.1", "Ensure EBS volume encryption is enabled in all regions", perRegion("aws_ebs_encryption_by_default", "EBS encryption by default", func(_ *set, r *resource) string {
			if !r.boolean("enabled", true) {
				return "enabled = false"
			}
			return ""
		})),
		iac("2.3.1", "Ensure that encryption-at-rest is enabled for RDS Instances", rdsEncrypted),
		iac("2.3.2", "Ensure Auto Minor Version Upgrade feature is Enabled for RDS Instances", rdsMinorUpgrades),
		iac("2.3.3", "Ensure that public access is not given to RDS Instance", rdsNotPublic),
		iac("2.4.1", "Ensure that encryption is enabled for EFS file systems", efsEncrypted),

		iac("3.1", "Ensure CloudTrail is enabled in all regions", multiRegionTrail),
		iac("3.2", "Ensure CloudTrail log file validation is enabled", eachTrail(func(r *resource) string {
			if !r.boolean("enable_log_file_validation", false) {
				return "enable_log_file_validation is not true"
			}
			return ""
		}, "log file validation on")),
		iac("3.3", "Ensure AWS Config is enabled in all regions", configRecorders),
		iac("3.4", "Ensure that S3 Buckets access logging is enabled on the CloudTrail S3 bucket", trailBucketLogging),
		iac("3.5", "Ensure CloudTrail logs are encrypted at rest using KMS CMKs", eachTrail(func(r *resource) string {
			if r.str("kms_key_id") == "" {
				return "no kms_key_id"
			}
			return ""
		}, "KMS-encrypted")),
		iac("3.6", "Ensure rotation for customer-created symmetric CMKs is enabled", kmsRotation),
		iac("3.7", "Ensure VPC flow logging is enabled in all VPCs", flowLogs),
		iac("3.8", "Ensure that Object-level logging for write events is enabled for S3 bucket", s3DataEvents(false)),
		iac("3.9", "Ensure that Object-level logging for read events is enabled for S3 bucket", s3DataEvents(true)),
	}
	for _, m := range metricControls {
		cs = append(cs, iac(m.id, m.title, metricFilter(m)))
	}
	cs = append(cs,
		iac("4.16", "Ensure AWS Security Hub is enabled (subscribed to CIS AWS Foundations v3.0.0)", securityHub),
		iac("5.1", "Ensure no Network ACLs allow ingress from 0.0.0.0/0 to remote server administration ports", naclAdminPorts),
		iac("5.2", "Ensure no security groups allow ingress from 0.0.0.0/0 to remote server administration ports", sgAdminPorts("0.0.0.0/0")),
		iac("5.3", "Ensure no security groups allow ingress from ::/0 to remote server administration ports", sgAdminPorts("::/0")),
		iac("5.4", "Ensure the default security group of every VPC restricts all traffic", defaultSGs),
		iac("5.5", "Ensure routing tables for VPC peering are \"least access\"", peeringRoutes),
		iac("5.6", "Ensure that EC2 Metadata Service only allows IMDSv2", imdsv2),
	)
	return cs
}

// perAccount runs f for every account of the config.
func perAccount(s *set, f func(account string) Finding) []Finding {
	var out []Finding
	for _, a := range s.accounts() {
		out = append(out, f(a))
	}
	return out
}

func addrs(rs []*resource) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Addr())
	}
	return strings.Join(out, ", ")
}

// --- 1.x IAM ---

func passwordPolicy(attr string, min int) func(*set) []Finding {
	return func(s *set) []Finding {
		return perAccount(s, func(a string) Finding {
			ps := s.in(a, "", "aws_iam_account_password_policy")
			if len(ps) == 0 {
				return fail(a, "no aws_iam_account_password_policy in account %s", a)
			}
			p := ps[0]
			got := 0
			if v, ok := p.Attrs[attr].(float64); ok {
				got = int(v)
			}
			if got < min {
				return fail(a, "%s: %s = %d, want >= %d", p.Addr(), attr, got, min)
			}
			return hold(a, "%s: %s = %d", p.Addr(), attr, got)
		})
	}
}

// memberships maps each IAM user (by resource address in its stack) to its
// groups' resources.
func (s *set) userGroups(u *resource) []*resource {
	var out []*resource
	for _, m := range s.referrers(u, "aws_iam_user_group_membership", "user", "name") {
		for _, g := range s.of("aws_iam_group") {
			if g.Stack == u.Stack && refersTo(m.Attrs["groups"], g, "name") {
				out = append(out, g)
			}
		}
	}
	for _, g := range s.of("aws_iam_group") {
		for _, m := range s.referrers(g, "aws_iam_group_membership", "group", "name") {
			if refersTo(m.Attrs["users"], u, "name") {
				out = append(out, g)
			}
		}
	}
	return out
}

// deniesWithoutMFA reports whether a policy denies (all but self-service)
// to a session without MFA: a Deny statement conditioned on
// aws:MultiFactorAuthPresent being false.
func deniesWithoutMFA(pol any) bool {
	return anyDeny(pol, func(st statement) bool {
		for op, kv := range st.Condition {
			if op != "BoolIfExists" && op != "Bool" {
				continue
			}
			for k, v := range kv {
				if strings.EqualFold(k, "aws:MultiFactorAuthPresent") && slices.Contains(strs(v), "false") {
					return true
				}
			}
		}
		return false
	})
}

// anyDeny reports whether one of a policy's Deny statements satisfies f.
func anyDeny(pol any, f func(statement) bool) bool {
	d, ok := parsePolicy(pol)
	if !ok {
		return false
	}
	return slices.ContainsFunc(d.Statement, func(st statement) bool { return st.Effect == "Deny" && f(st) })
}

// usersNeedMFA: every IAM user is in a group whose attached or inline policy
// denies everything but MFA self-service until the user signs in with MFA.
func usersNeedMFA(s *set) []Finding {
	users := s.of("aws_iam_user")
	if len(users) == 0 {
		return []Finding{na("", "no IAM users")}
	}
	var out []Finding
	for _, u := range users {
		var via string
		for _, g := range s.userGroups(u) {
			for _, gp := range s.referrers(g, "aws_iam_group_policy", "group", "name") {
				if deniesWithoutMFA(gp.Attrs["policy"]) {
					via = gp.Addr()
				}
			}
			for _, at := range s.referrers(g, "aws_iam_group_policy_attachment", "group", "name") {
				for _, p := range s.of("aws_iam_policy") {
					if p.Stack == at.Stack && refersTo(at.Attrs["policy_arn"], p) && deniesWithoutMFA(p.Attrs["policy"]) {
						via = p.Addr() + " (through " + g.str("name") + ")"
					}
				}
			}
		}
		if via == "" {
			out = append(out, fail(u.Account, "%s: no group policy denies access without MFA", u.Addr()))
		} else {
			out = append(out, hold(u.Account, "%s: %s", u.Addr(), via))
		}
	}
	return out
}

func noAccessKeys(s *set) []Finding {
	if ks := s.of("aws_iam_access_key"); len(ks) > 0 {
		return []Finding{fail("", "access keys created in IaC: %s", addrs(ks))}
	}
	return []Finding{hold("", "no aws_iam_access_key in any stack (%d IAM users)", len(s.of("aws_iam_user")))}
}

func permissionsThroughGroups(s *set) []Finding {
	direct := s.of("aws_iam_user_policy", "aws_iam_user_policy_attachment")
	for _, p := range s.of("aws_iam_policy_attachment") {
		if len(strs(p.Attrs["users"])) > 0 {
			direct = append(direct, p)
		}
	}
	if len(direct) > 0 {
		return []Finding{fail("", "policies attached to users directly: %s", addrs(direct))}
	}
	return []Finding{hold("", "%d IAM users, %d group memberships, no user policies", len(s.of("aws_iam_user")), len(s.of("aws_iam_user_group_membership", "aws_iam_group_membership")))}
}

// grantsStarStar reports whether a statement allows every action on every
// resource.
func grantsStarStar(st statement) bool {
	if st.Effect != "Allow" || st.NotAction != nil {
		return false
	}
	acts := strs(st.Action)
	return (slices.Contains(acts, "*") || slices.Contains(acts, "*:*")) && slices.Contains(strs(st.Resource), "*")
}

// noStarStar: no customer-managed or inline policy allows "*" on "*" (the
// audit CIS 1.16 and Security Hub IAM.1 make), and AWS's
// AdministratorAccess is attached only to roles (the documented
// full-access role and the CI apply role, both assumed under conditions),
// never to a user or group.
func noStarStar(s *set) []Finding {
	var out []Finding
	n := 0
	for _, p := range s.of("aws_iam_policy", "aws_iam_role_policy", "aws_iam_group_policy", "aws_iam_user_policy") {
		d, ok := parsePolicy(p.Attrs["policy"])
		if !ok {
			continue
		}
		n++
		for _, st := range d.Statement {
			if grantsStarStar(st) {
				out = append(out, fail(p.Account, "%s allows \"*\" on \"*\" (statement %q)", p.Addr(), st.Sid))
			}
		}
	}
	var roles []string
	for _, at := range s.of("aws_iam_role_policy_attachment", "aws_iam_group_policy_attachment", "aws_iam_user_policy_attachment", "aws_iam_policy_attachment") {
		if !strings.HasSuffix(fmt.Sprint(at.Attrs["policy_arn"]), ":policy/AdministratorAccess") {
			continue
		}
		if at.Type != "aws_iam_role_policy_attachment" {
			out = append(out, fail(at.Account, "%s attaches AdministratorAccess to a user or group", at.Addr()))
			continue
		}
		name := fmt.Sprint(at.Attrs["role"])
		for _, r := range s.of("aws_iam_role") {
			if r.Stack == at.Stack && refersTo(at.Attrs["role"], r) {
				name = r.str("name")
			}
		}
		if !slices.Contains(roles, name) {
			roles = append(roles, name)
		}
	}
	if len(out) == 0 {
		sort.Strings(roles)
		out = append(out, hold("", "%d customer-managed and inline policies, none allows \"*\" on \"*\"; AWS AdministratorAccess on roles only: %s", n, strings.Join(roles, ", ")))
	}
	return out
}

func managedAttachments(s *set, account, policy string) []*resource {
	var out []*resource
	for _, t := range []string{"aws_iam_role_policy_attachment", "aws_iam_group_policy_attachment", "aws_iam_user_policy_attachment", "aws_iam_policy_attachment"} {
		for _, at := range s.in(account, "", t) {
			if strings.HasSuffix(fmt.Sprint(at.Attrs["policy_arn"]), ":policy/"+policy) {
				out = append(out, at)
			}
		}
	}
	// roles may carry managed policies inline too
	for _, r := range s.in(account, "", "aws_iam_role") {
		for _, arn := range strs(r.Attrs["managed_policy_arns"]) {
			if strings.HasSuffix(arn, ":policy/"+policy) {
				out = append(out, r)
			}
		}
	}
	return out
}

func supportRole(s *set) []Finding {
	return perAccount(s, func(a string) Finding {
		for _, at := range managedAttachments(s, a, "AWSSupportAccess") {
			if at.Type == "aws_iam_role_policy_attachment" || at.Type == "aws_iam_role" {
				return hold(a, "%s", at.Addr())
			}
		}
		return fail(a, "no role with AWSSupportAccess in account %s", a)
	})
}

// eachOf judges every resource of types with f; N/A, saying none, when
// there is none.
func eachOf(s *set, types []string, none string, f func(r *resource) Finding) []Finding {
	var out []Finding
	for _, r := range s.of(types...) {
		out = append(out, f(r))
	}
	if len(out) == 0 {
		return []Finding{na("", "%s", none)}
	}
	return out
}

// verdict is r's FAIL saying why, or its HOLD saying good when why is "".
func verdict(r *resource, why, good string) Finding {
	if why != "" {
		return fail(r.Account, "%s: %s", r.Addr(), why)
	}
	return hold(r.Account, "%s: %s", r.Addr(), good)
}

func instanceRoles(s *set) []Finding {
	return eachOf(s, []string{"aws_launch_template", "aws_instance", "aws_launch_configuration"}, "no EC2 instances or launch templates", func(r *resource) Finding {
		why := ""
		if r.Attrs["iam_instance_profile"] == nil {
			why = "no iam_instance_profile"
		}
		return verdict(r, why, "has an instance profile")
	})
}

func noCloudShellFullAccess(s *set) []Finding {
	var bad []*resource
	for _, a := range s.accounts() {
		bad = append(bad, managedAttachments(s, a, "AWSCloudShellFullAccess")...)
	}
	if len(bad) > 0 {
		return []Finding{fail("", "AWSCloudShellFullAccess attached: %s", addrs(bad))}
	}
	return []Finding{hold("", "AWSCloudShellFullAccess attached nowhere")}
}

// perRegion: every account has a resource of typ in every watched region
// (bad, if set, says why one does not count).
func perRegion(typ, what string, bad func(*set, *resource) string) func(*set) []Finding {
	return func(s *set) []Finding {
		var out []Finding
		for _, a := range s.accounts() {
			for _, region := range WatchedRegions(s.cfg) {
				scope := a + " " + region
				rs := s.in(a, region, typ)
				if len(rs) == 0 {
					out = append(out, fail(scope, "no %s (%s) in account %s, region %s", what, typ, a, region))
					continue
				}
				if bad != nil {
					if why := bad(s, rs[0]); why != "" {
						out = append(out, fail(scope, "%s: %s", rs[0].Addr(), why))
						continue
					}
				}
				out = append(out, hold(scope, "%s", rs[0].Addr()))
			}
		}
		return out
	}
}

// --- 2.x storage ---

// bucketName returns a bucket's literal name, or its address.
func bucketName(b *resource) string {
	if n := b.str("bucket"); n != "" {
		return n
	}
	return b.local()
}

// deniesInsecureTransport: a Deny for every principal conditioned on
// aws:SecureTransport = false, covering s3:* (or *).
func deniesInsecureTransport(pol any) bool {
	return anyDeny(pol, func(st statement) bool {
		acts := strs(st.Action)
		if !everyone(st.Principal) || (!slices.Contains(acts, "s3:*") && !slices.Contains(acts, "*")) {
			return false
		}
		for k, v := range st.Condition["Bool"] {
			if strings.EqualFold(k, "aws:SecureTransport") && (slices.Contains(strs(v), "false") || v == false) {
				return true
			}
		}
		return false
	})
}

func everyone(p any) bool {
	switch x := p.(type) {
	case string:
		return x == "*"
	case map[string]any:
		return slices.Contains(strs(x["AWS"]), "*")
	}
	return false
}

func eachBucket(s *set, f func(b *resource) Finding) []Finding {
	bs := s.of("aws_s3_bucket")
	if len(bs) == 0 {
		return []Finding{na("", "no S3 buckets")}
	}
	var out []Finding
	for _, b := range bs {
		out = append(out, f(b))
	}
	return out
}

func bucketsDenyHTTP(s *set) []Finding {
	return eachBucket(s, func(b *resource) Finding {
		if ps := s.referrers(b, "aws_s3_bucket_policy", "bucket", "bucket"); len(ps) > 0 {
			p := ps[0]
			if deniesInsecureTransport(p.Attrs["policy"]) {
				return hold(b.Account, "%s: %s denies aws:SecureTransport=false", bucketName(b), p.Addr())
			}
			return fail(b.Account, "%s: %s has no Deny on aws:SecureTransport=false", bucketName(b), p.Addr())
		}
		return fail(b.Account, "%s (%s) has no bucket policy", bucketName(b), b.Addr())
	})
}

func macie(s *set) []Finding {
	if !s.cfg.Baseline.Macie {
		// Macie is an option, off by default (it bills per bucket and per
		// GB): CIS itself marks 2.1.3 manual, and with the option off
		// that is what it is, an operator's documented decision, not a HOLD.
		return []Finding{{Status: Manual, Evidence: "baseline.macie is off: sensitive-data discovery is the operator's decision (help/security-baseline.md); set baseline.macie: true to run Macie in every account"}}
	}
	return perAccount(s, func(a string) Finding {
		bs := s.in(a, "", "aws_s3_bucket")
		if len(bs) == 0 {
			return na(a, "no S3 buckets in account %s", a)
		}
		if ms := s.in(a, "", "aws_macie2_account"); len(ms) > 0 {
			if st := ms[0].str("status"); st == "PAUSED" {
				return fail(a, "%s: status PAUSED", ms[0].Addr())
			}
			return hold(a, "%s", ms[0].Addr())
		}
		return fail(a, "no Macie (aws_macie2_account) in account %s, which holds %d buckets", a, len(bs))
	})
}

func blockPublicAccess(s *set) []Finding {
	all4 := func(r *resource) bool {
		for _, k := range []string{"block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"} {
			if !r.boolean(k, false) {
				return false
			}
		}
		return true
	}
	out := perAccount(s, func(a string) Finding {
		if rs := s.in(a, "", "aws_s3_account_public_access_block"); len(rs) > 0 {
			r := rs[0]
			if all4(r) {
				return hold(a, "%s: all four settings on", r.Addr())
			}
			return fail(a, "%s: not all four settings on", r.Addr())
		}
		return fail(a, "no aws_s3_account_public_access_block in account %s", a)
	})
	return append(out, eachBucket(s, func(b *resource) Finding {
		if ps := s.referrers(b, "aws_s3_bucket_public_access_block", "bucket", "bucket"); len(ps) > 0 {
			p := ps[0]
			if all4(p) {
				return hold(b.Account, "%s: %s", bucketName(b), p.Addr())
			}
			return fail(b.Account, "%s: %s has a setting off", bucketName(b), p.Addr())
		}
		return fail(b.Account, "%s (%s) has no aws_s3_bucket_public_access_block", bucketName(b), b.Addr())
	})...)
}

// rdsCluster returns the aws_rds_cluster an instance belongs to, if any.
func (s *set) rdsCluster(i *resource) *resource {
	for _, c := range s.of("aws_rds_cluster") {
		if c.Stack == i.Stack && refersTo(i.Attrs["cluster_identifier"], c, "cluster_identifier") {
			return c
		}
	}
	return nil
}

func eachRDS(s *set, types []string, f func(r *resource) Finding) []Finding {
	return eachOf(s, types, "no RDS databases", f)
}

func rdsEncrypted(s *set) []Finding {
	return eachRDS(s, []string{"aws_rds_cluster", "aws_db_instance"}, func(r *resource) Finding {
		if r.boolean("storage_encrypted", false) {
			return hold(r.Account, "%s: storage_encrypted", r.Addr())
		}
		if r.Type == "aws_db_instance" {
			if c := s.rdsCluster(r); c != nil && c.boolean("storage_encrypted", false) {
				return hold(r.Account, "%s: in encrypted cluster %s", r.Addr(), c.local())
			}
		}
		return fail(r.Account, "%s: storage_encrypted is not true", r.Addr())
	})
}

func rdsMinorUpgrades(s *set) []Finding {
	return eachRDS(s, []string{"aws_rds_cluster_instance", "aws_db_instance"}, func(r *resource) Finding {
		if !r.boolean("auto_minor_version_upgrade", true) {
			return fail(r.Account, "%s: auto_minor_version_upgrade = false", r.Addr())
		}
		return hold(r.Account, "%s: auto_minor_version_upgrade on", r.Addr())
	})
}

func rdsNotPublic(s *set) []Finding {
	return eachRDS(s, []string{"aws_rds_cluster_instance", "aws_db_instance"}, func(r *resource) Finding {
		if r.boolean("publicly_accessible", false) {
			return fail(r.Account, "%s: publicly_accessible = true", r.Addr())
		}
		return hold(r.Account, "%s: not publicly accessible", r.Addr())
	})
}

func efsEncrypted(s *set) []Finding {
	return eachOf(s, []string{"aws_efs_file_system"}, "no EFS file systems", func(r *resource) Finding {
		why := ""
		if !r.boolean("encrypted", false) {
			why = "encrypted is not true"
		}
		return verdict(r, why, "encrypted")
	})
}

// --- 3.x logging ---

// logsManagementEvents: the trail records read and write management
// events (no selectors: the default; classic selectors: include management
// events, read_write_type All; advanced: an eventCategory = Management
// selector without a readOnly restriction).
func logsManagementEvents(t *resource) bool {
	adv := blocks(t.Attrs["advanced_event_selector"])
	cls := blocks(t.Attrs["event_selector"])
	if len(adv) == 0 && len(cls) == 0 {
		return true
	}
	for _, e := range cls {
		rw, _ := e["read_write_type"].(string)
		if asBool(e["include_management_events"], true) && (rw == "" || rw == "All") {
			return true
		}
	}
	for _, sel := range adv {
		mgmt, readOnly := false, false
		for _, f := range blocks(sel["field_selector"]) {
			switch f["field"] {
			case "eventCategory":
				mgmt = slices.Contains(strs(f["equals"]), "Management")
			case "readOnly":
				readOnly = true
			}
		}
		if mgmt && !readOnly {
			return true
		}
	}
	return false
}

func multiRegionTrail(s *set) []Finding {
	good := func(t *resource) string {
		switch {
		case !t.boolean("is_multi_region_trail", false):
			return "is_multi_region_trail is not true"
		case !t.boolean("enable_logging", true):
			return "enable_logging = false"
		case !t.boolean("include_global_service_events", true):
			return "include_global_service_events = false"
		case !logsManagementEvents(t):
			return "does not record all management events"
		}
		return ""
	}
	var org *resource
	for _, t := range s.of("aws_cloudtrail") {
		if t.boolean("is_organization_trail", false) && good(t) == "" {
			org = t
		}
	}
	return perAccount(s, func(a string) Finding {
		ts := s.in(a, "", "aws_cloudtrail")
		var why []string
		for _, t := range ts {
			if w := good(t); w == "" {
				return hold(a, "%s: multi-region, management events read and write", t.Addr())
			} else {
				why = append(why, t.Addr()+": "+w)
			}
		}
		if org != nil {
			return hold(a, "organization trail %s", org.Addr())
		}
		if len(why) > 0 {
			return fail(a, "%s", strings.Join(why, "; "))
		}
		return fail(a, "no CloudTrail trail in account %s", a)
	})
}

func eachTrail(bad func(*resource) string, good string) func(*set) []Finding {
	return func(s *set) []Finding {
		var out []Finding
		for _, t := range s.of("aws_cloudtrail") {
			out = append(out, verdict(t, bad(t), good))
		}
		if len(out) == 0 {
			return []Finding{fail("", "no CloudTrail trail")}
		}
		return out
	}
}

// configRecorders: in every account and watched region, a recorder of
// every resource type (global ones at home), enabled, with a delivery
// channel.
var configRecorders = perRegion("aws_config_configuration_recorder", "AWS Config recorder", func(s *set, r *resource) string {
	g := first(r.Attrs["recording_group"])
	switch {
	case g != nil && !asBool(g["all_supported"], true):
		return "recording_group.all_supported = false"
	case g != nil && r.Region == s.cfg.Region && !asBool(g["include_global_resource_types"], false):
		return "global resource types not recorded in the home region"
	case !slices.ContainsFunc(s.in(r.Account, r.Region, "aws_config_configuration_recorder_status"), func(st *resource) bool { return asBool(st.Attrs["is_enabled"], false) }):
		return "no enabled aws_config_configuration_recorder_status"
	case len(s.in(r.Account, r.Region, "aws_config_delivery_channel")) == 0:
		return "no delivery channel"
	}
	return ""
})

// bucketByName finds the bucket resource named name in any stack.
func (s *set) bucketByName(name string) *resource {
	for _, b := range s.of("aws_s3_bucket") {
		if b.str("bucket") == name {
			return b
		}
	}
	return nil
}

func trailBucketLogging(s *set) []Finding {
	seen := map[string]bool{}
	var out []Finding
	for _, t := range s.of("aws_cloudtrail") {
		name := t.str("s3_bucket_name")
		if seen[name] {
			continue
		}
		seen[name] = true
		b := s.bucketByName(name)
		if b == nil {
			out = append(out, fail(t.Account, "%s: bucket %q is not in the stacks", t.Addr(), name))
			continue
		}
		if ls := s.referrers(b, "aws_s3_bucket_logging", "bucket", "bucket"); len(ls) > 0 {
			out = append(out, hold(b.Account, "%s: %s", name, ls[0].Addr()))
		} else {
			out = append(out, fail(b.Account, "%s (%s) has no aws_s3_bucket_logging", name, b.Addr()))
		}
	}
	if len(out) == 0 {
		return []Finding{fail("", "no CloudTrail trail")}
	}
	return out
}

func kmsRotation(s *set) []Finding {
	var out []Finding
	for _, k := range s.of("aws_kms_key") {
		spec := k.str("customer_master_key_spec")
		if spec != "" && spec != "SYMMETRIC_DEFAULT" {
			continue
		}
		if !k.boolean("enable_key_rotation", false) {
			out = append(out, fail(k.Account, "%s: enable_key_rotation is not true", k.Addr()))
		}
	}
	n := len(s.of("aws_kms_key"))
	if len(out) == 0 {
		return []Finding{hold("", "all %d symmetric KMS keys rotate", n)}
	}
	return out
}

func flowLogs(s *set) []Finding {
	var out []Finding
	for _, v := range s.of("aws_vpc") {
		fl := s.referrers(v, "aws_flow_log", "vpc_id")
		if len(fl) == 0 {
			out = append(out, fail(v.Account, "%s has no aws_flow_log", v.Addr()))
			continue
		}
		tt := fl[0].str("traffic_type")
		if tt != "ALL" && tt != "REJECT" {
			out = append(out, fail(v.Account, "%s: traffic_type %q", fl[0].Addr(), tt))
			continue
		}
		out = append(out, hold(v.Account, "%s: %s (%s)", v.Addr(), fl[0].local(), tt))
	}
	if len(out) == 0 {
		return []Finding{na("", "no VPCs")}
	}
	return out
}

// trailLogsObjects reports whether trail t records S3 object-level events
// (reads when read, else writes) for bucket b, and whether a data event
// selector of t that would otherwise record them excludes b by its ARN
// (resources.ARN not_starts_with).
func trailLogsObjects(t, b *resource, read bool) (logged, excluded bool) {
	want := "s3:::" + bucketName(b) + "/"
	covers := func(v string) bool {
		if tfjson.Ref(strings.TrimSuffix(v, "/")) == b.local() || strings.Contains(v, "${"+b.local()+".") {
			return true
		}
		// partition-neutral: compare what follows "arn:<partition>:";
		// CloudTrail matches values as prefixes ("arn:<p>:s3" is every bucket)
		_, rest, ok := strings.Cut(strings.TrimPrefix(v, "arn:"), ":")
		return ok && strings.HasPrefix(v, "arn:") && strings.HasPrefix(want, rest)
	}
	for _, e := range blocks(t.Attrs["event_selector"]) {
		rw, _ := e["read_write_type"].(string)
		if rw == "" {
			rw = "All"
		}
		if rw != "All" && (rw == "ReadOnly") != read {
			continue
		}
		for _, dr := range blocks(e["data_resource"]) {
			if dr["type"] != "AWS::S3::Object" {
				continue
			}
			for _, v := range strs(dr["values"]) {
				if covers(v) {
					return true, false
				}
			}
		}
	}
	for _, sel := range blocks(t.Attrs["advanced_event_selector"]) {
		data, s3obj, readOK, arnOK, out := false, false, true, true, false
		for _, f := range blocks(sel["field_selector"]) {
			switch f["field"] {
			case "eventCategory":
				data = slices.Contains(strs(f["equals"]), "Data")
			case "resources.type":
				s3obj = slices.Contains(strs(f["equals"]), "AWS::S3::Object")
			case "readOnly":
				eq := strs(f["equals"])
				readOK = len(eq) == 0 || slices.Contains(eq, fmt.Sprint(read))
			case "resources.ARN":
				// The conditions of one field are ANDed: an inclusion list,
				// if any, must cover the bucket, and no not_starts_with
				// prefix may (a prefix ending in "/" or shorter covers
				// every object of the bucket).
				if in := append(strs(f["starts_with"]), strs(f["equals"])...); len(in) > 0 {
					arnOK = slices.ContainsFunc(in, covers)
				}
				if slices.ContainsFunc(strs(f["not_starts_with"]), covers) {
					out = true
				}
			}
		}
		if data && s3obj && readOK && arnOK {
			if !out {
				return true, false
			}
			excluded = true
		}
	}
	return false, excluded
}

func s3DataEvents(read bool) func(*set) []Finding {
	kind := "write"
	if read {
		kind = "read"
	}
	return func(s *set) []Finding {
		return eachBucket(s, func(b *resource) Finding {
			var exempt []string
			for _, t := range s.of("aws_cloudtrail") {
				if t.Account != b.Account && !t.boolean("is_organization_trail", false) {
					continue
				}
				logged, excluded := trailLogsObjects(t, b, read)
				if logged {
					return hold(b.Account, "%s: %s logs object-level %s events", bucketName(b), t.Addr(), kind)
				}
				// The one documented exemption: the bucket the trails
				// deliver to, which a trail's data events would log in a
				// loop (AWS's warning). Only when a trail excludes it
				// explicitly and it is a trail's delivery bucket.
				if excluded && s.trailDeliveryBucket(bucketName(b)) {
					exempt = append(exempt, t.Addr())
				}
			}
			if len(exempt) > 0 {
				lock := "not under Object Lock"
				if ls := s.referrers(b, "aws_s3_bucket_object_lock_configuration", "bucket", "bucket"); len(ls) > 0 {
					lock = "under Object Lock (" + ls[0].Addr() + ")"
				}
				return Finding{Scope: b.Account, Status: Manual, Evidence: fmt.Sprintf("%s (%s): the trails' delivery bucket, excluded from %s's data events (resources.ARN not_starts_with) because logging its own deliveries would loop (help/security-baseline.md); its log files are signed (3.2) and %s", bucketName(b), b.Addr(), exempt[0], lock)}
			}
			return fail(b.Account, "%s (%s): no trail logs its object-level %s events", bucketName(b), b.Addr(), kind)
		})
	}
}

// --- 4.16, 5.x ---

// securityHub: in every account and watched region, Security Hub on and
// subscribed to CIS v3.0.0.
var securityHub = perRegion("aws_securityhub_account", "Security Hub", func(s *set, hub *resource) string {
	var cis []string
	for _, sub := range s.in(hub.Account, hub.Region, "aws_securityhub_standards_subscription") {
		if arn := sub.str("standards_arn"); strings.Contains(arn, "cis-aws-foundations-benchmark") {
			if strings.HasSuffix(arn, "/v/3.0.0") {
				return ""
			}
			cis = append(cis, arn[strings.LastIndex(arn, "/")+1:])
		}
	}
	return fmt.Sprintf("not subscribed to CIS v3.0.0 (CIS versions: %v)", cis)
})

var adminPorts = []int{22, 3389}

// internet are sample source addresses on the internet (documentation
// ranges and a public resolver), one per family at least.
var internet = []netip.Addr{netip.MustParseAddr("203.0.113.10"), netip.MustParseAddr("198.51.100.20"), netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("2001:db8::10"), netip.MustParseAddr("2606:4700::1111")}

func tcpMatches(proto any, from, to any, port int) bool {
	p := fmt.Sprint(proto)
	if p == "-1" || p == "all" {
		return true
	}
	if p != "tcp" && p != "6" {
		return false
	}
	lo, hi := numOf(from), numOf(to)
	return lo <= port && port <= hi
}

func naclAdminPorts(s *set) []Finding {
	type rule struct {
		no    int
		allow bool
		cidr  string
		proto any
		from  any
		to    any
	}
	var out []Finding
	for _, acl := range s.of("aws_network_acl", "aws_default_network_acl") {
		var rules []rule
		for _, in := range blocks(acl.Attrs["ingress"]) {
			c, _ := in["cidr_block"].(string)
			if c6, _ := in["ipv6_cidr_block"].(string); c6 != "" {
				c = c6
			}
			rules = append(rules, rule{numOf(in["rule_no"]), in["action"] == "allow", c, in["protocol"], in["from_port"], in["to_port"]})
		}
		for _, r := range s.referrers(acl, "aws_network_acl_rule", "network_acl_id") {
			if r.boolean("egress", false) {
				continue
			}
			c := r.str("cidr_block")
			if c6 := r.str("ipv6_cidr_block"); c6 != "" {
				c = c6
			}
			rules = append(rules, rule{numOf(r.Attrs["rule_number"]), r.str("rule_action") == "allow", c, r.Attrs["protocol"], r.Attrs["from_port"], r.Attrs["to_port"]})
		}
		sort.Slice(rules, func(i, j int) bool { return rules[i].no < rules[j].no })
		var open []string
		for _, port := range adminPorts {
			for _, src := range internet {
				for _, r := range rules {
					pfx, err := netip.ParsePrefix(r.cidr)
					if err != nil || !pfx.Contains(src) || !tcpMatches(r.proto, r.from, r.to, port) {
						continue
					}
					if r.allow {
						open = append(open, fmt.Sprintf("rule %d allows %s to port %d", r.no, r.cidr, port))
					}
					break
				}
			}
		}
		if len(open) > 0 {
			out = append(out, fail(acl.Account, "%s: %s", acl.Addr(), strings.Join(slices.Compact(open), "; ")))
		} else {
			out = append(out, hold(acl.Account, "%s: ports %v closed to the internet", acl.Addr(), adminPorts))
		}
	}
	if len(out) == 0 {
		return []Finding{na("", "no network ACLs")}
	}
	return out
}

func sgAdminPorts(anywhere string) func(*set) []Finding {
	return func(s *set) []Finding {
		var bad []string
		n := 0
		check := func(addr string, cidrs []string, proto, from, to any) {
			n++
			if !slices.Contains(cidrs, anywhere) {
				return
			}
			for _, p := range adminPorts {
				if tcpMatches(proto, from, to, p) {
					bad = append(bad, fmt.Sprintf("%s allows %s to port %d", addr, anywhere, p))
				}
			}
		}
		for _, r := range s.of("aws_vpc_security_group_ingress_rule") {
			check(r.Addr(), []string{r.str("cidr_ipv4"), r.str("cidr_ipv6")}, r.Attrs["ip_protocol"], r.Attrs["from_port"], r.Attrs["to_port"])
		}
		for _, r := range s.of("aws_security_group_rule") {
			if r.str("type") == "ingress" {
				check(r.Addr(), append(strs(r.Attrs["cidr_blocks"]), strs(r.Attrs["ipv6_cidr_blocks"])...), r.Attrs["protocol"], r.Attrs["from_port"], r.Attrs["to_port"])
			}
		}
		for _, g := range s.of("aws_security_group", "aws_default_security_group") {
			for _, in := range blocks(g.Attrs["ingress"]) {
				check(g.Addr(), append(strs(in["cidr_blocks"]), strs(in["ipv6_cidr_blocks"])...), in["protocol"], in["from_port"], in["to_port"])
			}
		}
		if len(bad) > 0 {
			return []Finding{fail("", "%s", strings.Join(bad, "; "))}
		}
		return []Finding{hold("", "%d ingress rules, none opens %v to %s", n, adminPorts, anywhere)}
	}
}

func defaultSGs(s *set) []Finding {
	var out []Finding
	// The landing zone's VPCs and the default VPC of each watched region.
	for _, v := range s.of("aws_vpc", "aws_default_vpc") {
		ds := s.referrers(v, "aws_default_security_group", "vpc_id")
		if len(ds) == 0 {
			out = append(out, fail(v.Account, "%s: default security group not managed (AWS's default allows traffic within it and all egress)", v.Addr()))
			continue
		}
		d := ds[0]
		if len(blocks(d.Attrs["ingress"])) > 0 || len(blocks(d.Attrs["egress"])) > 0 {
			out = append(out, fail(v.Account, "%s has rules", d.Addr()))
			continue
		}
		out = append(out, hold(v.Account, "%s: no rules", d.Addr()))
	}
	if len(out) == 0 {
		return []Finding{na("", "no VPCs")}
	}
	return out
}

// peeringRoutes: every route through a peering connection goes to a
// prefix inside a VPC of the config, never a default route.
func peeringRoutes(s *set) []Finding {
	var vpcs []netip.Prefix
	for _, v := range s.of("aws_vpc") {
		if p, err := netip.ParsePrefix(v.str("cidr_block")); err == nil {
			vpcs = append(vpcs, p)
		}
	}
	var out []Finding
	for _, r := range s.of("aws_route") {
		if r.Attrs["vpc_peering_connection_id"] == nil {
			continue
		}
		dst := r.str("destination_cidr_block")
		if dst == "" {
			dst = r.str("destination_ipv6_cidr_block")
		}
		p, err := netip.ParsePrefix(dst)
		inside := false
		for _, v := range vpcs {
			if err == nil && v.Bits() <= p.Bits() && v.Contains(p.Addr()) {
				inside = true
			}
		}
		if !inside {
			out = append(out, fail(r.Account, "%s: peering route to %s, which is not inside a VPC of the config", r.Addr(), dst))
		}
	}
	n := 0
	for _, r := range s.of("aws_route") {
		if r.Attrs["vpc_peering_connection_id"] != nil {
			n++
		}
	}
	if n == 0 {
		return []Finding{na("", "no VPC peering routes")}
	}
	if len(out) == 0 {
		return []Finding{hold("", "%d peering routes, each to a peer VPC's range", n)}
	}
	return out
}

func imdsv2(s *set) []Finding {
	return eachOf(s, []string{"aws_launch_template", "aws_instance"}, "no EC2 instances or launch templates", func(r *resource) Finding {
		why := ""
		if m := first(r.Attrs["metadata_options"]); m == nil || m["http_tokens"] != "required" {
			why = `metadata_options.http_tokens is not "required"`
		}
		return verdict(r, why, "IMDSv2 required")
	})
}

func blocks(v any) []map[string]any { return tfjson.Blocks(v) }

// first returns the first of a nested block, or nil.
func first(v any) map[string]any {
	if bs := tfjson.Blocks(v); len(bs) > 0 {
		return bs[0]
	}
	return nil
}

func numOf(v any) int { return tfjson.Num(v) }

// trailDeliveryBucket reports whether some trail delivers its log files to
// the bucket named name.
func (s *set) trailDeliveryBucket(name string) bool {
	for _, t := range s.of("aws_cloudtrail") {
		if t.str("s3_bucket_name") == name {
			return true
		}
	}
	return false
}
