// Package iam builds IAM policy documents as JSON in Go. Policies are plain
// data, so computing them here keeps them deterministic and costs no jsii
// round-trips; ARNs are built from config rather than read back as tokens.
package iam

import (
	"encoding/json"
	"slices"

	"github.com/acme/landing-zone/internal/awsenv"
)

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one policy statement. Maps marshal with sorted keys, so the
// JSON is stable.
type Statement struct {
	Sid       string              `json:"Sid,omitempty"`
	Effect    string              `json:"Effect"`
	Principal map[string][]string `json:"Principal,omitempty"`
	Action    []string            `json:"Action,omitempty"`
	NotAction []string            `json:"NotAction,omitempty"`
	Resource  []string            `json:"Resource,omitempty"`
	// NotResource matches every resource but these (in a bucket or key
	// policy: every other resource of that bucket or key).
	NotResource []string                       `json:"NotResource,omitempty"`
	Condition   map[string]map[string][]string `json:"Condition,omitempty"`
}

// Policy returns a document holding the statements.
func Policy(st ...Statement) Document {
	return Document{Version: "2012-10-17", Statement: st}
}

// JSON renders the document.
func (d Document) JSON() string {
	b, err := json.Marshal(d)
	if err != nil {
		panic("iam: policy does not marshal: " + err.Error()) // plain data: cannot happen
	}
	return string(b)
}

// Allow grants actions on resources.
func Allow(sid string, actions []string, resources ...string) Statement {
	return Statement{Sid: sid, Effect: "Allow", Action: slices.Sorted(slices.Values(actions)), Resource: resources}
}

// Deny denies actions on resources.
func Deny(sid string, actions []string, resources ...string) Statement {
	return Statement{Sid: sid, Effect: "Deny", Action: slices.Sorted(slices.Values(actions)), Resource: resources}
}

// DenyExcept denies actions on every resource but the listed ones.
func DenyExcept(sid string, actions []string, notResources ...string) Statement {
	return Statement{Sid: sid, Effect: "Deny", Action: slices.Sorted(slices.Values(actions)), NotResource: notResources}
}

// When returns s with a condition added.
func (s Statement) When(operator, key string, values ...string) Statement {
	c := map[string]map[string][]string{}
	for op, kv := range s.Condition {
		c[op] = map[string][]string{}
		for k, v := range kv {
			c[op][k] = v
		}
	}
	if c[operator] == nil {
		c[operator] = map[string][]string{}
	}
	c[operator][key] = values
	s.Condition = c
	return s
}

// For returns s with a principal of the given type ("Service", "AWS", ...).
func (s Statement) For(kind string, principals ...string) Statement {
	p := map[string][]string{}
	for k, v := range s.Principal {
		p[k] = v
	}
	p[kind] = principals
	s.Principal = p
	return s
}

// ServiceTrust is an assume-role policy for an AWS service, limited to
// calls made on behalf of the given account (the confused-deputy guard).
func ServiceTrust(service, accountID string) Document {
	return Policy(Statement{Effect: "Allow", Action: []string{"sts:AssumeRole"}}.
		For("Service", service).
		When("StringEquals", "aws:SourceAccount", accountID))
}

// DenyInsecureTransport denies any request to a bucket that is not over TLS.
func DenyInsecureTransport(bucketARN string) Statement {
	return Statement{
		Sid: "DenyInsecureTransport", Effect: "Deny", Action: []string{"s3:*"},
		Resource: []string{bucketARN, bucketARN + "/*"},
	}.For("AWS", "*").When("Bool", "aws:SecureTransport", "false")
}

// WithMFA returns s allowed only to callers who signed in with MFA.
func (s Statement) WithMFA() Statement {
	return s.When("Bool", "aws:MultiFactorAuthPresent", "true")
}

// MFATrust is an assume-role policy for the principals of one account (its
// root delegates to that account's IAM policies), and only with MFA.
func MFATrust(p awsenv.Partition, accountID string) Document {
	return Policy(Statement{Sid: "AssumeWithMFA", Effect: "Allow", Action: []string{"sts:AssumeRole"}}.
		For("AWS", AccountRoot(p, accountID)).WithMFA())
}

// DenyWithoutMFA denies every action except those listed to callers who
// have not signed in with MFA. BoolIfExists also catches long-term access
// keys, whose requests carry no MFA key at all.
func DenyWithoutMFA(sid string, except []string) Statement {
	return Statement{Sid: sid, Effect: "Deny", NotAction: slices.Sorted(slices.Values(except)), Resource: []string{"*"}}.
		When("BoolIfExists", "aws:MultiFactorAuthPresent", "false")
}

// AccountRoot is the ARN of an account's root principal, which delegates to
// the account's IAM policies.
func AccountRoot(p awsenv.Partition, accountID string) string { return p.IAM(accountID, "root") }
