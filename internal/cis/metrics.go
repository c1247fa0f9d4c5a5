package cis

import (
	"encoding/json"
	"fmt"
	"strings"
)

// metricControl is a CIS 4.x control: a metric filter on the CloudTrail
// log group with an alarm that notifies an SNS topic. The filter is judged
// by what it does: it must match every event in must (one per event the
// CIS pattern lists) and none in mustNot.
type metricControl struct {
	id, title string
	must      []event
	mustNot   []event
	// management: the control applies to the management account only
	// (Organizations events are recorded there); N/A without one.
	management bool
}

// event is a sample CloudTrail record, with a label for the evidence.
type event struct {
	label string
	rec   map[string]any
}

func rec(js string) map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		panic(err)
	}
	return m
}

// calls returns one successful API call event per name.
func calls(source string, names ...string) []event {
	var out []event
	for _, n := range names {
		out = append(out, event{"eventName " + n, rec(fmt.Sprintf(`{"eventVersion":"1.09","eventSource":%q,"eventName":%q,"eventType":"AwsApiCall","userIdentity":{"type":"AssumedRole"},"sourceIPAddress":"203.0.113.10"}`, source, n))})
	}
	return out
}

// unrelated is an ordinary read call no control alarms on.
var unrelated = calls("ec2.amazonaws.com", "DescribeInstances")

var metricControls = []metricControl{
	{id: "4.1", title: "Ensure unauthorized API calls are monitored",
		must: []event{
			{"errorCode Client.UnauthorizedOperation", rec(`{"eventSource":"ec2.amazonaws.com","eventName":"RunInstances","errorCode":"Client.UnauthorizedOperation","sourceIPAddress":"203.0.113.10","userIdentity":{"type":"AssumedRole"}}`)},
			{"errorCode AccessDenied", rec(`{"eventSource":"iam.amazonaws.com","eventName":"CreateUser","errorCode":"AccessDenied","sourceIPAddress":"203.0.113.10","userIdentity":{"type":"AssumedRole"}}`)},
		},
		mustNot: unrelated},
	{id: "4.2", title: "Ensure management console sign-in without MFA is monitored",
		must:    []event{{"ConsoleLogin without MFA", rec(`{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","eventType":"AwsConsoleSignIn","userIdentity":{"type":"IAMUser"},"additionalEventData":{"MFAUsed":"No"},"responseElements":{"ConsoleLogin":"Success"}}`)}},
		mustNot: []event{{"ConsoleLogin with MFA", rec(`{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","eventType":"AwsConsoleSignIn","userIdentity":{"type":"IAMUser"},"additionalEventData":{"MFAUsed":"Yes"},"responseElements":{"ConsoleLogin":"Success"}}`)}}},
	{id: "4.3", title: "Ensure usage of 'root' account is monitored",
		must: []event{{"root API call", rec(`{"eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","eventType":"AwsApiCall","userIdentity":{"type":"Root"}}`)},
			{"root console sign-in", rec(`{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","eventType":"AwsConsoleSignIn","userIdentity":{"type":"Root"}}`)}},
		mustNot: []event{
			{"root call invoked by an AWS service", rec(`{"eventSource":"iam.amazonaws.com","eventName":"GetRole","eventType":"AwsApiCall","userIdentity":{"type":"Root","invokedBy":"support.amazonaws.com"}}`)},
			{"AwsServiceEvent", rec(`{"eventSource":"sts.amazonaws.com","eventName":"AssumeRole","eventType":"AwsServiceEvent","userIdentity":{"type":"Root"}}`)},
			unrelated[0]}},
	{id: "4.4", title: "Ensure IAM policy changes are monitored",
		must:    calls("iam.amazonaws.com", "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy", "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion", "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy"),
		mustNot: append(calls("iam.amazonaws.com", "GetPolicy"), unrelated...)},
	{id: "4.5", title: "Ensure CloudTrail configuration changes are monitored",
		must:    calls("cloudtrail.amazonaws.com", "CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"),
		mustNot: append(calls("cloudtrail.amazonaws.com", "DescribeTrails"), unrelated...)},
	{id: "4.6", title: "Ensure AWS Management Console authentication failures are monitored",
		must:    []event{{"failed ConsoleLogin", rec(`{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","eventType":"AwsConsoleSignIn","userIdentity":{"type":"IAMUser"},"errorMessage":"Failed authentication","responseElements":{"ConsoleLogin":"Failure"}}`)}},
		mustNot: []event{{"successful ConsoleLogin", rec(`{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","eventType":"AwsConsoleSignIn","userIdentity":{"type":"IAMUser"},"additionalEventData":{"MFAUsed":"Yes"},"responseElements":{"ConsoleLogin":"Success"}}`)}}},
	{id: "4.7", title: "Ensure disabling or scheduled deletion of customer created CMKs is monitored",
		must:    calls("kms.amazonaws.com", "DisableKey", "ScheduleKeyDeletion"),
		mustNot: append(calls("kms.amazonaws.com", "Decrypt"), unrelated...)},
	{id: "4.8", title: "Ensure S3 bucket policy changes are monitored",
		must:    calls("s3.amazonaws.com", "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle", "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle", "DeleteBucketReplication"),
		mustNot: append(calls("s3.amazonaws.com", "GetBucketPolicy"), unrelated...)},
	{id: "4.9", title: "Ensure AWS Config configuration changes are monitored",
		must:    calls("config.amazonaws.com", "StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel", "PutConfigurationRecorder"),
		mustNot: append(calls("config.amazonaws.com", "DescribeConfigurationRecorders"), unrelated...)},
	{id: "4.10", title: "Ensure security group changes are monitored",
		must:    calls("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateSecurityGroup", "DeleteSecurityGroup"),
		mustNot: append(calls("ec2.amazonaws.com", "DescribeSecurityGroups"), unrelated...)},
	{id: "4.11", title: "Ensure Network Access Control Lists (NACL) changes are monitored",
		must:    calls("ec2.amazonaws.com", "CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry", "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation"),
		mustNot: append(calls("ec2.amazonaws.com", "DescribeNetworkAcls"), unrelated...)},
	{id: "4.12", title: "Ensure changes to network gateways are monitored",
		must:    calls("ec2.amazonaws.com", "CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway", "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway"),
		mustNot: append(calls("ec2.amazonaws.com", "DescribeInternetGateways"), unrelated...)},
	{id: "4.13", title: "Ensure route table changes are monitored",
		must:    calls("ec2.amazonaws.com", "CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation", "DeleteRouteTable", "DeleteRoute", "DisassociateRouteTable"),
		mustNot: append(calls("ec2.amazonaws.com", "DescribeRouteTables"), unrelated...)},
	{id: "4.14", title: "Ensure VPC changes are monitored",
		must:    calls("ec2.amazonaws.com", "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection", "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection", "AttachClassicLinkVpc", "DetachClassicLinkVpc", "DisableVpcClassicLink", "EnableVpcClassicLink"),
		mustNot: append(calls("ec2.amazonaws.com", "DescribeVpcs"), unrelated...)},
	{id: "4.15", title: "Ensure AWS Organizations changes are monitored", management: true,
		must:    calls("organizations.amazonaws.com", "AcceptHandshake", "AttachPolicy", "CreateAccount", "CreateOrganizationalUnit", "CreatePolicy", "DeclineHandshake", "DeleteOrganization", "DeleteOrganizationalUnit", "DeletePolicy", "DetachPolicy", "DisablePolicyType", "EnablePolicyType", "InviteAccountToOrganization", "LeaveOrganization", "MoveAccount", "RemoveAccountFromOrganization", "UpdatePolicy", "UpdateOrganizationalUnit"),
		mustNot: append(calls("organizations.amazonaws.com", "DescribeOrganization"), unrelated...)},
}

// trailLogGroup returns the name of the CloudWatch Logs group a trail
// delivers to ("arn:...:log-group:NAME:*"), or a referenced group's name.
func (s *set) trailLogGroup(t *resource) string {
	v := t.str("cloud_watch_logs_group_arn")
	for _, g := range s.of("aws_cloudwatch_log_group") {
		if g.Stack == t.Stack && strings.Contains(v, "${"+g.local()+".") {
			return g.str("name")
		}
	}
	_, rest, ok := strings.Cut(v, ":log-group:")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, ":")
	return name
}

// judge runs the samples through a filter pattern: "" when it matches
// every must and no mustNot, else what it gets wrong.
func (m metricControl) judge(pat string) (misses []string, matched int, err error) {
	p, err := parsePattern(pat)
	if err != nil {
		return nil, 0, err
	}
	for _, e := range m.must {
		if !p.match(e.rec) {
			misses = append(misses, "misses "+e.label)
		} else {
			matched++
		}
	}
	for _, e := range m.mustNot {
		if p.match(e.rec) {
			misses = append(misses, "also matches "+e.label)
		}
	}
	return misses, matched, nil
}

// alarmOn returns an alarm in f's stack on f's metric that fires on one
// event and notifies an SNS topic, or why there is none.
func (s *set) alarmOn(f *resource) (*resource, string) {
	mt := first(f.Attrs["metric_transformation"])
	if mt == nil {
		return nil, "no metric_transformation"
	}
	name, ns := fmt.Sprint(mt["name"]), fmt.Sprint(mt["namespace"])
	if v := fmt.Sprint(mt["value"]); v != "1" {
		return nil, fmt.Sprintf("metric value %q, want 1 per event", v)
	}
	why := fmt.Sprintf("no alarm on metric %s/%s", ns, name)
	for _, a := range s.of("aws_cloudwatch_metric_alarm") {
		if a.Stack != f.Stack || a.str("metric_name") != name || a.str("namespace") != ns {
			continue
		}
		th := float64(numOf(a.Attrs["threshold"]))
		if x, ok := a.Attrs["threshold"].(float64); ok {
			th = x
		}
		op := a.str("comparison_operator")
		if !(op == "GreaterThanOrEqualToThreshold" && th <= 1 || op == "GreaterThanThreshold" && th < 1) {
			why = fmt.Sprintf("%s: %s %v does not fire on one event", a.Addr(), op, th)
			continue
		}
		if !a.boolean("actions_enabled", true) {
			why = a.Addr() + ": actions_enabled = false"
			continue
		}
		for _, act := range strs(a.Attrs["alarm_actions"]) {
			if strings.HasPrefix(act, "${aws_sns_topic.") || strings.Contains(act, ":sns:") {
				return a, ""
			}
		}
		why = a.Addr() + ": alarm_actions notify no SNS topic"
	}
	return nil, why
}

func metricFilter(m metricControl) func(*set) []Finding {
	return func(s *set) []Finding {
		var out []Finding
		for _, a := range s.accounts() {
			if m.management && s.cfg.Accounts[a].Kind != "management" {
				continue
			}
			out = append(out, m.inAccount(s, a))
		}
		if len(out) == 0 {
			return []Finding{na("", "no management account in the config (Organizations events are recorded there)")}
		}
		return out
	}
}

func (m metricControl) inAccount(s *set, a string) Finding {
	groups := map[string]bool{}
	for _, t := range s.in(a, "", "aws_cloudtrail") {
		if g := s.trailLogGroup(t); g != "" {
			groups[g] = true
		}
	}
	if len(groups) == 0 {
		return fail(a, "no trail in account %s delivers to CloudWatch Logs", a)
	}
	best, bestMiss := "", []string(nil)
	for _, f := range s.in(a, "", "aws_cloudwatch_log_metric_filter") {
		lg := f.str("log_group_name")
		for _, g := range s.of("aws_cloudwatch_log_group") {
			if g.Stack == f.Stack && refersTo(lg, g) {
				lg = g.str("name")
			}
		}
		if !groups[lg] {
			continue
		}
		misses, matched, err := m.judge(f.str("pattern"))
		if err != nil {
			if best == "" {
				best, bestMiss = f.Addr(), []string{"pattern does not parse: " + err.Error()}
			}
			continue
		}
		if len(misses) == 0 {
			alarm, why := s.alarmOn(f)
			if alarm == nil {
				best, bestMiss = f.Addr(), []string{why}
				continue
			}
			return hold(a, "%s -> %s", f.Addr(), alarm.local())
		}
		// the closest filter (fewest misses, and matching something) is
		// the evidence
		if matched > 0 && (best == "" || len(misses) < len(bestMiss)) {
			best, bestMiss = f.Addr(), misses
		}
	}
	if best != "" {
		return fail(a, "%s: %s", best, strings.Join(bestMiss, ", "))
	}
	return fail(a, "no metric filter on the trail's log group in account %s matches %s", a, m.must[0].label)
}
