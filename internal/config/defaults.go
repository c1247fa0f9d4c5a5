package config

// Defaulting is kept apart from validation: it only fills in what the user
// left out, and validation then checks the result as a whole.

func applyDefaults(c *Config) {
	if c.State.BootstrapBackend == "" {
		c.State.BootstrapBackend = BackendLocal
	}
	if c.State.Locking == "" {
		c.State.Locking = LockBoth
	}
	for _, a := range c.Accounts {
		if a == nil {
			continue
		}
		if a.Kind == KindApp && a.Profile == "" {
			a.Profile = ProfileDev
		}
		if a.VPC != nil {
			defaultVPC(a.VPC, a.profileOrKind())
		}
		if a.Kind == KindApp {
			defaultApp(a)
			defaultHardening(a)
		}
		if a.Kind == KindShared {
			defaultShared(a)
		}
	}
	defaultRegions(c)
	defaultBaseline(c)
	defaultMonitoring(c)
}

// profileOrKind names the defaults an account gets: its profile for app
// accounts, and prod-like defaults for the management VPC.
func (a *Account) profileOrKind() string {
	if a.Kind == KindApp {
		return a.Profile
	}
	return ProfileProd
}

var flowLogDays = map[string]int{ProfileDev: 30, ProfileStage: 90, ProfileProd: 365}

func defaultVPC(v *VPC, profile string) {
	if v.NAT == "" {
		v.NAT = NATSingle
		if profile == ProfileProd {
			v.NAT = NATPerAZ
		}
	}
	setDefault(&v.FlowLogRetentionDays, forProfile(flowLogDays, profile))
	bits := vpcBits(v.CIDR)
	if bits == 0 {
		return // invalid CIDR: validation reports it, and sizes cannot be derived
	}
	if v.Subnets.Public == 0 {
		v.Subnets.Public = min(bits+8, 28)
	}
	if v.Subnets.PrivateApp == 0 {
		v.Subnets.PrivateApp = min(bits+4, 28)
	}
	if v.Subnets.PrivatePersistence == 0 {
		v.Subnets.PrivatePersistence = min(bits+8, 28)
	}
}
