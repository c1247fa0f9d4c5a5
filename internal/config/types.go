// Package config loads and validates the landing zone's single config file.
//
// It owns the schema (the Go types below), defaulting and validation. It does
// not build any infrastructure: stacks and constructs consume the validated
// *Config and trust it. Entry point: Load.
package config

// Account kinds. Each of logs, security and shared-services appears exactly
// once; there is one app account per application environment. The
// management account (the organization's, help/organization.md) is
// optional and appears at most once.
const (
	KindLogs       = "logs"
	KindSecurity   = "security"
	KindShared     = "shared-services"
	KindApp        = "app"
	KindManagement = "management"
)

// Profiles set the sizing and resilience defaults of an app environment.
const (
	ProfileDev   = "dev"
	ProfileStage = "stage"
	ProfileProd  = "prod"
)

// NAT gateway modes.
const (
	NATSingle = "single"
	NATPerAZ  = "per_az"
)

// Bootstrap backends.
const (
	BackendLocal = "local"
	BackendS3    = "s3"
)

// State locking modes (state.locking).
const (
	LockDynamoDB = "dynamodb"
	LockS3       = "s3"
	LockBoth     = "both"
)

// Config is the whole landing zone.
type Config struct {
	// NamePrefix starts every resource name ("acme" gives "acme-dev").
	// Required: 2-12 characters, lowercase letters, digits and single
	// hyphens, starting with a letter.
	NamePrefix string `yaml:"name_prefix" json:"name_prefix"`
	// Region is the region of every stack, in the commercial aws partition
	// (GovCloud and China are not supported). Required, e.g. "us-east-1".
	Region string `yaml:"region" json:"region"`
	// Regions lists the regions workloads may use and the regions the
	// security baseline watches (help/regions.md).
	Regions Regions `yaml:"regions" json:"regions"`
	// SourceRepo is the GitHub repository ("owner/name") this config lives
	// in. It is written to the SourceRepo tag of every resource. Required.
	SourceRepo string `yaml:"source_repo" json:"source_repo"`
	// Domain is the apex domain. Each app environment gets the public
	// hosted zone "<account>.<domain>" (delegated from the apex zone, see
	// help/dns.md) and the private zone "internal.<account>.<domain>".
	// Required.
	Domain string `yaml:"domain" json:"domain"`
	// State configures the Terraform state backend.
	State State `yaml:"state" json:"state"`
	// Monitoring configures alarms, their notifications and log shipping.
	Monitoring Monitoring `yaml:"monitoring" json:"monitoring"`
	// Accounts lists every AWS account. The key is the account's short name
	// and also its stack name. Required.
	Accounts map[string]*Account `yaml:"accounts" json:"accounts"`
	Baseline Baseline            `yaml:"baseline" json:"baseline"`
}

// State configures where Terraform keeps state. Every account holds its own
// state bucket and lock table, created by its bootstrap stack.
type State struct {
	// BootstrapBackend is where the bootstrap stacks keep their own state:
	// "local" until they have created the buckets, then "s3" (run
	// `terraform init -migrate-state` in each bootstrap stack after the
	// switch). Default: "local".
	BootstrapBackend string `yaml:"bootstrap_backend" json:"bootstrap_backend,omitempty"`
	// Locking is how Terraform locks each stack's state: "dynamodb" (an
	// item in the account's lock table; Terraform 1.11 warns that
	// dynamodb_table is deprecated), "s3" (S3 native locking: a lock file
	// "<state key>.tflock" next to the state, use_lockfile; no warning) or
	// "both" (Terraform takes both locks). Leaving DynamoDB is the change to
	// "s3" (help/state-bootstrap.md). The lock table exists in every mode.
	// Default: "both".
	Locking string `yaml:"locking" json:"locking,omitempty"`
}

// LocksWithDynamoDB reports whether Terraform takes the lock table's lock.
func (s State) LocksWithDynamoDB() bool { return s.Locking == LockDynamoDB || s.Locking == LockBoth }

// LocksWithS3 reports whether Terraform takes the S3 lock file.
func (s State) LocksWithS3() bool { return s.Locking == LockS3 || s.Locking == LockBoth }

// Account is one AWS account and the stack that manages it.
type Account struct {
	// ID is the 12-digit AWS account ID, quoted. Required.
	ID string `yaml:"id" json:"id"`
	// Kind is the account's role: logs, security, shared-services, app, or
	// management (the AWS Organizations management account, at most one,
	// optional: help/organization.md). Required.
	Kind string `yaml:"kind" json:"kind"`
	// Email is the account's root email address, as AWS Organizations
	// knows it. Required on every account when a management account is
	// configured (the organization stack adopts each account with it);
	// otherwise unused. Default: none.
	Email string `yaml:"email" json:"email,omitempty"`
	// DeployRole is the IAM role that Terraform assumes in this account: a
	// role name, or a role ARN in this account. Required.
	DeployRole string `yaml:"deploy_role" json:"deploy_role"`
	// Profile picks the sizing defaults of an app account: dev (cheap),
	// stage or prod (resilient). Only for kind app. Default: "dev".
	Profile string `yaml:"profile" json:"profile,omitempty"`
	// VPC is the account's network. Required for shared-services (the
	// management VPC) and app accounts; not allowed for logs and security.
	VPC *VPC `yaml:"vpc" json:"vpc,omitempty"`
	// ECS sizes the app environment's ECS cluster. Only for kind app.
	ECS *ECS `yaml:"ecs" json:"ecs,omitempty"`
	// Services are the Docker services the environment runs, by name. Only
	// for kind app. Default: none.
	Services map[string]*Service `yaml:"services" json:"services,omitempty"`
	// Database sizes the environment's Aurora cluster. Only for kind app.
	Database *Database `yaml:"database" json:"database,omitempty"`
	// Cache sizes the environment's Redis replication group. Only for kind
	// app.
	Cache *Cache `yaml:"cache" json:"cache,omitempty"`
	// Backup configures AWS Backup of the environment's database and its
	// copy to the logs account (help/backup-restore.md). Only for kind app.
	Backup *Backup `yaml:"backup" json:"backup,omitempty"`
	// VPN configures the OpenVPN server. Only for kind shared-services.
	VPN *VPN `yaml:"vpn" json:"vpn,omitempty"`
	// ECR lists the container repositories. Only for kind shared-services.
	ECR *ECR `yaml:"ecr" json:"ecr,omitempty"`
	// VPNDataAccess lets operators on the VPN reach the environment's
	// Aurora and Redis endpoints (from the VPN server's subnets, on their
	// ports only), for migrations and debugging. Only for kind app.
	// Default: true for the dev and stage profiles, false for prod.
	VPNDataAccess *bool `yaml:"vpn_data_access" json:"vpn_data_access,omitempty"`
	// MonthlyBudgetUSD is the account's monthly cost budget; forecasts and
	// actuals over it alert the warning topic. Default: 100 (logs,
	// security), 500 (shared-services, dev), 1000 (stage), 5000 (prod).
	MonthlyBudgetUSD int `yaml:"monthly_budget_usd" json:"monthly_budget_usd,omitempty"`
	// WAF configures the web ACL of the public load balancer
	// (help/waf.md). Only for kind app. Default: count mode (block for the
	// prod profile), rate limit 2000 requests per IP per 5 minutes.
	WAF *WAF `yaml:"waf" json:"waf,omitempty"`
}

// VPC sizes one VPC.
type VPC struct {
	// CIDR is the VPC's IPv4 range, /16 to /24. It must not overlap any other
	// VPC, because app VPCs are peered with the management VPC. Required.
	CIDR string `yaml:"cidr" json:"cidr"`
	// AZs are the availability zones, 2 to 6, all in the region. Required.
	AZs []string `yaml:"azs" json:"azs"`
	// NAT is "single" (one NAT gateway: cheaper, but one AZ's outage cuts
	// egress for all) or "per_az" (one per AZ). Default: per_az for the prod
	// profile, single otherwise.
	NAT string `yaml:"nat" json:"nat,omitempty"`
	// FlowLogRetentionDays keeps VPC flow logs this long; it must be a value
	// CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...). Default: 365
	// for prod and shared-services, 90 for stage, 30 for dev.
	FlowLogRetentionDays int `yaml:"flow_log_retention_days" json:"flow_log_retention_days,omitempty"`
	// Subnets sets each tier's subnet size as a prefix length.
	Subnets Subnets `yaml:"subnets" json:"subnets"`
}

// Subnets gives each tier's prefix length. One subnet per AZ is made in each
// tier. Defaults are relative to the VPC so that they always fit.
type Subnets struct {
	// Public holds load balancers, NAT gateways and the VPN server.
	// Default: VPC prefix + 8 (a /24 in a /16).
	Public int `yaml:"public" json:"public,omitempty"`
	// PrivateApp holds ECS hosts and tasks. Default: VPC prefix + 4 (a /20 in a /16).
	PrivateApp int `yaml:"private_app" json:"private_app,omitempty"`
	// PrivatePersistence holds Aurora and Redis; it has no internet route.
	// Default: VPC prefix + 8 (a /24 in a /16).
	PrivatePersistence int `yaml:"private_persistence" json:"private_persistence,omitempty"`
}

// Lengths returns the tier prefix lengths in tier order: public,
// private-app, private-persistence.
func (s Subnets) Lengths() []int {
	return []int{s.Public, s.PrivateApp, s.PrivatePersistence}
}
