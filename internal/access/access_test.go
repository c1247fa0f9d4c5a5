package access

import (
	"slices"
	"strings"
	"testing"
)

func keyARN(alias string) string {
	if alias == "alias/vpn-pki" {
		return "arn:aws:kms:eu-west-1:123456789012:key/pki"
	}
	return "UNRESOLVED(" + alias + ")"
}

// TestS3CommandsReadWhatTheScriptSends covers the boot script forms the
// VPN server's uploads take: plain copies, variables set from `aws kms
// describe-key`, and a shell function with positional parameters called
// directly and as a subcommand of a script the user data writes.
func TestS3CommandsReadWhatTheScriptSends(t *testing.T) {
	script := `#!/bin/bash
BUCKET=pki-bucket
REGION=eu-west-1
if aws s3 cp "s3://$BUCKET/pki/pki.tar.gz" /tmp/pki.tar.gz --region "$REGION"; then
  true
fi
aws s3 cp /tmp/x "s3://pki-bucket/pki/old.tar.gz" --sse aws:kms
aws s3 cp /tmp/y "s3://pki-bucket/profiles/$user.ovpn" --sse AES256 # a comment
KEY=$(aws kms describe-key --key-id alias/vpn-pki --query KeyMetadata.Arn --output text)
aws s3 cp /tmp/z "s3://pki-bucket/pki/new.tar.gz" --sse aws:kms --sse-kms-key-id "$KEY"
aws s3 cp /tmp/w "s3://other-bucket/x" --sse AES256
cat > /usr/local/sbin/lz-pki <<'SCRIPT'
put() {
  local key
  key=$(aws kms describe-key --key-id alias/vpn-pki --region "$REGION" --query KeyMetadata.Arn --output text)
  aws s3 cp "$1" "s3://$BUCKET/$2" --region "$REGION" --sse aws:kms --sse-kms-key-id "$key"
}
exists x || put "$file" pki/ca.key
case $1 in
  put) put "$2" "$3" ;;
esac
SCRIPT
lz-pki put "$profile" "profiles/$user.ovpn"
aws s3 rm "s3://pki-bucket/profiles/$user.ovpn" || true
`
	got := s3Commands(script, "pki-bucket", keyARN)
	var lines []string
	for _, c := range got {
		lines = append(lines, c.Verb+" "+c.Key+" sse="+c.SSE+" key="+c.KMSKey)
	}
	want := []string{
		"get pki/pki.tar.gz sse= key=",
		"put pki/old.tar.gz sse=aws:kms key=",
		"put profiles/$user.ovpn sse=AES256 key=",
		"put pki/new.tar.gz sse=aws:kms key=arn:aws:kms:eu-west-1:123456789012:key/pki",
		"put pki/ca.key sse=aws:kms key=arn:aws:kms:eu-west-1:123456789012:key/pki",
		"put profiles/$user.ovpn sse=aws:kms key=arn:aws:kms:eu-west-1:123456789012:key/pki",
		"delete profiles/$user.ovpn sse= key=",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("got\n  %s\nwant\n  %s", strings.Join(lines, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestShellWordsKeepQuotesAndSubstitutionsTogether(t *testing.T) {
	got := shellWords(`aws s3 cp "a b" 's3://x/$y' --sse-kms-key-id "$(aws kms describe-key --key-id k)" || true; echo # c`)
	want := []string{"aws", "s3", "cp", "a b", "s3://x/$y", "--sse-kms-key-id", "$(aws kms describe-key --key-id k)", "||", "true", ";", "echo"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestResolveTurnsReferencesIntoWhatAWSSees: references become ARNs from
// names and the account, IDs AWS makes up become stable placeholders, and
// Terraform's "$${" escape becomes "${".
func TestResolveTurnsReferencesIntoWhatAWSSees(t *testing.T) {
	st := &Stack{Name: "dev", AccountID: "123456789012", Region: "eu-west-1", Resources: map[string]map[string]map[string]any{
		"aws_iam_role":  {"r": {"name": "app-task"}},
		"aws_s3_bucket": {"b": {"bucket": "logs-123456789012"}},
		"aws_kms_key":   {"k": {}},
	}}
	in := `{"a":"${aws_iam_role.r.arn}","b":"${aws_s3_bucket.b.arn}/*","c":"profiles/$${aws:username}","d":"${aws_kms_key.k.arn}","e":"${aws_lb.x.arn}"}`
	out := st.Resolve(in)
	for _, want := range []string{`"arn:aws:iam::123456789012:role/app-task"`, `"arn:aws:s3:::logs-123456789012/*"`, `"profiles/${aws:username}"`,
		`"arn:aws:kms:eu-west-1:123456789012:key/` + st.Placeholder("aws_kms_key", "k", 32) + `"`, `UNRESOLVED(aws_lb.x.arn)`} {
		if !strings.Contains(out, want) {
			t.Errorf("Resolve(%s) = %s, want it to contain %s", in, out, want)
		}
	}
	again := &Stack{Name: "dev"}
	if again.Placeholder("aws_kms_key", "k", 32) != st.Placeholder("aws_kms_key", "k", 32) || st.Placeholder("aws_kms_key", "k", 32) == st.Placeholder("aws_kms_key", "j", 32) {
		t.Error("placeholders must be stable and distinct")
	}
}

// TestQuestionAnswersFollowTheirIntent: all steps must be allowed for one
// thing done together, any allowed step allows alternatives, and an error
// counts against the intent either way.
func TestQuestionAnswersFollowTheirIntent(t *testing.T) {
	pr := &Principal{Label: "p"}
	step := func(r string) *Step { return &Step{Principal: pr, Action: "s3:GetObject", Resource: "arn", Result: r} }
	cases := []struct {
		name  string
		q     Question
		pass  bool
		inDet string
	}{
		{"a read allowed in every step", Question{Want: true, Steps: []*Step{step("Allowed"), step("Allowed")}}, true, "all 2 requests allowed"},
		{"a read whose decryption is denied", Question{Want: true, Steps: []*Step{step("Allowed"), step("ImplicitlyDenied")}}, false, "is denied"},
		{"a forbidden read denied in one step", Question{Want: false, Steps: []*Step{step("Allowed"), step("ExplicitlyDenied")}}, true, "is denied"},
		{"alternatives all denied", Question{Want: false, AnyOf: true, Steps: []*Step{step("ImplicitlyDenied"), step("ExplicitlyDenied")}}, true, "all 2 requests denied"},
		{"one alternative allowed", Question{Want: false, AnyOf: true, Steps: []*Step{step("ImplicitlyDenied"), step("Allowed")}}, false, "is allowed"},
		{"an error on a forbidden question", Question{Want: false, Steps: []*Step{step("Error")}}, false, "p: s3:GetObject on arn"},
		{"a fact that holds", Question{Want: true}, true, "holds"},
		{"a fact that does not hold", Question{Want: true, Problem: "no such role"}, false, "no such role"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.q.Pass() != c.pass || !strings.Contains(c.q.Detail(), c.inDet) {
				t.Errorf("pass = %v (want %v), detail %q (want it to contain %q)", c.q.Pass(), c.pass, c.q.Detail(), c.inDet)
			}
		})
	}
}

func TestVendoredPoliciesAreTheOnesTheyClaim(t *testing.T) {
	for _, name := range VendoredPolicies() {
		arn := "arn:aws:iam::aws:policy/" + name
		switch name {
		case "Billing":
			arn = "arn:aws:iam::aws:policy/job-function/Billing"
		case "AmazonRDSEnhancedMonitoringRole", "AmazonEC2ContainerServiceforEC2Role", "AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores":
			arn = "arn:aws:iam::aws:policy/service-role/" + name
		}
		m, err := managedPolicy(arn)
		if err != nil {
			t.Error(err)
			continue
		}
		if m.VersionId == "" || m.Source.Repository == "" || len(m.Source.Commit) != 40 || m.Document == nil {
			t.Errorf("%s: want a version, a source repository and commit, and a document: %+v", name, m)
		}
	}
	if _, err := managedPolicy("arn:aws:iam::aws:policy/NotVendored"); err == nil || !strings.Contains(err.Error(), "internal/access/managed") {
		t.Errorf("an unvendored policy must say where to add it: %v", err)
	}
}
