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
