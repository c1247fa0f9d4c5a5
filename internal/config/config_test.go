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
	{"regions in use without the home region ask for it", replace("# regions:\n#   in_use: [...]   # default: the home region (region, above)\n#   watched: [...]  # default: the 17 (help/regions.md)\n", "regions:\n  in_use: [eu-west-1]\n"),
		[]string{"regions.in_use: does not include the home region us-east-1", "add the home region us-east-1"}},
	{"a region in use that is not watched asks to watch it", replace("# regions:\n#   in_use: [...]   # default: the home region (region, above)\n#   watched: [...]  # default: the 17 (help/regions.md)\n", "regions:\n  in_use: [us-east-1, eu-west-1]\n  watched: [us-east-1]\n"),
		[]string{"regions.watched: does not include eu-west-1, which regions.in_use lists", "must be watched"}},
	{"watched regions without the home region ask for it", replace("# regions:\n#   in_use: [...]   # default: the home region (region, above)\n#   watched: [...]  # default: the 17 (help/regions.md)\n", "regions:\n  watched: [eu-west-1]\n"),
		[]string{"regions.watched: does not include the home region us-east-1"}},
	{"a misspelt watched region suggests the right one", replace("# regions:\n#   in_use: [...]   # default: the home region (region, above)\n#   watched: [...]  # default: the 17 (help/regions.md)\n", "regions:\n  watched: [us-east-1, eu-wset-1]\n"),
		[]string{"regions.watched[1]: \"eu-wset-1\" is not an AWS region", "did you mean eu-west-1?"}},
	{"a region watched twice is a duplicate", replace("# regions:\n#   in_use: [...]   # default: the home region (region, above)\n#   watched: [...]  # default: the 17 (help/regions.md)\n", "regions:\n  watched: [us-east-1, eu-west-1, eu-west-1]\n"),
		[]string{"regions.watched[2]: \"eu-west-1\" is listed twice"}},
	{"an empty watched list asks for regions or the default", replace("# regions:\n#   in_use: [...]   # default: the home region (region, above)\n#   watched: [...]  # default: the 17 (help/regions.md)\n", "regions:\n  watched: []\n"),
		[]string{"regions.watched: is empty", "remove the key for the default"}},
	{"an unknown top-level key is named with its line", replace("region: us-east-1\n", "region: us-east-1\nregoin: eu-west-1\n"),
		[]string{"config.yaml:7: regoin: unknown key", "use one of: accounts, ", "name_prefix, region"}},
	{"an unknown state locking mode lists the modes", replace("  locking: both\n", "  locking: dynamo\n"),
		[]string{"state.locking: \"dynamo\" is not a valid value", "use one of: dynamodb, s3, both"}},
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
	{"logs that expire while Object Lock retains them are rejected", replace("baseline:\n", "baseline:\n  log_buckets: {transition_days: 30, expire_days: 200, object_lock_days: 400}\n"),
		[]string{"baseline.log_buckets.expire_days: 200 expires logs that Object Lock still retains", "use object_lock_days (400) or more"}},
	{"an Object Lock mode S3 does not know is rejected", replace("baseline:\n", "baseline:\n  log_buckets: {object_lock_mode: LEGAL}\n"),
		[]string{"baseline.log_buckets.object_lock_mode", "LEGAL"}},
	{"an Object Lock retention beyond 100 years is rejected", replace("baseline:\n", "baseline:\n  log_buckets: {expire_days: 40000, object_lock_days: 40000}\n"),
		[]string{"baseline.log_buckets.object_lock_days: 40000 is out of range"}},
	{"STANDARD_IA before 30 days is rejected", replace("baseline:\n", "baseline:\n  log_buckets: {storage_class: STANDARD_IA, transition_days: 7}\n"),
		[]string{"baseline.log_buckets.transition_days:", "30 days at the earliest"}},
	{"a misspelt baseline key lists the valid keys", replace("baseline:\n", "baseline:\n  securityhub: false\n"),
		[]string{"baseline.securityhub: unknown key", "security_hub"}},
	{"an ECS Exec group that does not exist lists the groups", replace("exec_groups: [developers]", "exec_groups: [developers, operators]"),
		[]string{"accounts.dev.ecs.exec_groups[1]: no group \"operators\"", "use one of the security account's groups: billing, ", "or add it under baseline.groups"}},
	{"ECS Exec for every user is rejected", replace("exec_groups: [prod-full-access]", "exec_groups: [all-users]"),
		[]string{"accounts.prod.ecs.exec_groups[0]: \"all-users\" would let every user in", "name a group of people"}},
	{"an ECS Exec group listed twice is a duplicate", replace("exec_groups: [developers]", "exec_groups: [developers, developers]"),
		[]string{"accounts.dev.ecs.exec_groups[1]: \"developers\" is listed twice"}},
	{"ECS Exec groups on a logs account are rejected", replace("    kind: logs\n", "    kind: logs\n    ecs: {exec_groups: [developers]}\n"),
		[]string{"accounts.logs.ecs: is set on a logs account", "remove it: only app accounts run these"}},
	{"a service using a disabled database names both keys", replace("    database:                 # prod: 2+ instances across AZs, deletion protection\n", "    database:                 # prod: 2+ instances across AZs, deletion protection\n      enabled: false\n"),
		[]string{"accounts.prod.services.api.use_database:", "accounts.prod.database.enabled is false", "set accounts.prod.database.enabled: true"}},
	{"a service using a disabled cache names both keys", replace("    cache:\n", "    cache:\n      enabled: false\n"),
		[]string{"accounts.prod.services.api.use_cache:", "accounts.prod.cache.enabled is false", "set accounts.prod.cache.enabled: true"}},
	{"a zero backup retention is out of range", replace("    kind: app\n    profile: stage\n", "    kind: app\n    profile: stage\n    backup: {retention_days: 0, copy_retention_days: 4000}\n"),
		[]string{"accounts.stage.backup.copy_retention_days: 4000 is out of range", "from 1 to 3650"}},
	{"an unknown Vault Lock mode lists the modes", replace("    kind: app\n    profile: stage\n", "    kind: app\n    profile: stage\n    backup: {vault_lock: strict}\n"),
		[]string{"accounts.stage.backup.vault_lock:", "compliance", "governance"}},
	{"backups on a logs account are rejected", replace("    kind: logs\n", "    kind: logs\n    backup: {retention_days: 7}\n"),
		[]string{"accounts.logs.backup: is set on a logs account", "remove it: only app accounts run these"}},
	{"a management account needs every account's email", replace("accounts:\n", "accounts:\n  org:\n    id: \"999999999990\"\n    kind: management\n    email: root@example.com\n    deploy_role: OrganizationAdmin\n"),
		[]string{"accounts.logs.email: missing", "every account needs one when a management account is configured", "aws organizations list-accounts"}},
	{"two management accounts are one too many", replace("accounts:\n", "accounts:\n  org:\n    id: \"999999999990\"\n    kind: management\n    email: root@example.com\n    deploy_role: OrganizationAdmin\n  org2:\n    id: \"999999999991\"\n    kind: management\n    deploy_role: OrganizationAdmin\n"),
		[]string{"accounts: has 2 management accounts (org, org2)", "keep one management account"}},
	{"an account email that is not an address is rejected", replace("    kind: logs\n", "    kind: logs\n    email: logs at example.com\n"),
		[]string{"accounts.logs.email: \"logs at example.com\" is not an email address", "aws-dev@example.com"}},
	{"a management account takes no VPC", replace("accounts:\n", "accounts:\n  org:\n    id: \"999999999990\"\n    kind: management\n    email: root@example.com\n    deploy_role: OrganizationAdmin\n    vpc: {cidr: 10.99.0.0/16, azs: [us-east-1a, us-east-1b]}\n"),
		[]string{"accounts.org.vpc: management accounts have no VPC", "remove it"}},
	{"an account named like the management account's baseline stack", func(t testing.TB, s string) string {
		s = edit(t, s, "\n  dev:\n", "\n  org-baseline:\n")
		return edit(t, s, "accounts:\n", "accounts:\n  org:\n    id: \"999999999990\"\n    kind: management\n    email: root@example.com\n    deploy_role: OrganizationAdmin\n")
	},
		[]string{"accounts.org-baseline: clashes with the stack of the management account org", "rename the account"}},
	{"an unknown WAF mode lists the modes", replace("    kind: app\n    profile: stage\n", "    kind: app\n    profile: stage\n    waf: {mode: deny}\n"),
		[]string{"accounts.stage.waf.mode: \"deny\" is not a valid value", "use one of: count, block"}},
	{"a WAF rate limit below what WAF accepts is out of range", replace("    kind: app\n    profile: stage\n", "    kind: app\n    profile: stage\n    waf: {rate_limit: 5}\n"),
		[]string{"accounts.stage.waf.rate_limit: 5 is out of range", "from 10 to 2000000000"}},
	{"a WAF on a logs account is rejected", replace("    kind: logs\n", "    kind: logs\n    waf: {mode: block}\n"),
		[]string{"accounts.logs.waf: is set on a logs account", "only app accounts have a public load balancer"}},
	{"a read-only root with ECS Exec on names both keys", replace("        env: {LOG_LEVEL: debug}\n", "        env: {LOG_LEVEL: debug}\n        read_only_root_filesystem: true\n"),
		[]string{"accounts.dev.services.web.read_only_root_filesystem: is true while ECS Exec is on for dev", "remove ecs.exec_groups", "ECS Exec's agent needs a writable root filesystem"}},
	{"a container user with spaces is rejected", replace("        env: {LOG_LEVEL: debug}\n", "        env: {LOG_LEVEL: debug}\n        user: \"app user\"\n"),
		[]string{"accounts.dev.services.web.user: \"app user\" is not a container user", "\"0\" runs as root"}},
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
		[]string{"config.yaml:51: (file): key \"profile\" is indented with a tab", "indent with spaces"}},
	{"a misspelt region is one region problem with a suggestion, not one per AZ", replace("region: us-east-1\n", "region: eu-centrl-1\n"),
		[]string{"config.yaml:6: region: \"eu-centrl-1\" is not an AWS region", "did you mean eu-central-1?"}},
	{"a region code no one has heard of is not a region", replace("region: us-east-1\n", "region: xx-north-9\n"),
		[]string{"config.yaml:6: region: \"xx-north-9\" is not an AWS region", "such as us-east-1"}},
	{"an unknown profile is one problem, with no budget problem after it", replace("profile: stage\n", "profile: staging\n"),
		[]string{"config.yaml:77: accounts.stage.profile: \"staging\" is not a valid value", "dev, stage, prod"}},
	{"a services block under accounts says which account it belongs to", dedent("    services:\n      web:                    # https://web.dev", "  stage:\n"),
		[]string{"config.yaml:58: accounts.services: is not an account name", "\"services\" is a key of an account: it goes under accounts.dev.services; check its indentation"}},
	{"a VPC key at the account's level says it belongs in the VPC", replace("    vpc:\n      cidr: 10.10.0.0/16\n", "    cidr: 10.10.0.0/16\n    vpc:\n"),
		[]string{"config.yaml:53: accounts.dev.cidr: unknown key \"cidr\"", "\"cidr\" is a key of accounts.dev.vpc; check its indentation"}},
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

// TestRegionsDefault: without a regions block, workloads stay in the home
// region and the baseline watches every region enabled by default (home
// first, once), also for an opt-in home region.
func TestRegionsDefault(t *testing.T) {
	for _, home := range []string{"us-east-1", "eu-south-1"} {
		s := strings.NewReplacer("region: us-east-1\n", "region: "+home+"\n", "# regions:\n#   in_use: [...]   # default: the home region (region, above)\n#   watched: [...]  # default: the 17 (help/regions.md)\n", "").Replace(exampleYAML(t))
		if home != "us-east-1" {
			s = dropAZs(s, home)
		}
		cfg, err := config.Parse("config.yaml", []byte(s))
		if err != nil {
			t.Fatalf("%s: %v", home, err)
		}
		if got := cfg.RegionsInUse(); !slices.Equal(got, []string{home}) {
			t.Errorf("%s: in use %v, want the home region only", home, got)
		}
		got := cfg.WatchedRegions()
		if got[0] != home || len(slices.Compact(slices.Sorted(slices.Values(got)))) != len(got) {
			t.Errorf("%s: watched %v, want the home region first and each once", home, got)
		}
		for _, r := range config.DefaultWatchedRegions {
			if !slices.Contains(got, r) {
				t.Errorf("%s: watched %v lacks the default region %s", home, got, r)
			}
		}
		if want := len(config.DefaultWatchedRegions) + map[bool]int{true: 0, false: 1}[slices.Contains(config.DefaultWatchedRegions, home)]; len(got) != want {
			t.Errorf("%s: %d watched regions, want %d", home, len(got), want)
		}
	}
	if n := len(config.DefaultWatchedRegions); n != 17 {
		t.Errorf("%d default regions; AWS enables 17 by default (those launched before 20 March 2019)", n)
	}
}

// dropAZs moves every us-east-1 AZ of the example to region.
func dropAZs(s, region string) string {
	return strings.NewReplacer("us-east-1a", region+"a", "us-east-1b", region+"b", "us-east-1c", region+"c").Replace(s)
}
