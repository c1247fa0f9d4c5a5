package config

import (
	"fmt"
	"regexp"
)

// WAF modes: count only records what the rules match; block rejects it.
const (
	WAFCount = "count"
	WAFBlock = "block"
)

// WAF defaults: the rate limit per client IP per 5 minutes, and the
// matched requests per 5 minutes above which the WAF alarm warns.
const (
	DefaultWAFRateLimit      = 2000
	DefaultWAFAlarmThreshold = 1000
)

// WAF limits AWS WAF puts on a rate-based rule's limit.
const (
	minWAFRateLimit = 10
	maxWAFRateLimit = 2000000000
)

// DefaultServiceUser is the user the containers run as unless a service
// sets user: a numeric uid:gid, which needs no entry in the image's
// /etc/passwd.
const DefaultServiceUser = "1000:1000"

// WAF configures the web ACL in front of an app environment's public load
// balancer (help/waf.md): AWS managed rule groups (common, known bad
// inputs, IP reputation, SQL injection) and a rate limit per client IP.
type WAF struct {
	// Mode is count (the rules only count and log what they match) or
	// block (they reject it with 403). Default: block for the prod profile,
	// count otherwise.
	Mode string `yaml:"mode" json:"mode,omitempty"`
	// RateLimit is the most requests one client IP may send in any 5
	// minutes (10 to 2000000000); above it the rate rule counts or blocks
	// the IP's requests. Default: 2000.
	RateLimit int `yaml:"rate_limit" json:"rate_limit,omitempty"`
	// AlarmThreshold is how many requests the rules block (block mode) or
	// count (count mode) in 5 minutes, twice in a row, before the warning
	// alarm fires. Default: 1000.
	AlarmThreshold int `yaml:"alarm_threshold" json:"alarm_threshold,omitempty"`
}

// Blocks reports whether the WAF blocks what its rules match.
func (w *WAF) Blocks() bool { return w != nil && w.Mode == WAFBlock }

// ReadOnlyRoot reports whether a service's containers get a read-only root
// filesystem (after defaults).
func (s *Service) ReadOnlyRoot() bool {
	return s.ReadOnlyRootFilesystem == nil || *s.ReadOnlyRootFilesystem
}

// defaultHardening fills in an app account's WAF and its services'
// container hardening.
func defaultHardening(a *Account) {
	if a.WAF == nil {
		a.WAF = &WAF{}
	}
	if a.WAF.Mode == "" {
		a.WAF.Mode = WAFCount
		if a.Profile == ProfileProd {
			a.WAF.Mode = WAFBlock
		}
	}
	setDefault(&a.WAF.RateLimit, DefaultWAFRateLimit)
	setDefault(&a.WAF.AlarmThreshold, DefaultWAFAlarmThreshold)
	for _, s := range a.Services {
		if s == nil {
			continue
		}
		if s.ReadOnlyRootFilesystem == nil {
			// ECS Exec's agent writes inside the container: it does not
			// run on a read-only root filesystem (help/ecs-exec.md).
			ro := !a.ExecOn()
			s.ReadOnlyRootFilesystem = &ro
		}
		setDefault(&s.User, DefaultServiceUser)
	}
}

var containerUserRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})?$`)

// validateHardening checks the WAF settings and the services' container
// hardening of every account.
func validateHardening(r *reporter, c *Config) {
	for _, name := range c.AccountNames() {
		a := c.Accounts[name]
		if a == nil {
			continue
		}
		path := "accounts." + name
		if a.Kind != KindApp {
			if a.WAF != nil {
				r.add(path+".waf", "remove it: only app accounts have a public load balancer", "is set on a %s account", a.Kind)
			}
			continue
		}
		if w := a.WAF; w != nil {
			oneOf(r, path+".waf.mode", w.Mode, WAFCount, WAFBlock)
			inRange(r, path+".waf.rate_limit", w.RateLimit, minWAFRateLimit, maxWAFRateLimit)
			inRange(r, path+".waf.alarm_threshold", w.AlarmThreshold, 1, maxWAFRateLimit)
		}
		for _, svc := range a.ServiceNames() {
			s, sp := a.Services[svc], path+".services."+svc
			if s == nil {
				continue
			}
			if a.ExecOn() && s.ReadOnlyRoot() {
				r.add(sp+".read_only_root_filesystem",
					"set it to false (or leave it out), or remove ecs.exec_groups: ECS Exec's agent needs a writable root filesystem (help/ecs-exec.md)",
					"is true while ECS Exec is on for %s", name)
			}
			if !containerUserRe.MatchString(s.User) {
				r.add(sp+".user", "write a user or uid, optionally with :group or :gid, e.g. \"1000:1000\" (\"0\" runs as root)",
					"%s is not a container user", fmt.Sprintf("%q", clip(s.User)))
			}
		}
	}
}
