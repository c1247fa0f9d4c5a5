package tests

import (
	"encoding/base64"
	"encoding/json"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/acme/landing-zone/constructs/githuboidc"
	"github.com/acme/landing-zone/constructs/network"
	"github.com/acme/landing-zone/constructs/vpn"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/tfjson"
)

// vpnUserData decodes the OpenVPN server's user data from the synthesized
// shared-services stack of f: what the instance will really run.
func vpnUserData(t *testing.T, f fixture) string {
	t.Helper()
	shared, _ := f.Cfg.AccountOfKind(config.KindShared)
	server := f.Cfg.NamePrefix + "-openvpn"
	for _, lt := range readStack(t, synthOf(t, f), shared).resources("aws_launch_template") {
		if lt["name"] != server {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(lt["user_data"].(string))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	t.Fatalf("no %s launch template in %s", server, shared)
	return ""
}

// dottedRoute is OpenVPN's "<address> <netmask>" form of a CIDR.
func dottedRoute(cidr string) string {
	p := netip.MustParsePrefix(cidr)
	return p.Addr().String() + " " + net.IP(net.CIDRMask(p.Bits(), 32)).String()
}

func TestVPNPushesARouteToEveryPeeredVPC(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		ud := vpnUserData(t, f)
		_, shared := f.Cfg.AccountOfKind(config.KindShared)
		routes := 0
		for _, name := range vpcAccounts(f.Cfg) {
			want := `push "route ` + dottedRoute(f.Cfg.Accounts[name].VPC.CIDR) + `"`
			if !strings.Contains(ud, want) {
				t.Errorf("user data does not push %s for %s", want, name)
			}
			routes++
		}
		if got := strings.Count(ud, `push "route `); got != routes || routes != len(appAccounts(f.Cfg))+1 {
			t.Errorf("user data pushes %d routes, want exactly %d (the management VPC and each app VPC)", got, len(appAccounts(f.Cfg))+1)
		}
		for _, want := range []string{
			"apt-get install -y openvpn easy-rsa fail2ban unattended-upgrades",
			`APT::Periodic::Unattended-Upgrade "1";`,
			"aws s3 cp \"s3://$BUCKET/pki/pki.tar.gz\"", // restore before creating
			"server " + dottedRoute(shared.VPN.ClientCIDR) + "\n",
			"port " + strconv.Itoa(shared.VPN.Port) + "\n",
			"aws iam get-group --group-name \"" + config.VPNGroupName + "\"",
			"--allocation-id \"$(md tags/instance/" + vpn.AllocationTag + ")\"",
		} {
			if !strings.Contains(ud, want) {
				t.Errorf("user data lacks %q", want)
			}
		}
		if strings.Index(ud, "pki/pki.tar.gz\" /tmp") > strings.Index(ud, "init-pki") {
			t.Error("the PKI must be restored from the bucket before a new one is created")
		}
	})
}

func TestVPNUserDataRendersCustomRoutes(t *testing.T) {
	ud := vpn.RenderUserData(vpn.Props{
		Name: "x", Port: 443, VPC: &network.Vpc{CIDR: "10.0.0.0/16"}, ClientCIDR: "192.168.100.0/24",
		Routes: []string{"10.50.0.0/20", "10.60.0.0/24"}, VPNGroup: "g", GroupReaderRole: "arn:aws:iam::1:role/r",
	}, "eu-west-1", "bucket")
	for _, want := range []string{`push "route 10.0.0.0 255.255.0.0"`, `push "route 10.50.0.0 255.255.240.0"`, `push "route 10.60.0.0 255.255.255.0"`,
		"server 192.168.100.0 255.255.255.0", "port 443", `push "dhcp-option DNS 10.0.0.2"`} {
		if !strings.Contains(ud, want) {
			t.Errorf("rendered user data lacks %q", want)
		}
	}
}

// TestOnlyTheVPNAndPublicALBsAreOpenToTheInternet walks every stack: the
// only ingress from 0.0.0.0/0 or ::/0 is the VPN port on the VPN server
// (when its allowed_cidrs include everyone) and TCP 80/443 on each app
// account's public load balancer.
func TestOnlyTheVPNAndPublicALBsAreOpenToTheInternet(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		out := synthOf(t, f)
		_, shared := f.Cfg.AccountOfKind(config.KindShared)
		server := f.Cfg.NamePrefix + "-openvpn"
		vpnKey := "udp/" + strconv.Itoa(shared.VPN.Port) + "-" + strconv.Itoa(shared.VPN.Port)
		allowed := map[string]bool{}
		for _, stack := range stackNames(t, out) {
			s := readStack(t, out, stack)
			names := map[string]string{}
			for id, g := range s.resources("aws_security_group") {
				names["aws_security_group."+id] = g["name"].(string)
				if g["ingress"] != nil {
					t.Errorf("%s: security group %s has inline ingress rules", stack, id)
				}
			}
			for id, r := range s.resources("aws_vpc_security_group_ingress_rule") {
				if r["cidr_ipv4"] != "0.0.0.0/0" && r["cidr_ipv6"] != "::/0" {
					continue
				}
				group := names[tfjson.Ref(r["security_group_id"])]
				key := r["ip_protocol"].(string) + "/" + portOf(r["from_port"]) + "-" + portOf(r["to_port"])
				switch {
				case group == server && key == vpnKey:
				case strings.HasSuffix(group, "-public-alb") && (key == "tcp/443-443" || key == "tcp/80-80"):
				default:
					t.Errorf("%s: %s opens %s on %q to the internet", stack, id, key, group)
				}
				allowed[group+" "+key] = true
			}
		}
		var want []string
		if slices.Contains(shared.VPN.AllowedCIDRs, "0.0.0.0/0") {
			want = append(want, server+" "+vpnKey)
		}
		for _, name := range appAccounts(f.Cfg) {
			want = append(want, envName(f.Cfg, name)+"-public-alb tcp/443-443", envName(f.Cfg, name)+"-public-alb tcp/80-80")
		}
		for _, w := range want {
			if !allowed[w] {
				t.Errorf("%s is not open to the internet; internet-facing rules: %v", w, allowed)
			}
		}
		if len(allowed) != len(want) {
			t.Errorf("internet-facing openings %v, want exactly %v", allowed, want)
		}
	})
}

func portOf(v any) string {
	f, _ := v.(float64)
	return strconv.Itoa(int(f))
}

type trustDoc struct {
	Statement []struct {
		Effect    string
		Action    []string
		Principal map[string][]string
		Condition map[string]map[string][]string
	}
}

// TestApplyRoleTrustsOnlyTheMainBranch checks every account's apply role:
// one statement, GitHub's issuer, the sts audience, and a subject equal to
// the stack's environment on refs/heads/main of source_repo. No wildcards.
func TestApplyRoleTrustsOnlyTheMainBranch(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		out := synthOf(t, f)
		for _, stack := range f.Cfg.MemberAccountNames() { // no CI roles in the management account
			roles := map[string]map[string]any{}
			for _, r := range readStack(t, out, stack).resources("aws_iam_role") {
				roles[r["name"].(string)] = r
			}
			apply, ok := roles[githuboidc.ApplyRole]
			if !ok {
				t.Fatalf("%s has no %s role", stack, githuboidc.ApplyRole)
			}
			var doc trustDoc
			if err := json.Unmarshal([]byte(apply["assume_role_policy"].(string)), &doc); err != nil {
				t.Fatal(err)
			}
			if len(doc.Statement) != 1 {
				t.Fatalf("%s: apply trust has %d statements", stack, len(doc.Statement))
			}
			st := doc.Statement[0]
			want := "repo:" + f.Cfg.SourceRepo + ":environment:" + stack + ":ref:refs/heads/main"
			sub := st.Condition["StringEquals"]["token.actions.githubusercontent.com:sub"]
			if len(sub) != 1 || sub[0] != want || strings.Contains(sub[0], "*") {
				t.Errorf("%s: apply role trusts subject %v, want exactly %q", stack, sub, want)
			}
			if len(st.Condition) != 1 || st.Condition["StringEquals"]["token.actions.githubusercontent.com:aud"][0] != "sts.amazonaws.com" {
				t.Errorf("%s: apply trust conditions %v: want StringEquals on aud and sub only", stack, st.Condition)
			}
			if st.Principal["Federated"][0] != "arn:aws:iam::"+f.Cfg.Accounts[stack].ID+":oidc-provider/token.actions.githubusercontent.com" {
				t.Errorf("%s: apply role trusts %v", stack, st.Principal)
			}
			plan := roles[githuboidc.PlanRole]["assume_role_policy"].(string)
			if !strings.Contains(plan, `"repo:`+f.Cfg.SourceRepo+`:pull_request:ref:refs/pull/*/merge"`) || strings.Contains(plan, "refs/heads") {
				t.Errorf("%s: plan role trust is not limited to pull requests: %s", stack, plan)
			}
		}
	})
}

// rolePolicies maps each role name of a stack to its inline policy.
func rolePolicies(s stackJSON) map[string]string {
	names := map[string]string{}
	for id, r := range s.resources("aws_iam_role") {
		names["aws_iam_role."+id] = r["name"].(string)
	}
	out := map[string]string{}
	for _, p := range s.resources("aws_iam_role_policy") {
		out[names[tfjson.Ref(p["role"])]] = p["policy"].(string)
	}
	return out
}

// TestAppRepositoriesGetNarrowRoles: each ECR repository with a github_repo
// gets a push role for that repository alone, trusted by that GitHub
// repository's main branch; each service whose image lives in such a
// repository gets a deploy role in its account that may update that service
// alone; other services get none.
func TestAppRepositoriesGetNarrowRoles(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		out := synthOf(t, f)
		sharedName, shared := f.Cfg.AccountOfKind(config.KindShared)
		registry := "arn:aws:ecr:" + f.Cfg.Region + ":" + shared.ID + ":repository/"
		s := readStack(t, out, sharedName)
		push := rolePolicies(s)
		trusts := map[string]string{}
		for _, r := range s.resources("aws_iam_role") {
			trusts[r["name"].(string)] = r["assume_role_policy"].(string)
		}
		for _, repo := range shared.ECR.RepositoryNames() {
			gh := shared.ECR.Repositories[repo].GitHubRepo
			p, ok := push["github-push-"+repo]
			if ok != (gh != "") {
				t.Errorf("repository %s (github_repo %q): push role present = %v", repo, gh, ok)
				continue
			}
			if !ok {
				continue
			}
			if !strings.Contains(p, `"`+registry+repo+`"`) || strings.Count(p, registry) != 1 {
				t.Errorf("%s's push role should reach %s%s only: %s", repo, registry, repo, p)
			}
			if !strings.Contains(trusts["github-push-"+repo], `"repo:`+gh+`:ref:refs/heads/main"`) {
				t.Errorf("%s's push role trusts %s", repo, trusts["github-push-"+repo])
			}
		}
		deploys := 0
		for _, app := range appAccounts(f.Cfg) {
			a := f.Cfg.Accounts[app]
			st := readStack(t, out, app)
			policies := rolePolicies(st)
			trusts := map[string]string{}
			for _, r := range st.resources("aws_iam_role") {
				trusts[r["name"].(string)] = r["assume_role_policy"].(string)
			}
			env := envName(f.Cfg, app)
			for _, svc := range a.ServiceNames() {
				image := a.Services[svc].Image
				var gh string
				if strings.HasPrefix(image, shared.ID+".dkr.ecr."+f.Cfg.Region+".amazonaws.com/") {
					if r := shared.ECR.Repositories[config.ImageRepository(image)]; r != nil {
						gh = r.GitHubRepo
					}
				}
				p, ok := policies["github-deploy-"+svc]
				if ok != (gh != "") {
					t.Errorf("%s: service %s (image %s): deploy role present = %v, want %v", app, svc, image, ok, gh != "")
					continue
				}
				if !ok {
					continue
				}
				deploys++
				arn := "arn:aws:ecs:" + f.Cfg.Region + ":" + a.ID + ":service/" + env + "/" + env + "-" + svc
				if !strings.Contains(p, `"`+arn+`"`) || strings.Count(p, ":service/") != 1 {
					t.Errorf("%s: %s's deploy role should update %s only: %s", app, svc, arn, p)
				}
				// Prod deploys only from the repository's GitHub environment.
				subject := `"repo:` + gh + `:ref:refs/heads/main"`
				if a.Profile == config.ProfileProd {
					subject = `"repo:` + gh + `:environment:` + app + `"`
				}
				if !strings.Contains(trusts["github-deploy-"+svc], subject) || strings.Count(trusts["github-deploy-"+svc], `"repo:`) != 1 {
					t.Errorf("%s: %s's deploy role trusts %s, want only %s", app, svc, trusts["github-deploy-"+svc], subject)
				}
			}
		}
		t.Logf("%d deploy roles checked", deploys)
	})
}

// TestPeeringReachesIntoTheSharedAccountThroughAPinnedProvider checks each
// app stack: an aliased provider pinned to the shared-services account
// accepts the connection and adds the management side's routes (from its
// public tier, where the VPN server is); the app side routes the management
// range from its private-app tier, and from its persistence tier where
// vpn_data_access lets operators reach the data stores.
func TestPeeringReachesIntoTheSharedAccountThroughAPinnedProvider(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		_, shared := f.Cfg.AccountOfKind(config.KindShared)
		for _, stack := range appAccounts(f.Cfg) {
			a := f.Cfg.Accounts[stack]
			s := readStack(t, synthOf(t, f), stack)
			var alias map[string]any
			for _, p := range s.Provider["aws"] {
				if p["alias"] == "shared" {
					alias = p
				}
			}
			if alias == nil || alias["allowed_account_ids"].([]any)[0] != shared.ID {
				t.Fatalf("%s: no aliased provider pinned to %s: %v", stack, shared.ID, s.Provider["aws"])
			}
			accepters := s.resources("aws_vpc_peering_connection_accepter")
			if len(accepters) != 1 {
				t.Errorf("%s: %d peering accepters, want 1", stack, len(accepters))
			}
			for _, acc := range accepters {
				if acc["provider"] != "aws.shared" {
					t.Errorf("%s: accepter runs with %v, not the shared-services provider", stack, acc["provider"])
				}
			}
			toShared, fromShared := 0, 0
			for _, r := range s.resources("aws_route") {
				switch {
				case r["destination_cidr_block"] == shared.VPC.CIDR:
					toShared++
					if r["provider"] != nil || r["vpc_peering_connection_id"] == nil {
						t.Errorf("%s: route to the management VPC from %v does not go over the peering", stack, r["route_table_id"])
					}
				case r["destination_cidr_block"] == a.VPC.CIDR && r["provider"] == "aws.shared":
					fromShared++
				}
			}
			tiers := 1
			if a.DataOverVPN() {
				tiers = 2
			}
			if want := tiers * len(a.VPC.AZs); toShared != want {
				t.Errorf("%s: %d routes to the management VPC, want one per private-app table%s (%d)", stack, toShared, map[bool]string{true: " and persistence table", false: ""}[a.DataOverVPN()], want)
			}
			if want := len(shared.VPC.AZs); fromShared != want {
				t.Errorf("%s: %d routes back from the management VPC, want one per public table there (%d)", stack, fromShared, want)
			}
		}
	})
}

// TestECRRepositoriesAreImmutableScannedEncryptedAndPulledByAppAccountsOnly:
// every configured repository exists, immutable, scanned and KMS-encrypted,
// and only the app accounts may pull from it.
func TestECRRepositoriesAreImmutableScannedEncryptedAndPulledByAppAccountsOnly(t *testing.T) {
	eachConfig(t, func(t *testing.T, f fixture) {
		sharedName, shared := f.Cfg.AccountOfKind(config.KindShared)
		s := readStack(t, synthOf(t, f), sharedName)
		repos := s.resources("aws_ecr_repository")
		var names []string
		for id, r := range repos {
			names = append(names, r["name"].(string))
			enc := r["encryption_configuration"].([]any)[0].(map[string]any)
			if r["image_tag_mutability"] != "IMMUTABLE" || r["image_scanning_configuration"].(map[string]any)["scan_on_push"] != true || enc["encryption_type"] != "KMS" {
				t.Errorf("repository %s: %v", id, r)
			}
		}
		sort.Strings(names)
		if want := shared.ECR.RepositoryNames(); !slices.Equal(names, want) {
			t.Errorf("repositories %v, want the configured %v", names, want)
		}
		var want []string
		for _, app := range appAccounts(f.Cfg) {
			want = append(want, "arn:aws:iam::"+f.Cfg.Accounts[app].ID+":root")
		}
		sort.Strings(want)
		policies := s.resources("aws_ecr_repository_policy")
		if len(policies) != len(repos) {
			t.Errorf("%d repository policies for %d repositories", len(policies), len(repos))
		}
		for id, p := range policies {
			var doc trustDoc
			if err := json.Unmarshal([]byte(p["policy"].(string)), &doc); err != nil {
				t.Fatal(err)
			}
			got := slices.Clone(doc.Statement[0].Principal["AWS"])
			sort.Strings(got)
			if !slices.Equal(got, want) || len(doc.Statement) != 1 {
				t.Errorf("%s lets %v pull, want the app accounts %v", id, got, want)
			}
		}
	})
}
