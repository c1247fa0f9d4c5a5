// Package stacks composes the constructs into one Terraform stack per AWS
// account, plus one state bootstrap stack per account.
//
// Each stack kind is one function that sets the provider, backend and tags
// once and builds its layers in dependency order; stacks create no raw
// resources themselves. Entry point: Build.
package stacks

import (
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/network"
	"github.com/acme/landing-zone/constructs/statebackend"
	"github.com/acme/landing-zone/internal/config"
)

// Landing holds every stack's handles.
type Landing struct {
	Bootstrap []*Account
	// Organization is the management account's stack, nil without one.
	Organization *Account
	// ManagementBaseline is the management account's security baseline,
	// nil without one: a stack of its own, because its trail and Config
	// deliver to the logs account, which deploys after the organization.
	ManagementBaseline *Account
	Logs               *Account
	Security           *Account
	Shared             *Network
	Apps               []*App
}

// Network is an account stack that has a VPC.
type Network struct {
	*Account
	VPC *network.Vpc
}

// Build adds every stack for cfg to app: a bootstrap stack per account, then
// the organization (with a management account: help/organization.md), logs, security, shared-services and the app accounts. The passes after
// that take what earlier passes made as arguments, so their order is the
// data's: monitoring watches the trails of the baseline and the VPN server,
// CI pushes to the registry of shared services.
func Build(app cdktf.App, cfg *config.Config, opts Options) *Landing {
	l := &Landing{}
	for _, name := range cfg.AccountNames() {
		l.Bootstrap = append(l.Bootstrap, NewBootstrap(app, cfg, name, opts))
	}
	l.Organization = NewOrganization(app, cfg, opts)
	logsName, _ := cfg.AccountOfKind(config.KindLogs)
	l.Logs = newAccount(app, cfg, logsName, logsName, remoteState, opts)
	if l.Organization != nil {
		l.Logs.Stack.AddDependency(l.Organization.Stack) // the organization deploys first
	}
	secName, _ := cfg.AccountOfKind(config.KindSecurity)
	l.Security = newAccount(app, cfg, secName, secName, remoteState, opts)
	l.ManagementBaseline = NewManagementBaseline(app, cfg, opts)
	sharedName, _ := cfg.AccountOfKind(config.KindShared)
	l.Shared = NewNetworkAccount(app, cfg, sharedName, opts)
	for _, name := range cfg.AccountNames() {
		if cfg.Accounts[name].Kind == config.KindApp {
			l.Apps = append(l.Apps, NewAppAccount(NewNetworkAccount(app, cfg, name, opts)))
		}
	}
	trails := l.addBaseline()
	l.addBackups()
	server, registry := l.addSharedServices()
	l.addCI(registry)
	l.addMonitoring(trails, server)
	l.addFindings()
	l.retire(opts.Retiring)
	if opts.Extend != nil {
		opts.Extend(l)
	}
	return l
}

// NewBootstrap makes the stack that creates an account's state bucket and
// lock table. Its own state is local until the config says it is migrated.
func NewBootstrap(app cdktf.App, cfg *config.Config, name string, opts Options) *Account {
	a := newAccount(app, cfg, name, "bootstrap-"+name, bootstrapState, opts)
	b := statebackend.New(a.Stack, "state", statebackend.Props{Names: a.StateNames()})
	a.Output("state_bucket", "Bucket holding this account's Terraform state", b.Bucket.Name)
	a.Output("lock_table", "DynamoDB table holding this account's state locks", a.StateNames().Table)
	a.Output("state_key_arn", "KMS key encrypting state and locks", b.Key.ARN)
	return a
}

// NewNetworkAccount makes an account stack with a VPC: the management VPC
// in shared-services, or an app environment's VPC.
func NewNetworkAccount(app cdktf.App, cfg *config.Config, name string, opts Options) *Network {
	a := newAccount(app, cfg, name, name, remoteState, opts)
	v := a.Spec.VPC
	vpc := network.New(a.Stack, "network", network.Props{
		Name:      cfg.NamePrefix + "-" + name,
		CIDR:      v.CIDR,
		AZs:       v.AZs,
		SingleNAT: v.NAT == config.NATSingle,
		PrefixLengths: map[network.Tier]int{
			network.Public: v.Subnets.Public, network.PrivateApp: v.Subnets.PrivateApp,
			network.PrivatePersistence: v.Subnets.PrivatePersistence,
		},
		FlowLogRetentionDays: v.FlowLogRetentionDays,
		TrustedCIDRs:         trustedCIDRs(cfg, a.Spec),
		PublicPorts:          publicPorts(a.Spec),
		LogKey:               a.LogKey(),
	})
	n := &Network{Account: a, VPC: vpc}
	n.networkOutputs()
	return n
}

func (n *Network) networkOutputs() {
	v := n.VPC
	n.Output("vpc_id", "VPC ID", v.ID)
	n.Output("vpc_cidr", "VPC IPv4 range", v.CIDR)
	for _, t := range network.Tiers {
		name := outputName(t)
		n.Output(name+"_subnet_ids", "Subnet IDs of the "+string(t)+" tier, in AZ order", v.SubnetIDs(t))
		n.Output(name+"_route_table_ids", "Route table IDs of the "+string(t)+" tier, in AZ order", v.RouteTableIDs(t))
	}
	n.Output("nat_gateway_ids", "NAT gateway IDs", &v.NATGatewayIDs)
	n.Output("flow_log_group_name", "CloudWatch log group receiving VPC flow logs", v.FlowLogGroup.Name)
}

// outputName turns "private-app" into "private_app" for output names.
func outputName(t network.Tier) string {
	b := []byte(t)
	for i := range b {
		if b[i] == '-' {
			b[i] = '_'
		}
	}
	return string(b)
}
