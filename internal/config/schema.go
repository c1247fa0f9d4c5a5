package config

import (
	"embed"
	"maps"
	"slices"
)

// Source is this package's Go source. The schema generator
// (internal/schema) reads the field doc comments from it, which reflection
// cannot see; embedding it keeps `landing-zone schema` working from any
// directory and always in step with the types it describes.
//
//go:embed *.go
var Source embed.FS

// Enums lists the keys that validation checks against a fixed list, keyed by
// Go type and yaml key ("Account.kind"), with the values it accepts. The
// schema turns them into "enum"; the values are the same constants and
// tables the validate functions use.
func Enums() map[string][]any {
	strs := func(v ...string) []any {
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	}
	ints := func(v []int) []any {
		out := make([]any, len(v))
		for i, n := range v {
			out[i] = n
		}
		return out
	}
	return map[string][]any{
		"Config.region":                 strs(commercialRegions...),
		"State.bootstrap_backend":       strs(BackendLocal, BackendS3),
		"State.locking":                 strs(LockDynamoDB, LockS3, LockBoth),
		"Account.kind":                  strs(KindLogs, KindSecurity, KindShared, KindApp, KindManagement),
		"Account.profile":               strs(ProfileDev, ProfileStage, ProfileProd),
		"VPC.nat":                       strs(NATSingle, NATPerAZ),
		"VPC.flow_log_retention_days":   ints(retentionDays),
		"ECS.log_retention_days":        ints(retentionDays),
		"CloudTrail.log_retention_days": ints(retentionDays),
		"Service.load_balancer":         strs(LBPublic, LBInternal),
		"Service.capacity":              strs(CapacityEC2, CapacityFargate, CapacityFargateSpot),
		"Service.cpu":                   ints(slices.Sorted(maps.Keys(fargateMemory))),
		"Database.engine":               strs(EnginePostgres, EngineMySQL),
		"Group.access":                  strs(Accesses...),
		"LogBuckets.storage_class":      strs(logStorageClasses...),
	}
}
