package tests

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/acme/landing-zone/constructs/waf"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/tfjson"
)

// The WAF, the Route 53 health check alarms and the task hardening of
// issue 17, checked on every config: each check returns the problems it
// finds, so that the broken cases can hand it a stack with one thing
// changed and see it fail.

// wafProblems checks an app stack's WAF against its account's config: the
// internet-facing ALB has exactly one web ACL association, every internal
// one none; the ACL runs every managed group and the rate rule at the
// configured limit, all in the configured mode; it logs to an encrypted
// aws-waf-logs-* group with credentials redacted; and an alarm on the
// rules' matches notifies a topic of the stack.
func wafProblems(s stackJSON, acct *config.Account) []string {
	var out []string
	assocs := s.resources("aws_wafv2_web_acl_association")
	byALB := map[string][]map[string]any{}
	for _, a := range assocs {
		byALB[tfjson.Ref(a["resource_arn"])] = append(byALB[tfjson.Ref(a["resource_arn"])], a)
	}
	public := 0
	for id, lb := range s.resources("aws_lb") {
		addr := "aws_lb." + id
		n := len(byALB[addr])
		if lb["internal"] == true {
			if n != 0 {
				out = append(out, fmt.Sprintf("internal %s has %d web ACL associations, want none", addr, n))
			}
			continue
		}
		public++
		if n != 1 {
			out = append(out, fmt.Sprintf("public %s has %d web ACL associations, want exactly 1", addr, n))
			continue
		}
		aclAddr := tfjson.Ref(byALB[addr][0]["web_acl_arn"])
		acl := s.Resource["aws_wafv2_web_acl"][strings.TrimPrefix(aclAddr, "aws_wafv2_web_acl.")]
		if acl == nil {
			out = append(out, fmt.Sprintf("%s: association names %q, not a web ACL of the stack", addr, aclAddr))
			continue
		}
		out = append(out, aclProblems(s, aclAddr, acl, acct.WAF)...)
	}
	if public != 1 {
		out = append(out, fmt.Sprintf("%d internet-facing load balancers, want 1", public))
	}
	return out
}

func aclProblems(s stackJSON, addr string, acl map[string]any, want *config.WAF) []string {
	var out []string
	if acl["scope"] != "REGIONAL" {
		out = append(out, fmt.Sprintf("%s: scope %v, want REGIONAL", addr, acl["scope"]))
	}
	if first(acl["default_action"])["allow"] == nil {
		out = append(out, addr+": default action is not allow")
	}
	if v := first(acl["visibility_config"]); v["cloudwatch_metrics_enabled"] != true || v["sampled_requests_enabled"] != true {
		out = append(out, addr+": metrics or sampled requests off")
	}
	groups := map[string]bool{}
	rate := false
	for _, r := range tfjson.Blocks(acl["rule"]) {
		st := first(r["statement"])
		if v := first(r["visibility_config"]); v["cloudwatch_metrics_enabled"] != true {
			out = append(out, fmt.Sprintf("%s: rule %v has metrics off", addr, r["name"]))
		}
		if g := first(st["managed_rule_group_statement"]); len(g) > 0 {
			groups[fmt.Sprint(g["vendor_name"], "/", g["name"])] = true
			oa := first(r["override_action"])
			if want.Blocks() && oa["none"] == nil || !want.Blocks() && oa["count"] == nil {
				out = append(out, fmt.Sprintf("%s: managed group %v overrides %v, want mode %s", addr, g["name"], oa, want.Mode))
			}
			continue
		}
		if rb := first(st["rate_based_statement"]); len(rb) > 0 {
			rate = true
			if fmt.Sprint(rb["limit"]) != fmt.Sprint(want.RateLimit) || rb["aggregate_key_type"] != "IP" {
				out = append(out, fmt.Sprintf("%s: rate rule limit %v per %v, want %d per IP", addr, rb["limit"], rb["aggregate_key_type"], want.RateLimit))
			}
			a := first(r["action"])
			if want.Blocks() && a["block"] == nil || !want.Blocks() && a["count"] == nil {
				out = append(out, fmt.Sprintf("%s: rate rule action %v, want mode %s", addr, a, want.Mode))
			}
		}
	}
	for _, g := range waf.ManagedRuleGroups {
		if !groups["AWS/"+g] {
			out = append(out, fmt.Sprintf("%s: no managed rule group %s", addr, g))
		}
	}
	if !rate {
		out = append(out, addr+": no rate-based rule")
	}
	out = append(out, wafLoggingProblems(s, addr)...)
	out = append(out, wafAlarmProblems(s, acl)...)
	return out
}

func wafLoggingProblems(s stackJSON, aclAddr string) []string {
	var logging []map[string]any
	for _, l := range s.resources("aws_wafv2_web_acl_logging_configuration") {
		if tfjson.Ref(l["resource_arn"]) == aclAddr {
			logging = append(logging, l)
		}
	}
	if len(logging) != 1 {
		return []string{fmt.Sprintf("%s: %d logging configurations, want 1", aclAddr, len(logging))}
	}
	var out []string
	l := logging[0]
	dests, _ := l["log_destination_configs"].([]any)
	if len(dests) != 1 {
		return []string{fmt.Sprintf("%s: logs to %v, want one log group", aclAddr, dests)}
	}
	arn, _ := dests[0].(string)
	_, name, _ := strings.Cut(arn, ":log-group:")
	if !strings.HasPrefix(name, waf.LogGroupPrefix) {
		out = append(out, fmt.Sprintf("%s: logs to %q; WAF accepts only groups named %s*", aclAddr, arn, waf.LogGroupPrefix))
	}
	var group map[string]any
	for _, g := range s.resources("aws_cloudwatch_log_group") {
		if g["name"] == name {
			group = g
		}
	}
	switch {
	case group == nil:
		out = append(out, fmt.Sprintf("%s: log group %q is not in the stack", aclAddr, name))
	case !strings.HasPrefix(tfjson.Ref(group["kms_key_id"]), "aws_kms_key."):
		out = append(out, fmt.Sprintf("%s: log group %q is not encrypted with a key of the stack (kms_key_id %v)", aclAddr, name, group["kms_key_id"]))
	}
	redacted := map[string]bool{}
	for _, r := range tfjson.Blocks(l["redacted_fields"]) {
		if h := first(r["single_header"]); h["name"] != nil {
			redacted[strings.ToLower(fmt.Sprint(h["name"]))] = true
		}
	}
	for _, h := range []string{"authorization", "cookie"} {
		if !redacted[h] {
			out = append(out, fmt.Sprintf("%s: header %s is not redacted from the logs", aclAddr, h))
		}
	}
	return out
}

// wafAlarmProblems wants an alarm on the ACL's rule metrics (every rule)
// that notifies a topic of the stack.
func wafAlarmProblems(s stackJSON, acl map[string]any) []string {
	rules := map[string]bool{}
	for _, r := range tfjson.Blocks(acl["rule"]) {
		rules[fmt.Sprint(first(r["visibility_config"])["metric_name"])] = true
	}
	for _, a := range s.resources("aws_cloudwatch_metric_alarm") {
		seen := map[string]bool{}
		for _, q := range tfjson.Blocks(a["metric_query"]) {
			m := first(q["metric"])
			d, _ := m["dimensions"].(map[string]any)
			if m["namespace"] == "AWS/WAFV2" && d["WebACL"] == acl["name"] {
				seen[fmt.Sprint(d["Rule"])] = true
			}
		}
		if len(seen) == 0 {
			continue
		}
		for r := range rules {
			if !seen[r] {
				return []string{fmt.Sprintf("WAF alarm %v misses rule metric %s", a["alarm_name"], r)}
			}
		}
		for _, act := range a["alarm_actions"].([]any) {
			if strings.HasPrefix(tfjson.Ref(act), "aws_sns_topic.") {
				return nil
			}
		}
		return []string{fmt.Sprintf("WAF alarm %v notifies no topic of the stack", a["alarm_name"])}
	}
	return []string{fmt.Sprintf("no alarm watches web ACL %v", acl["name"])}
}

// TestEveryPublicALBHasItsWAF: on every config, every app stack's
// internet-facing load balancer has exactly one web ACL, with the managed
// groups and the rate rule in the account's mode (block for prod, count
// elsewhere, unless waf.mode says otherwise), logged to an encrypted
// aws-waf-logs-* group and alarmed.
func TestEveryPublicALBHasItsWAF(t *testing.T) {
	modes := map[string]int{}
	eachConfig(t, func(t *testing.T, f fixture) {
		out := synthOf(t, f)
		for _, name := range appAccounts(f.Cfg) {
			acct := f.Cfg.Accounts[name]
			modes[acct.Profile+"/"+acct.WAF.Mode]++
			for _, p := range wafProblems(readStack(t, out, name), acct) {
				t.Errorf("%s: %s", name, p)
			}
		}
	})
	// The fixtures cover the defaults and an override each way.
	for _, m := range []string{"prod/block", "dev/count", "stage/count", "stage/block", "prod/count"} {
		if modes[m] == 0 && fixturesInPlay(t) {
			t.Errorf("no fixture has an app account with profile/mode %s (have %v)", m, modes)
		}
	}
}

// TestWAFModeDefaultsByProfile: with no waf key, prod blocks and the other
// profiles count; an explicit mode wins either way.
func TestWAFModeDefaultsByProfile(t *testing.T) {
	cfg := fixtureConfig(t, exampleFixture).Cfg
	for _, name := range appAccounts(cfg) {
		acct := cfg.Accounts[name]
		want := config.WAFCount
		if acct.Profile == config.ProfileProd {
			want = config.WAFBlock
		}
		if acct.WAF.Mode != want || acct.WAF.RateLimit != config.DefaultWAFRateLimit {
			t.Errorf("%s (profile %s): waf %+v, want mode %s and rate limit %d by default", name, acct.Profile, *acct.WAF, want, config.DefaultWAFRateLimit)
		}
	}
	qa := fixtureConfig(t, "eu-four-apps").Cfg.Accounts["qa"]
	if qa.Profile != config.ProfileStage || !qa.WAF.Blocks() || qa.WAF.RateLimit != 500 {
		t.Errorf("eu-four-apps qa sets waf {mode: block, rate_limit: 500}; got profile %s, %+v", qa.Profile, *qa.WAF)
	}
}

// TestWAFBrokenCasesFail: each broken stack fails wafProblems.
func TestWAFBrokenCasesFail(t *testing.T) {
	f := fixtureConfig(t, "eu-four-apps")
	out := synthOf(t, f)
	var prod string
	for _, name := range appAccounts(f.Cfg) {
		if f.Cfg.Accounts[name].Profile == config.ProfileProd {
			prod = name
		}
	}
	acct := f.Cfg.Accounts[prod]
	fresh := func() stackJSON { return readStack(t, out, prod) }
	if p := wafProblems(fresh(), acct); len(p) > 0 {
		t.Fatalf("the unbroken stack must pass: %v", p)
	}
	onlyACL := func(s stackJSON) map[string]any {
		for _, a := range s.resources("aws_wafv2_web_acl") {
			return a
		}
		t.Fatal("no web ACL")
		return nil
	}
	cases := map[string]func(s stackJSON){
		"association dropped": func(s stackJSON) { s.Resource["aws_wafv2_web_acl_association"] = nil },
		"managed group dropped": func(s stackJSON) {
			a := onlyACL(s)
			a["rule"] = slices.DeleteFunc(slices.Clone(a["rule"].([]any)), func(r any) bool {
				return strings.Contains(fmt.Sprint(r), "KnownBadInputs")
			})
		},
		"prod rules only count": func(s stackJSON) {
			for _, r := range onlyACL(s)["rule"].([]any) {
				r.(map[string]any)["override_action"] = []any{map[string]any{"count": []any{map[string]any{}}}}
			}
		},
		"log group without the prefix": func(s stackJSON) {
			for _, l := range s.resources("aws_wafv2_web_acl_logging_configuration") {
				arn := l["log_destination_configs"].([]any)[0].(string)
				l["log_destination_configs"] = []any{strings.Replace(arn, waf.LogGroupPrefix, "waf-", 1)}
			}
		},
		"log group unencrypted": func(s stackJSON) {
			for _, g := range s.resources("aws_cloudwatch_log_group") {
				if strings.HasPrefix(fmt.Sprint(g["name"]), waf.LogGroupPrefix) {
					delete(g, "kms_key_id")
				}
			}
		},
		"cookies logged": func(s stackJSON) {
			for _, l := range s.resources("aws_wafv2_web_acl_logging_configuration") {
				l["redacted_fields"] = tfjson.Blocks(l["redacted_fields"])[:1]
			}
		},
	}
	for name, breakIt := range cases {
		s := fresh()
		breakIt(s)
		if p := wafProblems(s, acct); len(p) == 0 {
			t.Errorf("broken case %q passed wafProblems", name)
		} else {
			t.Logf("broken case %q: %s", name, p[0])
		}
	}
}

// healthCheckProblems: every public service of the stack's account has a
// Route 53 health check, each with an alarm in us-east-1 (where Route 53
// publishes the metric) that notifies a topic in us-east-1: outside
// us-east-1 through the stack's provider aliased to us-east-1, in
// us-east-1 through the default provider, with no second provider.
func healthCheckProblems(s stackJSON, cfg *config.Config, account string) []string {
	var out []string
	providerRegion, providerAccount := map[string]string{}, map[string]string{}
	for _, p := range s.Provider["aws"] {
		key := "aws"
		if a, ok := p["alias"].(string); ok {
			key += "." + a
		}
		providerRegion[key] = fmt.Sprint(p["region"])
		providerAccount[key] = fmt.Sprint(p["allowed_account_ids"])
	}
	regionOf := func(r map[string]any) string {
		if p, ok := r["provider"].(string); ok {
			return providerRegion[p]
		}
		return providerRegion["aws"]
	}
	if cfg.Region == "us-east-1" {
		for k, r := range providerRegion {
			// Providers of other accounts (the peering's) do not count.
			if k != "aws" && r == "us-east-1" && providerAccount[k] == providerAccount["aws"] {
				out = append(out, fmt.Sprintf("provider %s is a second us-east-1 provider of the account in a us-east-1 stack", k))
			}
		}
	}
	public := 0
	for _, svc := range cfg.Accounts[account].Services {
		if svc.LoadBalancer == config.LBPublic {
			public++
		}
	}
	checks := s.resources("aws_route53_health_check")
	if len(checks) != public {
		out = append(out, fmt.Sprintf("%d health checks for %d public services", len(checks), public))
	}
	for id := range checks {
		addr := "aws_route53_health_check." + id
		var alarm map[string]any
		for _, a := range s.resources("aws_cloudwatch_metric_alarm") {
			if d, ok := a["dimensions"].(map[string]any); ok && tfjson.Ref(d["HealthCheckId"]) == addr {
				alarm = a
			}
		}
		if alarm == nil {
			out = append(out, addr+": no alarm")
			continue
		}
		if r := regionOf(alarm); r != "us-east-1" {
			out = append(out, fmt.Sprintf("%s: alarm %v is in %s (provider %v), where Route 53 publishes nothing", addr, alarm["alarm_name"], r, alarm["provider"]))
		}
		acts, _ := alarm["alarm_actions"].([]any)
		if len(acts) == 0 {
			out = append(out, fmt.Sprintf("%s: alarm %v notifies nothing", addr, alarm["alarm_name"]))
		}
		for _, act := range acts {
			ref := tfjson.Ref(act)
			topic := s.Resource["aws_sns_topic"][strings.TrimPrefix(ref, "aws_sns_topic.")]
			switch {
			case topic == nil:
				out = append(out, fmt.Sprintf("%s: alarm action %v is not a topic of the stack", addr, act))
			case regionOf(topic) != "us-east-1":
				out = append(out, fmt.Sprintf("%s: alarm notifies %s in %s; alarms notify topics of their own region only", addr, ref, regionOf(topic)))
			case topic["kms_master_key_id"] == nil:
				out = append(out, fmt.Sprintf("%s: topic %s is not encrypted", addr, ref))
			}
		}
	}
	return out
}

// TestHealthCheckAlarmsAreInUSEast1 runs healthCheckProblems on every app
// stack of every config (two of which are outside us-east-1).
func TestHealthCheckAlarmsAreInUSEast1(t *testing.T) {
	outside := 0
	eachConfig(t, func(t *testing.T, f fixture) {
		out := synthOf(t, f)
		if f.Cfg.Region != "us-east-1" {
			outside++
		}
		for _, name := range appAccounts(f.Cfg) {
			for _, p := range healthCheckProblems(readStack(t, out, name), f.Cfg, name) {
				t.Errorf("%s: %s", name, p)
			}
		}
	})
	if outside == 0 && fixturesInPlay(t) {
		t.Error("no config outside us-east-1: the aliased provider is not exercised")
	}
}

// TestHealthCheckBrokenCasesFail: an outside-us-east-1 stack whose alarms
// use the default provider (the alias dropped), or whose us-east-1 topic is
// swapped for a home one, fails healthCheckProblems.
func TestHealthCheckBrokenCasesFail(t *testing.T) {
	f := fixtureConfig(t, "eu-four-apps")
	out := synthOf(t, f)
	acct := appAccounts(f.Cfg)[0]
	if p := healthCheckProblems(readStack(t, out, acct), f.Cfg, acct); len(p) > 0 {
		t.Fatalf("the unbroken stack must pass: %v", p)
	}
	s := readStack(t, out, acct)
	for _, a := range s.resources("aws_cloudwatch_metric_alarm") {
		delete(a, "provider")
	}
	if p := healthCheckProblems(s, f.Cfg, acct); len(p) == 0 {
		t.Error("alarms without the us-east-1 alias passed")
	} else {
		t.Logf("alias dropped: %s", p[0])
	}
	s = readStack(t, out, acct)
	for _, tp := range s.resources("aws_sns_topic") {
		delete(tp, "provider")
	}
	if p := healthCheckProblems(s, f.Cfg, acct); len(p) == 0 {
		t.Error("alarms notifying home-region topics passed")
	} else {
		t.Logf("topics in the home region: %s", p[0])
	}
}

// containerProblems: every task definition's container has the read-only
// root filesystem and the user its service's config asks for (read-only
// and non-root by default), and a read-only one a writable /tmp volume.
func containerProblems(s stackJSON, acct *config.Account, prefix string) []string {
	var out []string
	seen := 0
	for id, td := range s.resources("aws_ecs_task_definition") {
		svcName := strings.TrimPrefix(fmt.Sprint(td["family"]), prefix+"-")
		svc := acct.Services[svcName]
		if svc == nil {
			out = append(out, fmt.Sprintf("task definition %s (family %v) is of no service in the config", id, td["family"]))
			continue
		}
		seen++
		var defs []map[string]any
		if err := json.Unmarshal([]byte(fmt.Sprint(td["container_definitions"])), &defs); err != nil {
			out = append(out, fmt.Sprintf("%s: %v", id, err))
			continue
		}
		volumes := map[string]bool{}
		for _, v := range tfjson.Blocks(td["volume"]) {
			volumes[fmt.Sprint(v["name"])] = true
		}
		for _, c := range defs {
			ro, _ := c["readonlyRootFilesystem"].(bool)
			if ro != svc.ReadOnlyRoot() {
				out = append(out, fmt.Sprintf("%s: container %v readonlyRootFilesystem %v, want %v", svcName, c["name"], ro, svc.ReadOnlyRoot()))
			}
			user, _ := c["user"].(string)
			if user != svc.User {
				out = append(out, fmt.Sprintf("%s: container %v runs as %q, want %q", svcName, c["name"], user, svc.User))
			}
			root := user == "" || user == "0" || user == "root" || strings.HasPrefix(user, "0:") || strings.HasPrefix(user, "root:")
			if root && svc.User == config.DefaultServiceUser {
				out = append(out, fmt.Sprintf("%s: container %v runs as root without opting out", svcName, c["name"]))
			}
			if ro {
				tmp := false
				for _, m := range tfjson.Blocks(c["mountPoints"]) {
					if m["containerPath"] == "/tmp" && m["readOnly"] == false && volumes[fmt.Sprint(m["sourceVolume"])] {
						tmp = true
					}
				}
				if !tmp {
					out = append(out, fmt.Sprintf("%s: read-only container %v has no writable /tmp volume", svcName, c["name"]))
				}
			}
		}
	}
	if seen != len(acct.Services) {
		out = append(out, fmt.Sprintf("%d task definitions for %d services", seen, len(acct.Services)))
	}
	return out
}

// TestTaskContainersAreHardened runs containerProblems on every app stack
// of every config, and checks that the fixtures cover the default, the
// opt-out and the ECS Exec exception.
func TestTaskContainersAreHardened(t *testing.T) {
	kinds := map[string]int{}
	eachConfig(t, func(t *testing.T, f fixture) {
		out := synthOf(t, f)
		for _, name := range appAccounts(f.Cfg) {
			acct := f.Cfg.Accounts[name]
			for _, svc := range acct.Services {
				switch {
				case acct.ExecOn():
					kinds["exec (writable)"]++
				case svc.ReadOnlyRoot() && svc.User == config.DefaultServiceUser:
					kinds["default"]++
				case !svc.ReadOnlyRoot() || svc.User == "0":
					kinds["opted out"]++
				}
			}
			for _, p := range containerProblems(readStack(t, out, name), acct, envName(f.Cfg, name)) {
				t.Errorf("%s: %s", name, p)
			}
		}
	})
	for _, k := range []string{"default", "opted out", "exec (writable)"} {
		if kinds[k] == 0 && fixturesInPlay(t) {
			t.Errorf("no fixture service is %s (have %v)", k, kinds)
		}
	}
}

// TestTaskHardeningBrokenCasesFail: a container made writable, or run as
// root, without the config opting out fails containerProblems.
func TestTaskHardeningBrokenCasesFail(t *testing.T) {
	f := fixtureConfig(t, "eu-four-apps")
	out := synthOf(t, f)
	name := appAccounts(f.Cfg)[0]
	acct := f.Cfg.Accounts[name]
	prefix := envName(f.Cfg, name)
	if p := containerProblems(readStack(t, out, name), acct, prefix); len(p) > 0 {
		t.Fatalf("the unbroken stack must pass: %v", p)
	}
	for _, c := range []struct{ name, from, to string }{
		{"writable root", `"readonlyRootFilesystem":true`, `"readonlyRootFilesystem":false`},
		{"root user", `"user":"` + config.DefaultServiceUser + `"`, `"user":"0"`},
		{"no /tmp", `"containerPath":"/tmp"`, `"containerPath":"/scratch"`},
	} {
		s := readStack(t, out, name)
		changed := false
		for _, td := range s.resources("aws_ecs_task_definition") {
			d := fmt.Sprint(td["container_definitions"])
			if strings.Contains(d, c.from) {
				td["container_definitions"], changed = strings.Replace(d, c.from, c.to, 1), true
				break
			}
		}
		if !changed {
			t.Fatalf("broken case %q: %s is in no container definition of %s", c.name, c.from, name)
		}
		if p := containerProblems(s, acct, prefix); len(p) == 0 {
			t.Errorf("broken case %q passed containerProblems", c.name)
		} else {
			t.Logf("broken case %q: %s", c.name, p[0])
		}
	}
}
