package config_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/config/configtest"
)

// exampleConfig is the example fixture, a copy of the config.yaml the
// repository ships; the bad configs are edits of it.
const exampleConfig = "../../__tests__/testdata/configs/example.yaml"

func exampleYAML(t testing.TB) string { return configtest.Read(t, exampleConfig) }

// edit replaces exactly one occurrence of old in a config (configtest.Edit).
var edit = configtest.Edit

type badConfig struct {
	name   string
	mutate func(t testing.TB, s string) string
	// want are substrings of one reported problem: key path first.
	want []string
}

func replace(old, new string) func(testing.TB, string) string {
	return func(t testing.TB, s string) string { return edit(t, s, old, new) }
}

var badConfigs = []badConfig{
	{"an unknown top-level key is named with its line", replace("region: us-east-1\n", "region: us-east-1\nregoin: eu-west-1\n"),
		[]string{"config.yaml:7: regoin: unknown key", "use one of: accounts, ", "name_prefix, region"}},
	{"an unknown key inside a VPC lists the valid keys", replace("nat: per_az\n", "nat: per_az\n      nat_mode: single\n"),
		[]string{"accounts.prod.vpc.nat_mode: unknown key", "cidr"}},
	{"a missing account ID asks for one", replace("    id: \"444444444444\"\n", ""),
		[]string{"accounts.dev.id: missing", "12-digit"}},
	{"an 11-digit account ID is malformed", replace(`"444444444444"`, `"44444444444"`),
		[]string{"accounts.dev.id:", "not a 12-digit account ID"}},
	{"an account ID with letters is malformed", replace(`"555555555555"`, `"55555555555x"`),
		[]string{"accounts.stage.id:", "not a 12-digit account ID"}},
	{"two accounts with one ID are duplicates", replace(`"555555555555"`, `"444444444444"`),
		[]string{"accounts.stage.id: 444444444444 is also the ID of accounts.dev"}},
	{"a CIDR with host bits set names the real start", replace("cidr: 10.10.0.0/16", "cidr: 10.10.0.1/16"),
		[]string{"accounts.dev.vpc.cidr:", "host bits", "10.10.0.0"}},
	{"a CIDR that is not an address is invalid", replace("cidr: 10.10.0.0/16", "cidr: 10.10.0/16"),
		[]string{"accounts.dev.vpc.cidr:", "not an IPv4 CIDR"}},
	{"a /8 VPC is outside what a VPC allows", replace("cidr: 10.10.0.0/16", "cidr: 10.0.0.0/8"),
		[]string{"accounts.dev.vpc.cidr: /8 is outside"}},
	{"overlapping VPC ranges name both accounts", replace("cidr: 10.20.0.0/16", "cidr: 10.10.128.0/17"),
		[]string{"accounts.stage.vpc.cidr: 10.10.128.0/17 overlaps accounts.dev.vpc.cidr 10.10.0.0/16"}},
	{"an AZ outside the region is rejected", replace("azs: [us-east-1a, us-east-1b]\n", "azs: [us-east-1a, eu-west-1b]\n"),
		[]string{"accounts.dev.vpc.azs[1]:", "not an availability zone of region us-east-1"}},
	{"a repeated AZ is a duplicate", replace("azs: [us-east-1a, us-east-1b]\n", "azs: [us-east-1a, us-east-1a]\n"),
		[]string{"accounts.dev.vpc.azs[1]:", "listed twice"}},
	{"a single AZ is too few for load balancers", replace("azs: [us-east-1a, us-east-1b]\n", "azs: [us-east-1a]\n"),
		[]string{"accounts.dev.vpc.azs: has 1", "at least two"}},
	{"a duplicate account key is reported", replace("  stage:\n", "  dev:\n"),
		[]string{"accounts.dev: duplicate key, first defined at line"}},
	{"a CIDR too small for its subnets says what it needs", replace("cidr: 10.30.0.0/16", "cidr: 10.30.0.0/20"),
		[]string{"accounts.prod.vpc.subnets.private_app: /20 does not fit a /20 VPC", "from 21 to 28"}},
	{"a VPC too small for three tiers of subnets is too small", replace("cidr: 10.10.0.0/16\n      azs: [us-east-1a, us-east-1b]\n", "cidr: 10.10.0.0/24\n      azs: [us-east-1a, us-east-1b]\n      subnets: {public: 26, private_app: 26, private_persistence: 26}\n"),
		[]string{"accounts.dev.vpc.cidr: too small for 2 AZs", "need 384"}},
	{"an unknown NAT mode lists the valid ones", replace("nat: per_az", "nat: triple"),
		[]string{"accounts.prod.vpc.nat: \"triple\" is not a valid value", "single, per_az"}},
	{"a retention CloudWatch does not accept is rejected", replace("flow_log_retention_days: 365", "flow_log_retention_days: 366"),
		[]string{"accounts.prod.vpc.flow_log_retention_days: 366 is not a retention"}},
	{"a word where a number belongs is a type error", replace("flow_log_retention_days: 365", "flow_log_retention_days: a year"),
		[]string{"accounts.prod.vpc.flow_log_retention_days: must be a whole number"}},
	{"an unknown account kind lists the kinds", replace("kind: logs", "kind: audit"),
		[]string{"accounts.logs.kind: \"audit\" is not a valid value"}},
	{"a missing security account is reported", replace("kind: security", "kind: app\n    vpc: {cidr: 10.40.0.0/16, azs: [us-east-1a, us-east-1b]}"),
		[]string{"accounts: has no security account"}},
	{"a deploy role ARN in another account is rejected", replace("    id: \"444444444444\"\n    kind: app\n    profile: dev              # single NAT gateway, 30-day flow logs\n    deploy_role: OrganizationAccountAccessRole", "    id: \"444444444444\"\n    kind: app\n    profile: dev\n    deploy_role: arn:aws:iam::555555555555:role/Deploy"),
		[]string{"accounts.dev.deploy_role: the role is in account 555555555555, not 444444444444"}},
	{"a name prefix that could inject an interpolation is rejected", replace("name_prefix: acme", `name_prefix: "ac${var.x}"`),
		[]string{"name_prefix:", "not a valid name"}},
	{"a region code that does not exist in form is rejected", replace("region: us-east-1", "region: us-east"),
		[]string{"region: \"us-east\" is not an AWS region code"}},
	{"a VPC on the logs account is not allowed", replace("    kind: logs\n", "    kind: logs\n    vpc: {cidr: 10.50.0.0/16, azs: [us-east-1a, us-east-1b]}\n"),
		[]string{"accounts.logs.vpc: logs accounts have no VPC"}},
	{"broken YAML reports the parser's line", replace("name_prefix: acme", "name_prefix: [acme"),
		[]string{"(file):", "line"}},
	{"a source repo that is not owner/name is rejected", replace("source_repo: acme/landing-zone", "source_repo: landing-zone"),
		[]string{"source_repo: \"landing-zone\" is not owner/name"}},
	{"a user in a group that does not exist lists the groups", replace("groups: [developers, vpn-users]", "groups: [developers, devs]"),
		[]string{"baseline.users.bob.groups[1]: no group \"devs\"", "use one of: billing, dev-full-access, dev-read-only, developers"}},
	{"a user listed twice in one group is a duplicate", replace("groups: [developers, vpn-users]", "groups: [developers, developers]"),
		[]string{"baseline.users.bob.groups[1]: \"developers\" is listed twice"}},
	{"a user name that could inject an interpolation is rejected", replace("    bob:\n", "    \"b${var.x}\":\n"),
		[]string{"baseline.users.b${var.x}:", "not a valid IAM user name"}},
	{"a group whose accounts do not exist names the accounts", replace("baseline:\n", "baseline:\n  groups:\n    auditors: {access: read-only, accounts: [logs, audit]}\n"),
		[]string{"baseline.groups.auditors.accounts[1]: no account \"audit\"", "use one of: logs, security"}},
	{"an unknown access level lists the levels", replace("baseline:\n", "baseline:\n  groups:\n    admins: {access: admin, accounts: [prod]}\n"),
		[]string{"baseline.groups.admins.access: \"admin\" is not a valid value", "full-access, read-only, billing, dev, vpn"}},
	{"the all-users group cannot be configured", replace("baseline:\n", "baseline:\n  groups:\n    all-users: {access: read-only, accounts: [prod]}\n"),
		[]string{"baseline.groups.all-users:", "reserved"}},
	{"a password shorter than CIS allows is rejected", replace("baseline:\n", "baseline:\n  password_policy: {min_length: 8}\n"),
		[]string{"baseline.password_policy.min_length: 8 is out of range", "use 14 to 128"}},
	{"a role session over IAM's 12 hours is rejected", replace("baseline:\n", "baseline:\n  role_max_session_hours: 24\n"),
		[]string{"baseline.role_max_session_hours: 24 is out of range", "1 to 12"}},
	{"a trail log retention CloudWatch does not accept is rejected", replace("baseline:\n", "baseline:\n  cloudtrail: {log_retention_days: 42}\n"),
		[]string{"baseline.cloudtrail.log_retention_days: 42 is not a retention"}},
	{"logs that expire before they move to colder storage are rejected", replace("baseline:\n", "baseline:\n  log_buckets: {transition_days: 90, expire_days: 60}\n"),
		[]string{"baseline.log_buckets.expire_days: 60 deletes logs", "more than transition_days (90)"}},
	{"STANDARD_IA before 30 days is rejected", replace("baseline:\n", "baseline:\n  log_buckets: {storage_class: STANDARD_IA, transition_days: 7}\n"),
		[]string{"baseline.log_buckets.transition_days:", "30 days at the earliest"}},
	{"a misspelt baseline key lists the valid keys", replace("baseline:\n", "baseline:\n  securityhub: false\n"),
		[]string{"baseline.securityhub: unknown key", "security_hub"}},
}

// dedent moves the block of lines from the line starting with from up to
// the line starting with to (exclusive) two spaces left, as a block indented
// one level off by mistake.
func dedent(from, to string) func(testing.TB, string) string {
	return func(t testing.TB, s string) string {
		i := strings.Index(s, from)
		if i < 0 || strings.Count(s, from) != 1 {
			t.Fatalf("dedent: %q must occur exactly once in the example config", from)
		}
		j := strings.Index(s[i:], to)
		if j < 0 {
			t.Fatalf("dedent: no %q after %q", to, from)
		}
		block := strings.ReplaceAll("\n"+s[i:i+j], "\n  ", "\n")[1:]
		return s[:i] + block + s[i+j:]
	}
}

// everywhere replaces every occurrence of old, for edits such as moving
// every AZ to another region.
func everywhere(pairs ...string) func(testing.TB, string) string {
	return func(t testing.TB, s string) string {
		return strings.NewReplacer(pairs...).Replace(s)
	}
}

// newUserMistakes are the mistakes a new user makes first. Each must come
// back as exactly one problem naming the file, line, key and fix, not as a
// cascade of problems that follow from it.
var newUserMistakes = []badConfig{
	{"a tab names the tab's own line and says to indent with spaces", replace("    profile: dev              # single", "\tprofile: dev              # single"),
		[]string{"config.yaml:48: (file): key \"profile\" is indented with a tab", "indent with spaces"}},
	{"a misspelt region is one region problem with a suggestion, not one per AZ", replace("region: us-east-1\n", "region: eu-centrl-1\n"),
		[]string{"config.yaml:6: region: \"eu-centrl-1\" is not an AWS region", "did you mean eu-central-1?"}},
	{"a region code no one has heard of is not a region", replace("region: us-east-1\n", "region: xx-north-9\n"),
		[]string{"config.yaml:6: region: \"xx-north-9\" is not an AWS region", "such as us-east-1"}},
	{"an unknown profile is one problem, with no budget problem after it", replace("profile: stage\n", "profile: staging\n"),
		[]string{"config.yaml:72: accounts.stage.profile: \"staging\" is not a valid value", "dev, stage, prod"}},
	{"a services block under accounts says which account it belongs to", dedent("    services:\n      web:                    # https://web.dev", "  stage:\n"),
		[]string{"config.yaml:53: accounts.services: is not an account name", "\"services\" is a key of an account: it goes under accounts.dev.services; check its indentation"}},
	{"a VPC key at the account's level says it belongs in the VPC", replace("    vpc:\n      cidr: 10.10.0.0/16\n", "    cidr: 10.10.0.0/16\n    vpc:\n"),
		[]string{"config.yaml:50: accounts.dev.cidr: unknown key \"cidr\"", "\"cidr\" is a key of accounts.dev.vpc; check its indentation"}},
	{"an account key one level too deep says it belongs to the account", replace("    profile: dev              # single NAT gateway, 30-day flow logs\n    deploy_role: OrganizationAccountAccessRole\n    vpc:\n", "    deploy_role: OrganizationAccountAccessRole\n    vpc:\n      profile: dev\n"),
		[]string{"accounts.dev.vpc.profile: unknown key \"profile\"", "\"profile\" is a key of accounts.dev; check its indentation"}},
	{"a service key where service names go says where services' keys go", replace("    services:\n      web:                    # https://web.prod", "    services:\n      port: 8080\n      web:                    # https://web.prod"),
		[]string{"accounts.prod.services.port: is not a service name", "\"port\" is a key of a service: it goes under accounts.prod.services.SERVICE.port"}},
	{"a GovCloud region is rejected: the product is proven only in the aws partition", everywhere("us-east-1", "us-gov-west-1"),
		[]string{"config.yaml:6: region: us-gov-west-1 is in the aws-us-gov partition", "only for the commercial aws partition", "choose a commercial AWS region"}},
	{"a China region is rejected: the product is proven only in the aws partition", everywhere("region: us-east-1", "region: cn-north-1", "us-east-1a", "cn-north-1a", "us-east-1b", "cn-north-1b", "us-east-1c", "cn-north-1c"),
		[]string{"config.yaml:6: region: cn-north-1 is in the aws-cn partition", "choose a commercial AWS region"}},
}

// TestBadConfigs checks that each bad config fails to load with a problem
// that names the key path and the fix.
func TestBadConfigs(t *testing.T) {
	if len(badConfigs) < 15 {
		t.Fatalf("the table must hold at least 15 bad configs, it has %d", len(badConfigs))
	}
	base := exampleYAML(t)
	for _, c := range append(badConfigs, newUserMistakes...) {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := config.Parse("config.yaml", []byte(c.mutate(t, base)))
			if err == nil {
				t.Fatal("the config loaded; want an error")
			}
			if cfg != nil {
				t.Error("a config with problems must not be returned")
			}
			var ps *config.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("want *config.Problems, got %T: %v", err, err)
			}
			msg := err.Error()
			if slices.ContainsFunc(newUserMistakes, func(m badConfig) bool { return m.name == c.name }) && len(ps.List) != 1 {
				t.Errorf("want exactly one problem, got %d:\n%s", len(ps.List), msg)
			}
			for _, line := range strings.Split(msg, "\n") {
				if containsAll(line, c.want) {
					return
				}
			}
			t.Errorf("no problem line contains all of %q:\n%s", c.want, msg)
		})
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestAllProblemsAreReportedAtOnce breaks three unrelated things and wants
// all three, each with a fix, in one error.
func TestAllProblemsAreReportedAtOnce(t *testing.T) {
	s := exampleYAML(t)
	s = edit(t, s, `"444444444444"`, `"4444"`)
	s = edit(t, s, "cidr: 10.20.0.0/16", "cidr: 10.0.0.0/16")
	s = edit(t, s, "nat: per_az", "nat: both")
	_, err := config.Parse("config.yaml", []byte(s))
	var ps *config.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want *config.Problems, got %v", err)
	}
	if len(ps.List) != 3 {
		t.Fatalf("want 3 problems, got %d:\n%v", len(ps.List), err)
	}
	for _, p := range ps.List {
		if p.Fix == "" || p.Line == 0 {
			t.Errorf("problem %q lacks a fix or a line", p)
		}
	}
}

func TestExampleConfigDefaults(t *testing.T) {
	cfg, err := config.Load(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	dev, prod := cfg.Accounts["dev"].VPC, cfg.Accounts["prod"].VPC
	if dev.NAT != config.NATSingle || prod.NAT != config.NATPerAZ {
		t.Errorf("NAT defaults: dev %s, prod %s; want single and per_az", dev.NAT, prod.NAT)
	}
	if dev.FlowLogRetentionDays != 30 || cfg.Accounts["stage"].VPC.FlowLogRetentionDays != 90 {
		t.Errorf("flow log defaults: dev %d, stage %d; want 30 and 90", dev.FlowLogRetentionDays, cfg.Accounts["stage"].VPC.FlowLogRetentionDays)
	}
	if got := dev.Subnets; got.Public != 24 || got.PrivateApp != 20 || got.PrivatePersistence != 24 {
		t.Errorf("subnet defaults for a /16: %+v, want 24/20/24", got)
	}
	want := []string{"logs", "security", "shared-services", "dev", "stage", "prod"}
	if got := cfg.AccountNames(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("account order %v, want %v", got, want)
	}
}

// TestProblemsErrorLeavesTheListAlone: the text is sorted by line, but a
// caller reading List (in the order found) must not see it reordered by a
// call to Error.
func TestProblemsErrorLeavesTheListAlone(t *testing.T) {
	ps := &config.Problems{File: "config.yaml", List: []config.Problem{
		{Path: "region", Line: 9, Msg: "second"},
		{Path: "name_prefix", Line: 2, Msg: "first"},
	}}
	msg := ps.Error()
	if strings.Index(msg, "first") > strings.Index(msg, "second") {
		t.Errorf("the text is not sorted by line:\n%s", msg)
	}
	if ps.List[0].Msg != "second" || ps.List[1].Msg != "first" {
		t.Errorf("Error reordered the list: %v", ps.List)
	}
}
