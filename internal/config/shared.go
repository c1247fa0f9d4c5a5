package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/acme/landing-zone/internal/cidr"
)

// VPN configures the OpenVPN server, the only public server.
type VPN struct {
	// AllowedCIDRs may reach the VPN port. Default: ["0.0.0.0/0"] (employees
	// connect from anywhere; narrow it to office ranges if you can).
	AllowedCIDRs []string `yaml:"allowed_cidrs" json:"allowed_cidrs,omitempty"`
	// Port is the UDP port OpenVPN listens on. Default: 1194.
	Port int `yaml:"port" json:"port,omitempty"`
	// InstanceType of the server. Default: t3.small.
	InstanceType string `yaml:"instance_type" json:"instance_type,omitempty"`
	// ClientCIDR hands out VPN client addresses; it must not overlap any
	// VPC. Default: 172.16.0.0/20.
	ClientCIDR string `yaml:"client_cidr" json:"client_cidr,omitempty"`
}

// ECR lists the container repositories in shared-services.
type ECR struct {
	// Repositories by name. Each may name the GitHub repository ("owner/name")
	// whose main branch may push to it. Default: none.
	Repositories map[string]*Repository `yaml:"repositories" json:"repositories,omitempty"`
	// KeepImages keeps this many tagged images per repository. Default: 100.
	KeepImages int `yaml:"keep_images" json:"keep_images,omitempty"`
}

// Repository is one ECR repository.
type Repository struct {
	// GitHubRepo ("owner/name") gets a role that may push to this repository
	// from its main branch, and roles in the app accounts that may roll out
	// the services running its images. Default: none.
	GitHubRepo string `yaml:"github_repo" json:"github_repo,omitempty"`
}

// RepositoryNames returns the ECR repository names, sorted.
func (e *ECR) RepositoryNames() []string { return slices.Sorted(maps.Keys(e.Repositories)) }

func defaultShared(a *Account) {
	if a.VPN == nil {
		a.VPN = &VPN{}
	}
	if a.VPN.AllowedCIDRs == nil {
		a.VPN.AllowedCIDRs = []string{"0.0.0.0/0"}
	}
	setDefault(&a.VPN.Port, 1194)
	setDefault(&a.VPN.InstanceType, "t3.small")
	setDefault(&a.VPN.ClientCIDR, "172.16.0.0/20")
	if a.ECR == nil {
		a.ECR = &ECR{}
	}
	setDefault(&a.ECR.KeepImages, 100)
	for name, r := range a.ECR.Repositories {
		if r == nil {
			a.ECR.Repositories[name] = &Repository{}
		}
	}
}

var repoNameRe = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$`)

// validateSharedLayers checks the shared-services-only keys of one account.
func validateSharedLayers(r *reporter, path string, a *Account) {
	if a.Kind != KindShared {
		if a.VPN != nil {
			r.add(path+".vpn", "move it to the shared-services account", "is set on a %s account", a.Kind)
		}
		if a.ECR != nil {
			r.add(path+".ecr", "move it to the shared-services account", "is set on a %s account", a.Kind)
		}
		return
	}
	v := a.VPN
	for i, c := range v.AllowedCIDRs {
		if _, err := cidr.Parse(c); err != nil {
			r.add(fmt.Sprintf("%s.vpn.allowed_cidrs[%d]", path, i), "write a.b.c.d/n, e.g. 203.0.113.0/24", "%v", err)
		}
	}
	inRange(r, path+".vpn.port", v.Port, 1, 65535)
	if !instTypeRe.MatchString(v.InstanceType) {
		r.add(path+".vpn.instance_type", "use an EC2 instance type such as t3.small", "%q is not an instance type", clip(v.InstanceType))
	}
	if _, err := cidr.Parse(v.ClientCIDR); err != nil {
		r.add(path+".vpn.client_cidr", "write a.b.c.d/n, e.g. 172.16.0.0/20", "%v", err)
	}
	inRange(r, path+".ecr.keep_images", a.ECR.KeepImages, 1, 10000)
	for _, name := range a.ECR.RepositoryNames() {
		p := path + ".ecr.repositories." + name
		if len(name) > 200 || !repoNameRe.MatchString(name) {
			r.add(p, "use lowercase letters, digits, and . _ - / separators", "%q is not a repository name", clip(name))
		}
		if repo := a.ECR.Repositories[name]; repo != nil && repo.GitHubRepo != "" && !repoRe.MatchString(repo.GitHubRepo) {
			r.add(p+".github_repo", "write the GitHub repository as owner/name", "%q is not owner/name", clip(repo.GitHubRepo))
		}
	}
}

// validateCrossAccount checks what spans accounts: VPN clients must not
// collide with any VPC, and ECR images of services must exist in the
// shared-services registry.
func validateCrossAccount(r *reporter, c *Config) {
	sharedName, shared := c.AccountOfKind(KindShared)
	if shared == nil || shared.VPN == nil || shared.ECR == nil {
		return
	}
	if client, err := cidr.Parse(shared.VPN.ClientCIDR); err == nil {
		for _, name := range c.AccountNames() {
			a := c.Accounts[name]
			if a == nil || a.VPC == nil {
				continue
			}
			if p, err := cidr.Parse(a.VPC.CIDR); err == nil && cidr.Overlaps(client, p) {
				r.add("accounts."+sharedName+".vpn.client_cidr", "pick a range outside every VPC", "%s overlaps accounts.%s.vpc.cidr %s", client, name, p)
			}
		}
	}
	for _, name := range c.AccountNames() {
		a := c.Accounts[name]
		if a == nil || a.Kind != KindApp {
			continue
		}
		for _, svc := range a.ServiceNames() {
			s := a.Services[svc]
			if s == nil {
				continue
			}
			repo, inRegistry := c.RegistryRepository(s.Image)
			if !inRegistry {
				continue
			}
			if _, ok := shared.ECR.Repositories[repo]; !ok {
				r.add("accounts."+name+".services."+svc+".image", "add "+repo+" under accounts."+sharedName+".ecr.repositories",
					"repository %q is not in the shared-services registry", clip(repo))
			}
		}
	}
}

// ImageRepository returns the repository part of an image reference:
// "acct.dkr.ecr.region.amazonaws.com/web:1.0" gives "web".
func ImageRepository(image string) string {
	rest := image[strings.Index(image, "/")+1:]
	if i := strings.IndexAny(rest, ":@"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// VPNGroupName is the security account's group whose members get VPN
// profiles (one of the default baseline groups).
const VPNGroupName = "vpn-users"
