package tests

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/tfjson"
)

// regionalTypes are the resource types of the regional baseline
// (constructs/regionalbaseline), each made once per watched region.
var regionalTypes = []string{
	"aws_guardduty_detector", "aws_config_configuration_recorder", "aws_config_delivery_channel",
	"aws_config_configuration_recorder_status", "aws_accessanalyzer_analyzer", "aws_ebs_encryption_by_default",
	"aws_default_vpc",
}

// regionalBaselineProblems checks, in every account stack, that each
// watched region has exactly one of each regional baseline resource, each
// on the provider for that region, wired to each other, and that no
// resource of those types lives in a region that is not watched.
func regionalBaselineProblems(cfg *config.Config, d stackDocs) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	watched := cfg.WatchedRegions()
	_, sec := cfg.AccountOfKind(config.KindSecurity)
	logsName, _ := cfg.AccountOfKind(config.KindLogs)
	configBucket := ""
	names := cfg.MemberAccountNames()
	if mgmt, _ := cfg.Management(); mgmt != "" {
		d = withManagementBaseline(d, mgmt)
		names = append(names, mgmt)
	}
	for _, name := range names {
		doc := d[name]
		if doc == nil {
			bad("%s: no stack", name)
			continue
		}
		// Provider key ("aws" or "aws.<alias>") -> region.
		regionOf := providerRegions(doc)
		if regionOf["aws"] != cfg.Region {
			bad("%s: default provider in %q, want the home region %s", name, regionOf["aws"], cfg.Region)
		}
		byRegion := map[string]map[string][]string{} // region -> type -> names
		at := func(typ, rname string, r map[string]any) string {
			key := "aws"
			if p, _ := r["provider"].(string); p != "" {
				key = strings.TrimSuffix(strings.TrimPrefix(p, "${"), "}")
			}
			region, ok := regionOf[key]
			if !ok {
				bad("%s: %s.%s uses provider %s, which the stack does not configure", name, typ, rname, key)
			}
			return region
		}
		for _, typ := range append(slices.Clone(regionalTypes), "aws_guardduty_detector_feature", "aws_securityhub_account",
			"aws_securityhub_standards_subscription", "aws_default_security_group", "aws_default_network_acl", "aws_config_aggregate_authorization") {
			for rname, v := range d.of(name, typ) {
				r, _ := v.(map[string]any)
				region := at(typ, rname, r)
				if byRegion[region] == nil {
					byRegion[region] = map[string][]string{}
				}
				byRegion[region][typ] = append(byRegion[region][typ], rname)
			}
		}
		for region := range byRegion {
			if region != "" && !slices.Contains(watched, region) && len(byRegion[region]["aws_guardduty_detector"]) > 0 {
				bad("%s: a detector in %s, which is not watched", name, region)
			}
		}
		res := func(typ, n string) map[string]any { r, _ := d.of(name, typ)[n].(map[string]any); return r }
		for _, region := range watched {
			in := byRegion[region]
			where := name + " " + region
			one := func(typ string) (string, map[string]any) {
				if n := len(in[typ]); n != 1 {
					bad("%s: %d %s, want 1", where, n, typ)
					return "", nil
				}
				return in[typ][0], res(typ, in[typ][0])
			}
			if _, det := one("aws_guardduty_detector"); det != nil && det["enable"] != true {
				bad("%s: GuardDuty detector not enabled", where)
			}
			detName := ""
			if len(in["aws_guardduty_detector"]) == 1 {
				detName = in["aws_guardduty_detector"][0]
			}
			features := map[string]map[string]any{}
			for _, fn := range in["aws_guardduty_detector_feature"] {
				f := res("aws_guardduty_detector_feature", fn)
				if tfjson.Ref(f["detector_id"]) != "aws_guardduty_detector."+detName {
					bad("%s: feature %s is on %v, not the region's detector", where, fn, f["detector_id"])
				}
				if f["status"] == "ENABLED" {
					features[fmt.Sprint(f["name"])] = f
				}
			}
			for _, want := range []string{"S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION", "RDS_LOGIN_EVENTS", "LAMBDA_NETWORK_LOGS", "RUNTIME_MONITORING"} {
				if features[want] == nil {
					bad("%s: GuardDuty feature %s not enabled", where, want)
				}
			}
			if rt := features["RUNTIME_MONITORING"]; rt != nil {
				agents := map[any]any{}
				for _, c := range tfjson.Blocks(rt["additional_configuration"]) {
					agents[c["name"]] = c["status"]
				}
				if agents["ECS_FARGATE_AGENT_MANAGEMENT"] != "ENABLED" || agents["EC2_AGENT_MANAGEMENT"] != "ENABLED" {
					bad("%s: runtime monitoring agents %v, want ECS Fargate and EC2 agent management", where, agents)
				}
			}
			recName, rec := one("aws_config_configuration_recorder")
			if rec != nil {
				g := first(rec["recording_group"])
				if g["all_supported"] != true {
					bad("%s: recorder does not record every supported type", where)
				}
				if global := g["include_global_resource_types"] == true; global != (region == cfg.Region) {
					bad("%s: recorder records global resource types = %v; want them only in the home region", where, global)
				}
			}
			if _, ch := one("aws_config_delivery_channel"); ch != nil {
				b, _ := ch["s3_bucket_name"].(string)
				if configBucket == "" {
					configBucket = b
				}
				if b != configBucket {
					bad("%s: delivers to %q, another region to %q", where, b, configBucket)
				}
			}
			if _, st := one("aws_config_configuration_recorder_status"); st != nil {
				if st["is_enabled"] != true || tfjson.Ref(st["name"]) != "aws_config_configuration_recorder."+recName {
					bad("%s: recorder status %v does not turn this region's recorder on", where, st)
				}
			}
			if _, an := one("aws_accessanalyzer_analyzer"); an != nil && an["type"] != "ACCOUNT" {
				bad("%s: analyzer type %v", where, an["type"])
			}
			if _, e := one("aws_ebs_encryption_by_default"); e != nil && e["enabled"] != true {
				bad("%s: EBS encryption by default off", where)
			}
			if vpcName, _ := one("aws_default_vpc"); vpcName != "" {
				sgs := 0
				for _, n := range in["aws_default_security_group"] {
					sg := res("aws_default_security_group", n)
					if tfjson.Ref(sg["vpc_id"]) != "aws_default_vpc."+vpcName {
						continue // the landing zone VPC's own default group
					}
					sgs++
					if sg["ingress"] != nil || sg["egress"] != nil {
						bad("%s: the default VPC's security group %s keeps rules", where, n)
					}
				}
				acls := 0
				for _, n := range in["aws_default_network_acl"] {
					acl := res("aws_default_network_acl", n)
					if tfjson.Ref(acl["default_network_acl_id"]) != "aws_default_vpc."+vpcName {
						continue
					}
					acls++
					if acl["ingress"] != nil || acl["egress"] != nil {
						bad("%s: the default VPC's network ACL %s keeps rules", where, n)
					}
				}
				if sgs != 1 || acls != 1 {
					bad("%s: default VPC locked by %d security groups and %d network ACLs, want 1 and 1", where, sgs, acls)
				}
			}
			if cfg.Baseline.SecurityHubOn() {
				one("aws_securityhub_account")
				want := awsenv.New(cfg.Accounts[name].ID, region).Partition.ARN("securityhub", region, "", "standards/cis-aws-foundations-benchmark/v/3.0.0")
				var cis []string
				for _, n := range in["aws_securityhub_standards_subscription"] {
					if arn, _ := res("aws_securityhub_standards_subscription", n)["standards_arn"].(string); strings.Contains(arn, "cis-aws-foundations-benchmark") {
						cis = append(cis, arn)
					}
				}
				if !slices.Equal(cis, []string{want}) {
					bad("%s: Security Hub CIS subscriptions %v, want [%s]", where, cis, want)
				}
			}
			if cfg.Accounts[name] != sec {
				if _, a := one("aws_config_aggregate_authorization"); a != nil && (a["account_id"] != sec.ID || a["region"] != cfg.Region) {
					bad("%s: authorizes %v in %v, want the security account's aggregator in %s", where, a["account_id"], a["region"], cfg.Region)
				}
			}
		}
		if cfg.Accounts[name] == sec {
			for n, v := range d.of(name, "aws_config_configuration_aggregator") {
				src := first(v.(map[string]any)["account_aggregation_source"])
				var regions []string
				for _, r := range src["regions"].([]any) {
					regions = append(regions, fmt.Sprint(r))
				}
				if !slices.Equal(sortedStrings(regions), sortedStrings(watched)) {
					bad("%s: aggregator %s collects from %v, want the watched regions %v", name, n, regions, watched)
				}
			}
		}
	}
	if configBucket != "" && len(d.where(logsName, "aws_s3_bucket", `"bucket":"`+configBucket+`"`)) != 1 {
		bad("Config delivers to %q, which is not a bucket of the logs account %s", configBucket, logsName)
	}
	return out
}

// withManagementBaseline returns d with the management account's two stacks
// as one under its name: the baseline stack makes its regional baseline,
// the organization stack its Security Hub (turned on before designating
// the administrator). Both configure the same provider per region.
func withManagementBaseline(d stackDocs, mgmt string) stackDocs {
	out := stackDocs{}
	for k, v := range d {
		out[k] = v
	}
	base := d[config.ManagementBaselineStack(mgmt)]
	if base == nil {
		return out
	}
	merged := map[string]any{"provider": base["provider"]}
	all := map[string]any{}
	for _, doc := range []map[string]any{base, d[mgmt]} {
		rs, _ := doc["resource"].(map[string]any)
		for typ, byName := range rs {
			m, _ := all[typ].(map[string]any)
			if m == nil {
				m = map[string]any{}
				all[typ] = m
			}
			for n, r := range byName.(map[string]any) {
				m[n] = r
			}
		}
	}
	merged["resource"] = all
	out[mgmt] = merged
	return out
}

func sortedStrings(s []string) []string { return slices.Sorted(slices.Values(s)) }

// TestRegionalBaselineInEveryWatchedRegion: every account has the regional
// baseline in every watched region, through that region's provider, for
// every fixture (one of which watches the full default list).
func TestRegionalBaselineInEveryWatchedRegion(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		d := readDocs(t, synthOf(t, f))
		for _, p := range regionalBaselineProblems(f.Cfg, d) {
			t.Error(p)
		}
		regions := len(f.Cfg.WatchedRegions())
		for _, name := range f.Cfg.MemberAccountNames() {
			n := 0
			for _, typ := range regionalTypes {
				n += len(d.of(name, typ))
			}
			t.Logf("%s: %d watched regions, %d providers, %d regional baseline resources of the main types", name, regions, len(tfjson.Blocks(d[name]["provider"].(map[string]any)["aws"])), n)
		}
	})
}

// TestDefaultWatchedRegionsArePlanned: some fixture leaves regions.watched
// at its default, so the full list is synthesized and planned.
func TestDefaultWatchedRegionsArePlanned(t *testing.T) {
	skipIfRepoOnly(t)
	for _, f := range propertyConfigs(t) {
		if got := f.Cfg.WatchedRegions(); len(got) >= len(config.DefaultWatchedRegions) && !slices.ContainsFunc(config.DefaultWatchedRegions, func(r string) bool { return !slices.Contains(got, r) }) {
			return
		}
	}
	t.Error("no fixture watches every default region: leave regions.watched unset in one")
}

// TestRegionalBaselineCheckCatchesAGap breaks the example's synth: one
// region's detector removed, one region's provider removed, global types
// recorded in a second region, the CIS 1.4 standard back. Each must fail.
func TestRegionalBaselineCheckCatchesAGap(t *testing.T) {
	f := fixtureConfig(t, exampleFixture)
	cfg, out := f.Cfg, synthOf(t, f)
	other := cfg.OtherWatchedRegions()
	if len(other) == 0 {
		t.Fatal("the example watches only its home region; the broken cases need another")
	}
	app := appAccounts(cfg)[0]
	region := other[len(other)-1]
	cases := map[string]func(t *testing.T, d stackDocs){
		"a region's detector dropped": func(t *testing.T, d stackDocs) {
			d.remove(t, app, "aws_guardduty_detector", `"provider":"aws.`+region+`"`)
		},
		"a region's provider dropped": func(t *testing.T, d stackDocs) {
			ps := d[app]["provider"].(map[string]any)
			var keep []any
			for _, p := range tfjson.Blocks(ps["aws"]) {
				if p["region"] != region {
					keep = append(keep, p)
				}
			}
			ps["aws"] = keep
		},
		"global types recorded in another region": func(t *testing.T, d stackDocs) {
			for _, n := range d.where(app, "aws_config_configuration_recorder", `"provider":"aws.`+region+`"`) {
				first(d.of(app, "aws_config_configuration_recorder")[n].(map[string]any)["recording_group"])["include_global_resource_types"] = true
			}
		},
		"CIS 1.4 instead of v3.0.0 at home": func(t *testing.T, d stackDocs) {
			for _, v := range d.of(app, "aws_securityhub_standards_subscription") {
				r := v.(map[string]any)
				if arn, _ := r["standards_arn"].(string); r["provider"] == nil && strings.HasSuffix(arn, "/v/3.0.0") {
					r["standards_arn"] = strings.TrimSuffix(arn, "3.0.0") + "1.4.0"
				}
			}
		},
	}
	if problems := regionalBaselineProblems(cfg, readDocs(t, out)); len(problems) > 0 {
		t.Fatalf("the unbroken synth must pass: %v", problems)
	}
	for _, name := range slices.Sorted(maps.Keys(cases)) {
		t.Run(name, func(t *testing.T) {
			d := readDocs(t, out)
			cases[name](t, d)
			problems := regionalBaselineProblems(cfg, d)
			if len(problems) == 0 {
				t.Fatal("the check passed a broken baseline")
			}
			t.Logf("caught: %s", problems[0])
		})
	}
}
