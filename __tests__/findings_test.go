package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acme/landing-zone/constructs/findings"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/eventpattern"
	"github.com/acme/landing-zone/internal/tfjson"
)

// Findings to people (help/security-baseline.md): the synthesized rules'
// patterns are evaluated with EventBridge's semantics (internal/eventpattern,
// tested on the User Guide's examples) against sample events shaped as AWS
// documents them (testdata/events), and each target's input transformer is
// rendered to the message people receive.

// The sample events are written for this account and region; sampleEvent
// moves them to the account and home region under test.
const (
	sampleAccount = "123456789012"
	sampleRegion  = "us-west-2"
)

func sampleEvent(t testing.TB, name, account, region string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "events", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), sampleAccount, account)
	return []byte(strings.ReplaceAll(s, sampleRegion, region))
}

// eventRule is a synthesized rule and its target.
type eventRule struct {
	Name, Pattern, Provider string
	Target                  map[string]any
}

// eventRules reads a stack's rules by name, with their single target.
func eventRules(t testing.TB, s stackJSON) map[string]eventRule {
	t.Helper()
	out := map[string]eventRule{}
	for id, r := range s.resources("aws_cloudwatch_event_rule") {
		er := eventRule{Name: r["name"].(string), Pattern: r["event_pattern"].(string)}
		er.Provider, _ = r["provider"].(string)
		for _, tg := range s.resources("aws_cloudwatch_event_target") {
			if tfjson.Ref(tg["rule"]) == "aws_cloudwatch_event_rule."+id {
				er.Target = tg
			}
		}
		out[er.Name] = er
	}
	return out
}

// expectation is one sample event and whether a rule must match it.
type expectation struct {
	event string
	match bool
	// account and region the event is moved to; "" for the stack's own and
	// the home region.
	account, region string
}

// ruleExpectations are the sample events each rule must and must not
// match, in an account whose home region is home.
func ruleExpectations(home string) map[string][]expectation {
	other := "sa-east-1"
	return map[string][]expectation{
		"guardduty-high": {
			{event: "guardduty-severity-8", match: true},
			{event: "guardduty-severity-2", match: false},
			// A member's finding the administrator also receives: the
			// member's own rule pages for it.
			{event: "guardduty-severity-8", match: false, account: "999999999999"},
		},
		"securityhub-high": {
			{event: "securityhub-critical-new-active", match: true},
			{event: "securityhub-critical-new-active", match: true, account: "999999999999", region: other},
			{event: "securityhub-low", match: false},
			{event: "securityhub-critical-archived", match: false},
			{event: "securityhub-critical-resolved", match: false},
			// GuardDuty's own rule pages for the home region; other regions
			// reach people through the aggregator.
			{event: "securityhub-guardduty-home-region", match: false},
			{event: "securityhub-guardduty-other-region", match: true},
		},
		"access-analyzer-external": {
			{event: "access-analyzer-active-public", match: true},
			{event: "access-analyzer-archived", match: false},
		},
		"root-sign-in": {
			{event: "signin-root", match: true},
			{event: "signin-iam-user", match: false},
		},
	}
}

// checkFindingRules evaluates the rules of one account stack and returns
// what is wrong.
func checkFindingRules(t testing.TB, cfg *config.Config, name string, s stackJSON) []string {
	t.Helper()
	acct := cfg.Accounts[name]
	prefix := cfg.NamePrefix + "-" + name + "-"
	rules := eventRules(t, s)
	var bad []string
	want := []string{"guardduty-high", "access-analyzer-external", "root-sign-in"}
	if acct.Kind == config.KindSecurity && cfg.Baseline.SecurityHubOn() {
		want = append(want, "securityhub-high")
	}
	exps := ruleExpectations(cfg.Region)
	for _, id := range want {
		r, ok := rules[prefix+id]
		if !ok {
			bad = append(bad, fmt.Sprintf("%s: no rule %s%s", name, prefix, id))
			continue
		}
		if r.Target == nil {
			bad = append(bad, fmt.Sprintf("%s: rule %s has no target", name, r.Name))
			continue
		}
		topic := s.deref(t, r.Target["arn"])
		if !strings.HasSuffix(topic["name"].(string), "-critical") {
			bad = append(bad, fmt.Sprintf("%s: rule %s targets topic %s, want the critical topic", name, r.Name, topic["name"]))
		}
		for _, e := range exps[id] {
			account, region := acct.ID, cfg.Region
			if e.account != "" {
				account = e.account
			}
			if e.region != "" {
				if e.region == cfg.Region {
					continue
				}
				region = e.region
			}
			ev := sampleEvent(t, e.event, account, region)
			got, err := eventpattern.Match([]byte(r.Pattern), ev)
			if err != nil {
				bad = append(bad, fmt.Sprintf("%s: %s: %v", name, r.Name, err))
				continue
			}
			if got != e.match {
				bad = append(bad, fmt.Sprintf("%s: rule %s on %s (account %s, region %s): matched %v, want %v", name, id, e.event, account, region, got, e.match))
			}
			if got && e.match {
				bad = append(bad, checkMessage(t, name, r, ev, account)...)
			}
		}
	}
	return bad
}

// checkMessage renders the target's input transformer on the event: the
// message must name the finding's title, severity, account and region.
func checkMessage(t testing.TB, name string, r eventRule, event []byte, account string) []string {
	it := first(r.Target["input_transformer"])
	paths := map[string]string{}
	for k, v := range it["input_paths"].(map[string]any) {
		paths[k] = v.(string)
	}
	msg, err := eventpattern.Render(paths, it["input_template"].(string), event)
	if err != nil {
		return []string{fmt.Sprintf("%s: %s: input transformer: %v", name, r.Name, err)}
	}
	var bad []string
	for what, want := range map[string]string{"account": account, "region": "region ", "severity": "severity ", "link": "https://"} {
		if !strings.Contains(msg, want) {
			bad = append(bad, fmt.Sprintf("%s: %s: the message lacks the %s (%q): %s", name, r.Name, what, want, msg))
		}
	}
	if strings.Contains(msg, "<") {
		bad = append(bad, fmt.Sprintf("%s: %s: unfilled placeholder in %s", name, r.Name, msg))
	}
	return bad
}

// TestFindingRulesMatchSampleEvents: in every account and config, the rules
// page on the high and critical sample findings and on root sign-ins, and
// not on the others, with a readable message.
func TestFindingRulesMatchSampleEvents(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		out := synthOf(t, f)
		for _, name := range f.Cfg.MemberAccountNames() {
			for _, problem := range checkFindingRules(t, f.Cfg, name, readStack(t, out, name)) {
				t.Error(problem)
			}
		}
	})
}

// TestFindingMessages shows the messages for the example config's security
// account and checks they carry each finding's title and severity.
func TestFindingMessages(t *testing.T) {
	f := fixtureConfig(t, exampleFixture)
	_, sec := f.Cfg.AccountOfKind(config.KindSecurity)
	secName, _ := f.Cfg.AccountOfKind(config.KindSecurity)
	rules := eventRules(t, readStack(t, synthOf(t, f), secName))
	prefix := f.Cfg.NamePrefix + "-" + secName + "-"
	for id, c := range map[string]struct{ event, title, severity string }{
		"guardduty-high":           {"guardduty-severity-8", "performing SSH brute force attacks", "severity 8"},
		"securityhub-high":         {"securityhub-critical-new-active", "S3 general purpose buckets should block public access", "severity CRITICAL"},
		"access-analyzer-external": {"access-analyzer-active-public", "AWS::S3::Bucket", "severity HIGH"},
		"root-sign-in":             {"signin-root", "Root user console sign-in", "severity CRITICAL"},
	} {
		r := rules[prefix+id]
		it := first(r.Target["input_transformer"])
		paths := map[string]string{}
		for k, v := range it["input_paths"].(map[string]any) {
			paths[k] = v.(string)
		}
		msg, err := eventpattern.Render(paths, it["input_template"].(string), sampleEvent(t, c.event, sec.ID, f.Cfg.Region))
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		t.Logf("%s: %s", id, msg)
		for _, want := range []string{c.title, c.severity, sec.ID} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: message lacks %q: %s", id, want, msg)
			}
		}
	}
}

// TestFindingRulesBrokenCase: a GuardDuty rule without its severity filter
// pages on a severity 2 finding, and the check says so.
func TestFindingRulesBrokenCase(t *testing.T) {
	f := fixtureConfig(t, exampleFixture)
	name, _ := f.Cfg.AccountOfKind(config.KindSecurity)
	s := readStack(t, synthOf(t, f), name)
	weakened := findings.GuardDuty(f.Cfg.Accounts[name].ID)
	delete(weakened.Pattern["detail"].(map[string]any), "severity")
	for id, r := range s.resources("aws_cloudwatch_event_rule") {
		if strings.HasSuffix(r["name"].(string), "-guardduty-high") {
			s.Resource["aws_cloudwatch_event_rule"][id]["event_pattern"] = weakened.PatternJSON()
		}
	}
	problems := checkFindingRules(t, f.Cfg, name, s)
	if !slices.ContainsFunc(problems, func(p string) bool {
		return strings.Contains(p, "guardduty-high on guardduty-severity-2") && strings.Contains(p, "matched true, want false")
	}) {
		t.Errorf("a GuardDuty rule without its severity filter went unnoticed: %v", problems)
	}
}

// TestFindingTopicBrokenCase: the IAM proof asks whether EventBridge can
// publish to each account's critical topic; with events.amazonaws.com taken
// out of the topic policy, the question fails, decided by that policy.
func TestFindingTopicBrokenCase(t *testing.T) {
	f := fixtureConfig(t, exampleFixture)
	sec, a := f.Cfg.AccountOfKind(config.KindSecurity)
	d := readDocs(t, synthOf(t, f))
	topic := ":sns:" + f.Cfg.Region + ":" + a.ID + ":" + f.Cfg.NamePrefix + "-" + sec + "-critical"
	d.editPolicy(t, sec, "aws_sns_topic_policy", "policy", func(doc *iamDoc) {
		for _, st := range doc.Statement {
			if st["Sid"] == "ServicesPublish" {
				p := st["Principal"].(map[string]any)
				p["Service"] = slices.DeleteFunc(slices.Clone(p["Service"].([]any)), func(v any) bool { return v == "events.amazonaws.com" })
			}
		}
	}, topic)
	qs := d.access(t, f.Cfg, "EventBridge publishes "+sec+"'s findings")
	if len(qs) != 1 {
		t.Fatalf("want the one question about %s's critical topic, got %d", sec, len(qs))
	}
	if q := qs[0]; q.Got() {
		t.Errorf("%q still allowed with EventBridge out of the topic policy", q.Name)
	}
}

// TestRootSignInForwardedFromUSEast1: outside us-east-1, where AWS records
// root sign-ins, each account forwards them from there to its home bus.
func TestRootSignInForwardedFromUSEast1(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		out := synthOf(t, f)
		for _, name := range f.Cfg.MemberAccountNames() {
			s := readStack(t, out, name)
			fwd, ok := eventRules(t, s)[f.Cfg.NamePrefix+"-"+name+"-root-sign-in-forward"]
			if f.Cfg.Region == findings.SignInRegion {
				if ok {
					t.Errorf("%s: forwards root sign-ins within us-east-1", name)
				}
				continue
			}
			if !ok {
				t.Errorf("%s: no rule forwards root sign-ins from us-east-1", name)
				continue
			}
			var region string
			for _, p := range s.Provider["aws"] {
				if fmt.Sprint("aws.", p["alias"]) == fwd.Provider {
					region, _ = p["region"].(string)
				}
			}
			if region != findings.SignInRegion {
				t.Errorf("%s: the forwarder's provider %q is in %q, want %s", name, fwd.Provider, region, findings.SignInRegion)
			}
			if got, _ := eventpattern.Match([]byte(fwd.Pattern), sampleEvent(t, "signin-root", f.Cfg.Accounts[name].ID, f.Cfg.Region)); !got {
				t.Errorf("%s: the forwarder does not match a root sign-in", name)
			}
			bus := fwd.Target["arn"].(string)
			if !strings.Contains(bus, ":events:"+f.Cfg.Region+":"+f.Cfg.Accounts[name].ID+":event-bus/default") || fwd.Target["role_arn"] == nil {
				t.Errorf("%s: the forwarder targets %s (role %v), want the home region's default bus with a role", name, bus, fwd.Target["role_arn"])
			}
		}
	})
}

// TestFindingsAggregatedAcrossRegions: the security account's Security
// Hub brings every other watched region's findings home (who is enrolled
// where is TestFindingsEnrolledInEveryWatchedRegion's).
func TestFindingsAggregatedAcrossRegions(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		cfg := f.Cfg
		if !cfg.Baseline.SecurityHubOn() {
			return
		}
		secName, _ := cfg.AccountOfKind(config.KindSecurity)
		aggs := readStack(t, synthOf(t, f), secName).resources("aws_securityhub_finding_aggregator")
		others := cfg.OtherWatchedRegions()
		if len(others) == 0 {
			if len(aggs) != 0 {
				t.Errorf("security aggregates findings although no other region is watched: %v", aggs)
			}
			return
		}
		agg := firstOf(aggs)
		var linked []string
		for _, r := range agg["specified_regions"].([]any) {
			linked = append(linked, r.(string))
		}
		slices.Sort(linked)
		want := slices.Sorted(slices.Values(others))
		if len(aggs) != 1 || agg["linking_mode"] != "SPECIFIED_REGIONS" || agg["provider"] != nil || !slices.Equal(linked, want) {
			t.Errorf("security's finding aggregator links %v (%v, provider %v), want every other watched region %v, from home", linked, agg["linking_mode"], agg["provider"], want)
		}
	})
}

// firstOf is the only resource of a resource map.
func firstOf(rs map[string]map[string]any) map[string]any {
	for _, r := range rs {
		return r
	}
	return map[string]any{}
}
