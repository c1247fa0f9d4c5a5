package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/acme/landing-zone/internal/awsenv"
)

// commercialRegions are the regions of the aws partition, the only one the
// landing zone is built and proven for. A region AWS opens later is added
// here, after checking the ELB log delivery account map (constructs/alb).
var commercialRegions = []string{
	"af-south-1",
	"ap-east-1", "ap-east-2",
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2",
	"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
	"ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2",
	"eu-north-1",
	"eu-south-1", "eu-south-2",
	"eu-west-1", "eu-west-2", "eu-west-3",
	"il-central-1",
	"me-central-1", "me-south-1",
	"mx-central-1",
	"sa-east-1",
	"us-east-1", "us-east-2",
	"us-west-1", "us-west-2",
}

// validateRegion reports a region that is missing, malformed, outside the
// commercial partition, or unknown, and says whether it is usable: the AZ
// checks that depend on it run only then, so that one typo is one problem.
func validateRegion(r *reporter, region string) bool {
	switch {
	case region == "":
		r.add("region", "set it to the region to deploy in, e.g. us-east-1", "missing")
	case !regionRe.MatchString(region):
		r.add("region", didYouMean(region, "use a region code such as us-east-1 or eu-west-2"), "%q is not an AWS region code", clip(region))
	case partitionOf(region) != awsenv.Commercial:
		r.add("region", "choose a commercial AWS region such as us-east-1 or eu-west-2",
			"%s is in the %s partition; the landing zone is built and proven only for the commercial aws partition (ELB log delivery, Route 53 health checks, GitHub OIDC and the IAM proof's policies are not proven elsewhere)",
			clip(region), partitionOf(region))
	case !slices.Contains(commercialRegions, region):
		r.add("region", didYouMean(region, "use a commercial AWS region code such as us-east-1 or eu-west-2; if AWS opened it recently, add it to internal/config/regions.go"),
			"%q is not an AWS region", clip(region))
	default:
		return true
	}
	return false
}

// didYouMean suggests the known region closest to a mistyped one, or
// returns fix when none is close.
func didYouMean(region, fix string) string {
	if len(region) > 30 {
		return fix // no region is that long; spare the comparison
	}
	if near := nearest(region, commercialRegions, 2); near != "" {
		return fmt.Sprintf("did you mean %s?", near)
	}
	return fix
}

// partitionOf is awsenv.PartitionOf, which knows the partitions the product
// builds ARNs for, plus the isolated regions (us-iso-*: aws-iso, us-isob-*:
// aws-iso-b, ...), so that they are named rather than called unknown.
func partitionOf(region string) awsenv.Partition {
	if _, rest, ok := strings.Cut(region, "-iso"); ok {
		if letter, _, _ := strings.Cut(rest, "-"); letter != "" {
			return awsenv.Partition("aws-iso-" + letter)
		}
		return "aws-iso"
	}
	return awsenv.PartitionOf(region)
}

// nearest returns the candidate within maxEdits edits of s, the closest
// first, or "" when none is that close.
func nearest(s string, candidates []string, maxEdits int) string {
	best, bestD := "", maxEdits+1
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// DefaultWatchedRegions are the regions every AWS account has enabled from
// the start: those AWS launched before 20 March 2019, which cannot be
// disabled ("Default Regions" in the AWS Account Management reference,
// manage-acct-regions). Regions launched since are opt-in; an account that
// enables one adds it to regions.watched. An attacker works where nobody
// watches, so the baseline watches all of these by default.
var DefaultWatchedRegions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
	"ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-southeast-1", "ap-southeast-2",
	"ca-central-1",
	"eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1",
	"sa-east-1",
}

// Regions are where the landing zone lets workloads run and where its
// security baseline watches. Every stack still deploys to the home region
// (region); the baseline adds, in every account, a GuardDuty detector, an
// AWS Config recorder, Security Hub, an IAM Access Analyzer, EBS
// encryption by default and a locked default VPC in each watched region
// (help/regions.md).
type Regions struct {
	// InUse are the regions workloads may use: the organization's region
	// guardrail (help/organization.md) denies the others. It must include
	// the home region. Default: the home region only.
	InUse []string `yaml:"in_use" json:"in_use,omitempty"`
	// Watched are the regions the security baseline covers in every
	// account. It must include every region in in_use. Default: the 17
	// regions enabled by default in every AWS account (us-east-1,
	// us-east-2, us-west-1, us-west-2, ap-south-1, ap-northeast-1,
	// ap-northeast-2, ap-northeast-3, ap-southeast-1, ap-southeast-2,
	// ca-central-1, eu-central-1, eu-west-1, eu-west-2, eu-west-3,
	// eu-north-1, sa-east-1), plus the home region if it is an opt-in one.
	Watched []string `yaml:"watched" json:"watched,omitempty"`
}

// RegionsInUse returns regions.in_use: the home region first, then the
// others in config order.
func (c *Config) RegionsInUse() []string { return homeFirst(c.Region, c.Regions.InUse) }

// WatchedRegions returns regions.watched: the home region first, then the
// others in config order.
func (c *Config) WatchedRegions() []string { return homeFirst(c.Region, c.Regions.Watched) }

// OtherWatchedRegions returns the watched regions but the home region, in
// config order.
func (c *Config) OtherWatchedRegions() []string { return c.WatchedRegions()[1:] }

func homeFirst(home string, rs []string) []string {
	out := []string{home}
	for _, r := range rs {
		if r != home && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func defaultRegions(c *Config) {
	if len(c.Regions.InUse) == 0 && c.Region != "" {
		c.Regions.InUse = []string{c.Region}
	}
	if c.Regions.Watched == nil {
		c.Regions.Watched = slices.Clone(DefaultWatchedRegions)
		if c.Region != "" && !slices.Contains(c.Regions.Watched, c.Region) {
			c.Regions.Watched = append([]string{c.Region}, c.Regions.Watched...)
		}
	}
}

// validateRegions checks regions.in_use and regions.watched: known
// commercial regions, each listed once, the home region in use, and every
// region in use watched. homeOK says the home region itself is valid.
func validateRegions(r *reporter, c *Config, homeOK bool) {
	if !homeOK {
		return // one problem: the home region's, whose fix may fix these too
	}
	check := func(key string, list []string) []string {
		var ok []string
		seen := map[string]bool{}
		for i, region := range list {
			path := fmt.Sprintf("regions.%s[%d]", key, i)
			switch {
			case seen[region]:
				r.add(path, "list each region once", "%q is listed twice", clip(region))
			case !slices.Contains(commercialRegions, region):
				r.add(path, didYouMean(region, "use a commercial AWS region code such as us-east-1 or eu-west-2; if AWS opened it recently, add it to internal/config/regions.go"),
					"%q is not an AWS region", clip(region))
			default:
				ok = append(ok, region)
			}
			seen[region] = true
		}
		return ok
	}
	inUse := check("in_use", c.Regions.InUse)
	if c.Regions.Watched != nil && len(c.Regions.Watched) == 0 {
		r.add("regions.watched", "list the regions the baseline watches, or remove the key for the default (every region enabled by default)", "is empty")
	}
	watched := check("watched", c.Regions.Watched)
	if !slices.Contains(c.Regions.InUse, c.Region) {
		r.add("regions.in_use", "add the home region "+c.Region+" (region): every stack deploys there", "does not include the home region %s", c.Region)
	}
	if len(c.Regions.Watched) > 0 && !slices.Contains(c.Regions.Watched, c.Region) {
		r.add("regions.watched", "add the home region "+c.Region+" (region)", "does not include the home region %s", c.Region)
	}
	for _, region := range inUse {
		if len(c.Regions.Watched) > 0 && !slices.Contains(watched, region) {
			r.add("regions.watched", "add "+region+": a region workloads may use must be watched", "does not include %s, which regions.in_use lists", region)
		}
	}
}
