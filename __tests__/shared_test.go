package tests

import (
	"encoding/base64"
	"encoding/json"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/acme/landing-zone/constructs/githuboidc"
	"github.com/acme/landing-zone/constructs/vpn"
)

// vpnUserData decodes the OpenVPN server's user data from the synthesized
// shared-services stack: what the instance will really run.
func vpnUserData(t *testing.T) string {
	t.Helper()
	for _, lt := range readStack(t, online(t), "shared-services").resources("aws_launch_template") {
		if lt["name"] != "acme-openvpn" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(lt["user_data"].(string))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	t.Fatal("no acme-openvpn launch template in shared-services")
	return ""
}

func TestVPNPushesARouteToEveryPeeredVPC(t *testing.T) {
	ud := vpnUserData(t)
	cfg := loadExample(t)
	routes := 0
	for _, name := range cfg.AccountNames() {
		a := cfg.Accounts[name]
		if a.VPC == nil {
			continue
		}
		p := netip.MustParsePrefix(a.VPC.CIDR)
		want := `push "route ` + p.Addr().String() + " " + net.IP(net.CIDRMask(p.Bits(), 32)).String() + `"`
		if !strings.Contains(ud, want) {
			t.Errorf("user data does not push %s for %s", want, name)
		}
		routes++
	}
	if got := strings.Count(ud, `push "route `); got != routes {
		t.Errorf("user data pushes %d routes, want exactly %d (the VPCs)", got, routes)
	}
	for _, want := range []string{
		"apt-get install -y openvpn easy-rsa fail2ban unattended-upgrades",
		`APT::Periodic::Unattended-Upgrade "1";`,
		"aws s3 cp \"s3://$BUCKET/pki/pki.tar.gz\"", // restore before creating
		"server 172.16.0.0 255.255.240.0",
		"port 1194",
		"aws iam get-group --group-name \"vpn-users\"",
		"--allocation-id \"$(md tags/instance/" + vpn.AllocationTag + ")\"",
	} {
		if !strings.Contains(ud, want) {
			t.Errorf("user data lacks %q", want)
		}
	}
	if strings.Index(ud, "pki/pki.tar.gz\" /tmp") > strings.Index(ud, "init-pki") {
		t.Error("the PKI must be restored from the bucket before a new one is created")
	}
}

func TestVPNUserDataRendersCustomRoutes(t *testing.T) {
	ud := vpn.RenderUserData(vpn.Props{
		Name: "x", Port: 443, VpcCIDR: "10.0.0.0/16", ClientCIDR: "192.168.100.0/24",
		Routes: []string{"10.50.0.0/20", "10.60.0.0/24"}, VPNGroup: "g", GroupReaderRole: "arn:aws:iam::1:role/r", Region: "eu-west-1",
	}, "bucket")
	for _, want := range []string{`push "route 10.0.0.0 255.255.0.0"`, `push "route 10.50.0.0 255.255.240.0"`, `push "route 10.60.0.0 255.255.255.0"`,
		"server 192.168.100.0 255.255.255.0", "port 443", `push "dhcp-option DNS 10.0.0.2"`} {
		if !strings.Contains(ud, want) {
			t.Errorf("rendered user data lacks %q", want)
		}
	}
}

// TestOnlyTheVPNAndPublicALBsAreOpenToTheInternet walks every stack: the
// only ingress from 0.0.0.0/0 or ::/0 is UDP 1194 on the VPN server and TCP
// 80/443 on the public load balancers.
func TestOnlyTheVPNAndPublicALBsAreOpenToTheInternet(t *testing.T) {
	out := online(t)
	allowed := map[string]bool{}
	found := 0
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
			found++
			group := names[refTo(r["security_group_id"])]
			key := r["ip_protocol"].(string) + "/" + portOf(r["from_port"]) + "-" + portOf(r["to_port"])
			switch {
			case group == "acme-openvpn" && key == "udp/1194-1194":
			case strings.HasSuffix(group, "-public-alb") && (key == "tcp/443-443" || key == "tcp/80-80"):
			default:
				t.Errorf("%s: %s opens %s on %q to the internet", stack, id, key, group)
			}
			allowed[group+" "+key] = true
		}
	}
	if found == 0 || !allowed["acme-openvpn udp/1194-1194"] || !allowed["acme-prod-public-alb tcp/443-443"] {
		t.Errorf("expected the VPN port and the public ALBs among internet-facing rules, found %v", allowed)
	}
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
// the stack's environment on refs/heads/main. No wildcards.
func TestApplyRoleTrustsOnlyTheMainBranch(t *testing.T) {
	out := online(t)
	for _, stack := range []string{"logs", "security", "shared-services", "dev", "stage", "prod"} {
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
		want := "repo:acme/landing-zone:environment:" + stack + ":ref:refs/heads/main"
		sub := st.Condition["StringEquals"]["token.actions.githubusercontent.com:sub"]
		if len(sub) != 1 || sub[0] != want || !strings.HasSuffix(sub[0], ":ref:refs/heads/main") {
			t.Errorf("%s: apply role trusts subject %v, want exactly %q", stack, sub, want)
		}
		if len(st.Condition) != 1 || st.Condition["StringEquals"]["token.actions.githubusercontent.com:aud"][0] != "sts.amazonaws.com" {
			t.Errorf("%s: apply trust conditions %v: want StringEquals on aud and sub only", stack, st.Condition)
		}
		if st.Principal["Federated"][0] != "arn:aws:iam::"+loadExample(t).Accounts[stack].ID+":oidc-provider/token.actions.githubusercontent.com" {
			t.Errorf("%s: apply role trusts %v", stack, st.Principal)
		}
		plan := roles[githuboidc.PlanRole]["assume_role_policy"].(string)
		if !strings.Contains(plan, `"repo:acme/landing-zone:pull_request:ref:refs/pull/*/merge"`) || strings.Contains(plan, "refs/heads") {
			t.Errorf("%s: plan role trust is not limited to pull requests: %s", stack, plan)
		}
	}
}

func TestAppRepositoriesGetNarrowRoles(t *testing.T) {
	shared := readStack(t, online(t), "shared-services")
	dev := readStack(t, online(t), "dev")
	policies := func(s stackJSON) map[string]string {
		names := map[string]string{}
		for id, r := range s.resources("aws_iam_role") {
			names["aws_iam_role."+id] = r["name"].(string)
		}
		out := map[string]string{}
		for _, p := range s.resources("aws_iam_role_policy") {
			out[names[refTo(p["role"])]] = p["policy"].(string)
		}
		return out
	}
	push := policies(shared)["github-push-web"]
	if !strings.Contains(push, `"arn:aws:ecr:us-east-1:333333333333:repository/web"`) || strings.Contains(push, "repository/api") {
		t.Errorf("web's push role should reach the web repository only: %s", push)
	}
	deploy := policies(dev)["github-deploy-web"]
	if !strings.Contains(deploy, `"arn:aws:ecs:us-east-1:444444444444:service/acme-dev/acme-dev-web"`) || strings.Contains(deploy, "acme-dev-api") {
		t.Errorf("web's deploy role should update the web service only: %s", deploy)
	}
	for _, r := range dev.resources("aws_iam_role") {
		if r["name"] == "github-deploy-web" && !strings.Contains(r["assume_role_policy"].(string), `"repo:acme/web:ref:refs/heads/main"`) {
			t.Errorf("web's deploy role trusts %s", r["assume_role_policy"])
		}
	}
}

// TestPeeringReachesIntoTheSharedAccountThroughAPinnedProvider checks each
// app stack: an aliased provider pinned to the shared-services account
// accepts the connection and adds the management side's routes; every app
// route table routes the management range through the peering.
func TestPeeringReachesIntoTheSharedAccountThroughAPinnedProvider(t *testing.T) {
	cfg := loadExample(t)
	shared := cfg.Accounts["shared-services"]
	for _, stack := range appStacks {
		s := readStack(t, online(t), stack)
		var alias map[string]any
		for _, p := range s.Provider["aws"] {
			if p["alias"] == "shared" {
				alias = p
			}
		}
		if alias == nil || alias["allowed_account_ids"].([]any)[0] != shared.ID {
			t.Fatalf("%s: no aliased provider pinned to %s: %v", stack, shared.ID, s.Provider["aws"])
		}
		for _, a := range s.resources("aws_vpc_peering_connection_accepter") {
			if a["provider"] != "aws.shared" {
				t.Errorf("%s: accepter runs with %v, not the shared-services provider", stack, a["provider"])
			}
		}
		toShared, fromShared := 0, 0
		for _, r := range s.resources("aws_route") {
			switch {
			case r["destination_cidr_block"] == shared.VPC.CIDR:
				toShared++
			case r["destination_cidr_block"] == cfg.Accounts[stack].VPC.CIDR && r["provider"] == "aws.shared":
				fromShared++
			}
		}
		if want := 3 * len(cfg.Accounts[stack].VPC.AZs); toShared != want {
			t.Errorf("%s: %d routes to the management VPC, want one per route table (%d)", stack, toShared, want)
		}
		if want := 3 * len(shared.VPC.AZs); fromShared != want {
			t.Errorf("%s: %d routes back from the management VPC, want %d", stack, fromShared, want)
		}
	}
}

func TestECRRepositoriesAreImmutableScannedEncryptedAndPulledByAppAccountsOnly(t *testing.T) {
	s := readStack(t, online(t), "shared-services")
	repos := s.resources("aws_ecr_repository")
	if len(repos) != 2 {
		t.Fatalf("want the example's 2 repositories, got %d", len(repos))
	}
	for id, r := range repos {
		enc := r["encryption_configuration"].([]any)[0].(map[string]any)
		if r["image_tag_mutability"] != "IMMUTABLE" || r["image_scanning_configuration"].(map[string]any)["scan_on_push"] != true || enc["encryption_type"] != "KMS" {
			t.Errorf("repository %s: %v", id, r)
		}
	}
	for id, p := range s.resources("aws_ecr_repository_policy") {
		var doc trustDoc
		if err := json.Unmarshal([]byte(p["policy"].(string)), &doc); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(doc.Statement[0].Principal["AWS"], ",")
		want := "arn:aws:iam::444444444444:root,arn:aws:iam::555555555555:root,arn:aws:iam::666666666666:root"
		if got != want || len(doc.Statement) != 1 {
			t.Errorf("%s lets %s pull, want the app accounts %s", id, got, want)
		}
	}
}
