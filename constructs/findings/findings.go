// Package findings sends high and critical security findings to people:
// EventBridge rules whose targets publish a readable message (account,
// region, severity, title, a console link) to an alarm topic; a forwarder
// that brings the root user's console sign-ins, which AWS records in
// us-east-1 only, to the home region's bus; and the delegated
// administrator's side of GuardDuty and Security Hub (organization
// auto-enrolment or invitations, and the cross-region finding aggregator),
// with the members' acceptance of the invitations.
//
// It owns the rules, targets, the forwarder's role and the membership
// resources. The topics are alarms'; the detectors and hubs are audit's;
// registering the delegated administrator is the organization stack's.
// Entry points: New, Forward, Admin, Accept and the rules GuardDuty,
// SecurityHub, AccessAnalyzer and RootSignIn.
package findings

import (
	"encoding/json"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatcheventrule"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatcheventtarget"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/role"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// SignInRegion is where AWS records the root user's console sign-ins
// (CloudTrail User Guide, "AWS Management Console sign-in events").
const SignInRegion = "us-east-1"

// GuardDutyMinSeverity is the lowest GuardDuty severity that pages: 7 and
// up is High (8.9) and Critical (9 and up) in GuardDuty's scale.
const GuardDutyMinSeverity = 7

// Rule is one EventBridge rule and its target's input transformer.
type Rule struct {
	// ID is the construct ID and the rule name's suffix.
	ID, Description string
	// Pattern is the event pattern.
	Pattern map[string]any
	// Paths (InputPathsMap) and Template (InputTemplate, a quoted JSON
	// string: the SNS message text) make the message.
	Paths    map[string]string
	Template string
}

// PatternJSON is the rule's event pattern as EventBridge receives it.
func (r Rule) PatternJSON() string {
	b, err := json.Marshal(r.Pattern)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func console(region, path string) string {
	return "https://" + region + ".console.aws.amazon.com/" + path
}

// GuardDuty pages on the account's own GuardDuty findings of severity 7 or
// more (an administrator also receives its members' findings; each member
// pages for its own).
func GuardDuty(account string) Rule {
	return Rule{
		ID: "guardduty-high", Description: "GuardDuty findings of high or critical severity in this account",
		Pattern: map[string]any{
			"source": []any{"aws.guardduty"}, "detail-type": []any{"GuardDuty Finding"},
			"detail": map[string]any{
				"severity":  []any{map[string]any{"numeric": []any{">=", GuardDutyMinSeverity}}},
				"accountId": []any{account},
			},
		},
		Paths: map[string]string{
			"title": "$.detail.title", "severity": "$.detail.severity", "type": "$.detail.type",
			"account": "$.detail.accountId", "region": "$.detail.region", "id": "$.detail.id",
		},
		Template: `"GuardDuty finding, severity <severity>, account <account>, region <region>: <title> (<type>). ` +
			console("<region>", "guardduty/home?region=<region>#/findings?macros=current&fId=<id>") + `"`,
	}
}

// SecurityHub pages on new, active findings labelled HIGH or CRITICAL that
// Security Hub imports in the home region: every member account's, and,
// through the finding aggregator, every linked region's. GuardDuty and
// Access Analyzer findings of the home region are left to their own rules
// (which page from each account), so they page once.
func SecurityHub(home string) Rule {
	return Rule{
		ID: "securityhub-high", Description: "New, active Security Hub findings labelled HIGH or CRITICAL, in every member account and linked region",
		Pattern: map[string]any{
			"source": []any{"aws.securityhub"}, "detail-type": []any{"Security Hub Findings - Imported"},
			"detail": map[string]any{"findings": map[string]any{
				"Severity":    map[string]any{"Label": []any{"HIGH", "CRITICAL"}},
				"Workflow":    map[string]any{"Status": []any{"NEW"}},
				"RecordState": []any{"ACTIVE"},
				"$or": []any{
					map[string]any{"ProductName": []any{map[string]any{"anything-but": []any{"GuardDuty", "IAM Access Analyzer"}}}},
					map[string]any{"Region": []any{map[string]any{"anything-but": home}}},
				},
			}},
		},
		Paths: map[string]string{
			"title": "$.detail.findings[0].Title", "severity": "$.detail.findings[0].Severity.Label",
			"account": "$.detail.findings[0].AwsAccountId", "region": "$.detail.findings[0].Region",
			"product": "$.detail.findings[0].ProductName",
		},
		Template: `"Security Hub finding (<product>), severity <severity>, account <account>, region <region>: <title>. ` +
			console(home, "securityhub/home?region="+home+"#/findings") + `"`,
	}
}

// AccessAnalyzer pages on the account's active Access Analyzer findings:
// a resource shared outside the account (public when isPublic).
func AccessAnalyzer(account string) Rule {
	return Rule{
		ID: "access-analyzer-external", Description: "Active IAM Access Analyzer findings: resources shared outside this account",
		Pattern: map[string]any{
			"source": []any{"aws.access-analyzer"}, "detail-type": []any{"Access Analyzer Finding"},
			"detail": map[string]any{"status": []any{"ACTIVE"}, "accountId": []any{account}},
		},
		Paths: map[string]string{
			"resource": "$.detail.resource", "type": "$.detail.resourceType", "public": "$.detail.isPublic",
			"account": "$.detail.accountId", "region": "$.detail.region",
		},
		Template: `"Access Analyzer finding, severity HIGH, account <account>, region <region>: <type> <resource> is accessible from outside the account (public: <public>). ` +
			console("<region>", "access-analyzer/home?region=<region>#/findings") + `"`,
	}
}

// RootSignIn pages on every console sign-in of the root user.
func RootSignIn() Rule {
	return Rule{
		ID: "root-sign-in", Description: "Console sign-ins of the root user",
		Pattern: map[string]any{
			"source": []any{"aws.signin"}, "detail-type": []any{"AWS Console Sign In via CloudTrail"},
			"detail": map[string]any{"userIdentity": map[string]any{"type": []any{"Root"}}},
		},
		Paths: map[string]string{
			"result": "$.detail.responseElements.ConsoleLogin", "ip": "$.detail.sourceIPAddress",
			"account": "$.account", "region": "$.region", "time": "$.time",
		},
		Template: `"Root user console sign-in, severity CRITICAL, account <account>, region <region>: <result> from <ip> at <time>. ` +
			console(SignInRegion, "cloudtrail/home?region="+SignInRegion+"#/events?EventName=ConsoleLogin") + `"`,
	}
}

// Props configures the rules, in the account and region of the enclosing
// stack (tf.EnvOf).
type Props struct {
	// Name prefixes the rule names ("<Name>-<rule ID>"). Required.
	Name string
	// TopicARN is the topic the messages go to; its policy must let
	// events.amazonaws.com publish (alarms.Publishers). Required.
	TopicARN *string
	// Rules are the rules to make. Required.
	Rules []Rule
}

// New makes each rule on the default bus with the topic as its target.
func New(scope constructs.Construct, id string, p Props) {
	if p.Name == "" || p.TopicARN == nil || len(p.Rules) == 0 {
		panic("findings.New: Name, TopicARN and Rules are required (" + id + ")")
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	for _, r := range p.Rules {
		rule := cloudwatcheventrule.NewCloudwatchEventRule(s, tf.S(r.ID), &cloudwatcheventrule.CloudwatchEventRuleConfig{
			Name: tf.S(p.Name + "-" + r.ID), Description: tf.S(r.Description),
			EventPattern: tf.S(r.PatternJSON()), Tags: tf.Name(p.Name + "-" + r.ID),
		})
		paths := map[string]*string{}
		for k, v := range r.Paths {
			paths[k] = tf.S(v)
		}
		cloudwatcheventtarget.NewCloudwatchEventTarget(s, tf.S(r.ID+"-target"), &cloudwatcheventtarget.CloudwatchEventTargetConfig{
			Rule: rule.Name(), TargetId: tf.S("alarm-topic"), Arn: p.TopicARN,
			InputTransformer: &cloudwatcheventtarget.CloudwatchEventTargetInputTransformer{
				InputPaths: &paths, InputTemplate: tf.S(r.Template),
			},
		})
	}
}

// ForwardProps configures a forwarder.
type ForwardProps struct {
	// Name names the rule and role ("<Name>-<rule ID>-forward"). Required.
	Name string
	// Provider is the stack's provider in the region the events occur in.
	// Required.
	Provider cdktf.TerraformProvider
	// Rule selects the events to forward (its template is unused). Required.
	Rule Rule
}

// Forward sends the events its rule matches in the provider's region to
// the default bus of the stack's own region (tf.EnvOf), where a rule made
// by New with the same pattern routes them.
func Forward(scope constructs.Construct, id string, p ForwardProps) {
	if p.Name == "" || p.Provider == nil {
		panic("findings.Forward: Name and Provider are required (" + id + ")")
	}
	env := tf.EnvOf(scope)
	s := constructs.NewConstruct(scope, tf.S(id))
	name := p.Name + "-" + p.Rule.ID + "-forward"
	bus := env.ARN("events", "event-bus/default")
	// IAM is global: the role is made by the stack's default provider.
	r := role.New(s, "role", role.Props{
		Name: name, Description: "EventBridge forwards " + p.Rule.ID + " events to " + env.Region,
		Trust:      iam.ServiceTrust("events.amazonaws.com", env.Account),
		Statements: []iam.Statement{iam.Allow("PutEventsHome", []string{"events:PutEvents"}, bus)},
	})
	rule := cloudwatcheventrule.NewCloudwatchEventRule(s, tf.S("rule"), &cloudwatcheventrule.CloudwatchEventRuleConfig{
		Provider: p.Provider,
		Name:     tf.S(name), Description: tf.S(p.Rule.Description + ", forwarded to " + env.Region),
		EventPattern: tf.S(p.Rule.PatternJSON()), Tags: tf.Name(name),
	})
	cloudwatcheventtarget.NewCloudwatchEventTarget(s, tf.S("target"), &cloudwatcheventtarget.CloudwatchEventTargetConfig{
		Provider: p.Provider,
		Rule:     rule.Name(), TargetId: tf.S("home-bus"), Arn: tf.S(bus), RoleArn: r.Role.Arn(),
		DependsOn: &[]cdktf.ITerraformDependable{r.Policy},
	})
}

// Member is an account the administrator enrolls.
type Member struct {
	AccountID string
	// Email is the account's root email; GuardDuty invitations need it.
	// Default: "", the account is not invited to GuardDuty.
	Email string
}

// AdminProps configures the delegated administrator's side.
type AdminProps struct {
	// Detector is the administrator's GuardDuty detector. Required.
	Detector *tf.Resource
	// Hub is the administrator's Security Hub. Default: nil, Security Hub
	// is off: no members, no aggregator.
	Hub *tf.Resource
	// Organization: the organization stack registers this account as the
	// delegated administrator, so every organization account, existing and
	// new, is enrolled by AWS Organizations. Default: false: Members are
	// invited.
	Organization bool
	// Members are the accounts to enroll (the landing zone's other
	// accounts). With Organization, Security Hub adds them as members (it
	// auto-enables new accounts only). Default: none.
	Members []Member
	// LinkedRegions are the other regions whose findings the aggregator
	// brings to this region (SPECIFIED_REGIONS). Default: none, and no
	// aggregator.
	LinkedRegions []string
	// Provider is the AWS provider of the region of Detector and Hub:
	// GuardDuty and Security Hub enroll members per region. Default: nil,
	// the stack's default provider (the home region).
	Provider cdktf.TerraformProvider
}

// Admin makes the administrator's enrolment of members and Security Hub's
// cross-region finding aggregator. Its resources are raw (tf.RawScope),
// like the detectors and hubs they enroll: there are some per region.
func Admin(scope constructs.Construct, id string, p AdminProps) {
	if p.Detector == nil {
		panic("findings.Admin: Detector is required (" + id + ")")
	}
	s := tf.RawScopeOf(scope).Child(id).Using(p.Provider)
	if p.Organization {
		s.Add("aws_guardduty_organization_configuration", "guardduty-organization", map[string]any{
			"detector_id": *p.Detector.Ref("id"), "auto_enable_organization_members": "ALL",
		})
	} else {
		for _, m := range p.Members {
			if m.Email == "" {
				continue
			}
			s.Add("aws_guardduty_member", "guardduty-member-"+m.AccountID, map[string]any{
				"detector_id": *p.Detector.Ref("id"), "account_id": m.AccountID, "email": m.Email, "invite": true,
				"disable_email_notification": true,
			})
		}
	}
	if p.Hub == nil {
		return
	}
	after := []string{p.Hub.FQN()}
	if p.Organization {
		s.Add("aws_securityhub_organization_configuration", "securityhub-organization", map[string]any{
			// Each account's stack subscribes its own standards (audit);
			// AWS's defaults would add the older CIS 1.2.
			"auto_enable": true, "auto_enable_standards": "NONE", "depends_on": after,
		})
	}
	for _, m := range p.Members {
		body := map[string]any{"account_id": m.AccountID, "invite": !p.Organization, "depends_on": after}
		if m.Email != "" {
			body["email"] = m.Email
		}
		s.Add("aws_securityhub_member", "securityhub-member-"+m.AccountID, body)
	}
	if len(p.LinkedRegions) > 0 {
		s.Add("aws_securityhub_finding_aggregator", "securityhub-aggregator", map[string]any{
			"linking_mode": "SPECIFIED_REGIONS", "specified_regions": p.LinkedRegions, "depends_on": after,
		})
	}
}

// AcceptProps configures a member's acceptance of the invitations Admin
// sends without an organization.
type AcceptProps struct {
	// AdminAccountID is the administrator (the security account). Required.
	AdminAccountID string
	// Detector is the member's detector; nil leaves GuardDuty's invitation
	// alone (the member has no email to be invited with). Default: nil.
	Detector *tf.Resource
	// Hub is the member's Security Hub; nil when it is off. Default: nil.
	Hub *tf.Resource
	// Provider is the AWS provider of the region of Detector and Hub.
	// Default: nil, the stack's default provider (the home region).
	Provider cdktf.TerraformProvider
}

// Accept accepts the administrator's invitations in the member account
// (raw resources, like Admin's).
func Accept(scope constructs.Construct, id string, p AcceptProps) {
	if p.AdminAccountID == "" {
		panic("findings.Accept: AdminAccountID is required (" + id + ")")
	}
	s := tf.RawScopeOf(scope).Child(id).Using(p.Provider)
	if p.Detector != nil {
		s.Add("aws_guardduty_invite_accepter", "guardduty", map[string]any{
			"detector_id": *p.Detector.Ref("id"), "master_account_id": p.AdminAccountID,
		})
	}
	if p.Hub != nil {
		s.Add("aws_securityhub_invite_accepter", "securityhub", map[string]any{
			"master_id": p.AdminAccountID, "depends_on": []string{p.Hub.FQN()},
		})
	}
}
