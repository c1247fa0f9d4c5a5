package stacks

import (
	"github.com/acme/landing-zone/constructs/cwagent"
	"github.com/acme/landing-zone/constructs/ecr"
	"github.com/acme/landing-zone/constructs/network"
	"github.com/acme/landing-zone/constructs/peering"
	"github.com/acme/landing-zone/constructs/vpn"
	"github.com/acme/landing-zone/internal/ci"
	"github.com/acme/landing-zone/internal/config"
)

// Shared-services layers hang off the Landing because they span accounts:
// peering reaches into the management account from each app stack, and the
// VPN server reads a group in the security account.

// peerCIDRs are the ranges a VPC is peered with: every app VPC for the
// management VPC, the management VPC for an app VPC.
func peerCIDRs(cfg *config.Config, a *config.Account) []string {
	switch a.Kind {
	case config.KindShared:
		var out []string
		for _, name := range cfg.AccountNames() {
			if o := cfg.Accounts[name]; o.Kind == config.KindApp {
				out = append(out, o.VPC.CIDR)
			}
		}
		return out
	case config.KindApp:
		_, shared := cfg.AccountOfKind(config.KindShared)
		return []string{shared.VPC.CIDR}
	}
	return nil
}

// peeredTiers are the tiers of a VPC that exchange traffic over the
// peering, and so get its routes and network ACL entries: the management
// VPC's public tier (the VPN server) with an app VPC's private-app tier
// (the internal load balancer), and the app VPC's persistence tier where
// operators may reach the data stores over the VPN (vpn_data_access).
// The reachability proof (internal/reach) shows no other tier needs it.
func peeredTiers(a *config.Account) []network.Tier {
	switch {
	case a.Kind == config.KindShared:
		return []network.Tier{network.Public}
	case a.Kind == config.KindApp && a.DataOverVPN():
		return []network.Tier{network.PrivateApp, network.PrivatePersistence}
	case a.Kind == config.KindApp:
		return []network.Tier{network.PrivateApp}
	}
	return nil
}

// trustedCIDRs are the peered ranges each tier's network ACL admits.
func trustedCIDRs(cfg *config.Config, a *config.Account) map[network.Tier][]string {
	out := map[network.Tier][]string{}
	for _, t := range peeredTiers(a) {
		out[t] = peerCIDRs(cfg, a)
	}
	return out
}

// publicPorts opens the VPN port in the management VPC's public tier.
func publicPorts(a *config.Account) []network.Port {
	if a.Kind != config.KindShared {
		return nil
	}
	return []network.Port{{Protocol: "udp", Number: a.VPN.Port}}
}

// vpnProfileBucket is where the VPN server publishes users' profiles.
func vpnProfileBucket(cfg *config.Config) string {
	server, _ := vpnNames(cfg)
	_, shared := cfg.AccountOfKind(config.KindShared)
	return vpn.BucketName(server, shared.ID)
}

// vpnNames are the VPN server's and its group reader's names.
func vpnNames(cfg *config.Config) (server, reader string) {
	return cfg.NamePrefix + "-openvpn", cfg.NamePrefix + "-vpn-group-reader"
}

// addSharedServices adds the VPN server and ECR to shared-services, the VPN
// group reader to security, and the peering to every app stack. It returns
// the VPN server (addMonitoring watches it) and the registry (addCI lets
// repositories push to it).
func (l *Landing) addSharedServices() (*vpn.Server, *ecr.Registry) {
	cfg, shared, sec := l.Shared.Config, l.Shared, l.Security
	acct := shared.Spec
	server, reader := vpnNames(cfg)
	vpc := shared.VPC

	vpn.NewGroupReader(sec.Stack, "vpn-group-reader", vpn.GroupReaderProps{
		Name:          reader,
		ServerRoleARN: shared.Env().Role(server),
		GroupARN:      sec.Env().Partition.IAM(sec.Spec.ID, "group/"+config.VPNGroupName),
	})
	agent := cwagent.New(shared.Stack, "vpn-agent", cwagent.Props{
		Name: server,
		Files: []string{"/var/log/syslog", "/var/log/auth.log", "/var/log/openvpn/server.log", "/var/log/fail2ban.log",
			"/var/log/unattended-upgrades/unattended-upgrades.log", "/var/log/cloud-init-output.log"},
		LogKey: shared.LogKey(), RetentionDays: acct.VPC.FlowLogRetentionDays,
	})
	srv := vpn.New(shared.Stack, "vpn", vpn.Props{
		Name: server, VPC: vpc, Tier: network.Public,
		Port: acct.VPN.Port, AllowedCIDRs: acct.VPN.AllowedCIDRs, ClientCIDR: acct.VPN.ClientCIDR,
		Routes: peerCIDRs(cfg, acct), InstanceType: acct.VPN.InstanceType,
		VPNGroup: config.VPNGroupName, GroupReaderRole: sec.Env().Role(reader), SecurityAccountID: sec.Spec.ID,
		AgentParameter: agent.Parameter, AgentStatements: agent.Statements,
	})
	shared.Output("vpn_public_ip", "Elastic IP of the OpenVPN server", srv.PublicIP)
	shared.Output("vpn_profile_bucket", "Bucket holding VPN profiles (profiles/<user>.ovpn)", srv.Bucket.Name)

	var pullers []string
	for _, app := range l.Apps {
		pullers = append(pullers, app.Spec.ID)
	}
	reg := ecr.New(shared.Stack, "ecr", ecr.Props{
		Prefix: cfg.NamePrefix, Repositories: acct.ECR.RepositoryNames(), PullAccounts: pullers,
		KeepImages: acct.ECR.KeepImages,
	})
	shared.Output("ecr_repository_urls", "Push images here", repositoryURLs(cfg, acct))

	for _, app := range l.Apps {
		app.addPeeringRoles(shared)
		app.Peering = peering.New(app.Stack, "peering", peering.Props{
			Name: cfg.NamePrefix + "-" + app.Name + "-to-" + shared.Name,
			VPC:  app.VPC, Peer: app.newProvider("aws-shared", "shared", acct, app.Chain.Shared),
			PeerAccountID: acct.ID, PeerVPC: vpc, PeerTiers: peeredTiers(acct),
			Tiers: peeredTiers(app.Spec),
		})
		if app.Spec.DataOverVPN() {
			app.allowOperators(vpc)
		}
		// VPN clients use the management VPC's resolver: let it answer the
		// environment's internal names.
		app.DNS.ShareWith("private-zone-to-management", app.Peering)
	}
	return srv, reg
}

// addPeeringRoles makes, in shared-services, the two roles the app stack's
// shared provider assumes (ci.ChainOf): the write role for the account's
// github-apply and its deploy_role (people), the read role for its
// github-plan. Unlike shared-services' own deploy_role, neither reaches
// anything in shared-services but the peering, its routes and the zone
// association.
func (a *App) addPeeringRoles(shared *Network) {
	cfg, acct := a.Config, a.Spec
	peering.NewRoles(shared.Stack, "peering-roles-"+a.Name, peering.RolesProps{
		WriteName: ci.PeeringRole(cfg, a.Name, true), ReadName: ci.PeeringRole(cfg, a.Name, false),
		AppAccountID: acct.ID,
		Writers:      []string{ci.RoleARN(a.Env().Partition, acct.ID, ci.ApplyRole), acct.DeployRoleARN(a.Env().Partition)},
		Readers:      []string{ci.RoleARN(a.Env().Partition, acct.ID, ci.PlanRole)},
		PeerVPC:      shared.VPC,
	})
}

// allowOperators opens the environment's data stores to the VPN server's
// subnets, whose address VPN clients' traffic leaves with.
func (a *App) allowOperators(mgmt *network.Vpc) {
	for _, s := range mgmt.Select(network.Public) {
		name := "vpn-" + s.AZ
		if a.Database != nil {
			a.Database.AllowFromCIDR(name, s.CIDR)
		}
		if a.Cache != nil {
			a.Cache.AllowFromCIDR(name, s.CIDR)
		}
	}
}

func repositoryURLs(cfg *config.Config, a *config.Account) map[string]string {
	out := map[string]string{}
	for _, name := range a.ECR.RepositoryNames() {
		out[name] = cfg.Registry() + "/" + name
	}
	return out
}
