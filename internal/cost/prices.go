package cost

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// pricesJSON is the price table. It is embedded so that an estimate never
// needs the network: a price changes only with a commit that says where it
// came from and when (the sources and read fields).
//
//go:embed prices.json
var pricesJSON []byte

// Table is the price table of prices.json.
type Table struct {
	// Read is the date the prices were read (YYYY-MM-DD).
	Read     string `json:"read"`
	Currency string `json:"currency"`
	Note     string `json:"note"`
	// HoursPerMonth turns hourly prices into monthly ones (AWS uses 730).
	HoursPerMonth float64           `json:"hours_per_month"`
	Sources       map[string]Source `json:"sources"`
	Global        Global            `json:"global"`
	Regions       map[string]Region `json:"regions"`
}

// Source is where one group of prices comes from, and which of them were
// confirmed on the read date.
type Source struct {
	URL     string `json:"url"`
	Checked string `json:"checked"`
}

// Global holds the prices that are the same in every region the table
// covers.
type Global struct {
	PublicIPv4Hour             float64 `json:"public_ipv4_hour"`
	KMSKeyMonth                float64 `json:"kms_key_month"`
	AlarmMetricMonth           float64 `json:"alarm_metric_month"`
	AlarmMetricHighResMonth    float64 `json:"alarm_metric_high_res_month"`
	CustomMetricMonth          float64 `json:"custom_metric_month"`
	DashboardMonth             float64 `json:"dashboard_month"`
	FreeDashboardsPerAccount   int     `json:"free_dashboards_per_account"`
	SecretMonth                float64 `json:"secret_month"`
	HostedZoneMonth            float64 `json:"hosted_zone_month"`
	HealthCheckAWSMonth        float64 `json:"health_check_aws_month"`
	HealthCheckFeatureAWSMonth float64 `json:"health_check_feature_aws_month"`
	WAFWebACLMonth             float64 `json:"waf_web_acl_month"`
	WAFRuleMonth               float64 `json:"waf_rule_month"`
	WAFMillionRequests         float64 `json:"waf_million_requests"`
}

// Region holds one region's prices. The maps are keyed by instance type,
// by engine then instance class, and by engine then node type.
type Region struct {
	NATGatewayHour        float64                       `json:"nat_gateway_hour"`
	NATGatewayGB          float64                       `json:"nat_gateway_gb"`
	ALBHour               float64                       `json:"alb_hour"`
	ALBLCUHour            float64                       `json:"alb_lcu_hour"`
	InterfaceEndpointHour float64                       `json:"interface_endpoint_hour"`
	AuroraStorageGBMonth  float64                       `json:"aurora_storage_gb_month"`
	EBSGBMonth            map[string]float64            `json:"ebs_gb_month"`
	EC2Hour               map[string]float64            `json:"ec2_hour"`
	AuroraHour            map[string]map[string]float64 `json:"aurora_hour"`
	ElastiCacheHour       map[string]map[string]float64 `json:"elasticache_hour"`
}

// Prices returns the price table kept in the repository.
func Prices() (*Table, error) {
	var t Table
	if err := json.Unmarshal(pricesJSON, &t); err != nil {
		return nil, fmt.Errorf("cost: reading prices.json: %w", err)
	}
	if t.HoursPerMonth <= 0 || t.Read == "" {
		return nil, fmt.Errorf("cost: prices.json needs hours_per_month and read")
	}
	return &t, nil
}

// region returns the prices of one region, or an error that names the
// region and the fix.
func (t *Table) region(name string) (*Region, error) {
	r, ok := t.Regions[name]
	if !ok {
		return nil, fmt.Errorf("no prices for region %q (the table has %s): add a %q entry to internal/cost/prices.json with its source and date",
			name, strings.Join(keys(t.Regions), ", "), name)
	}
	return &r, nil
}

// price looks one name up in a region's price map and fails loudly, naming
// what to add, when it is missing: a guess would be a number without a
// source.
func price(m map[string]float64, what, name, region string) (float64, error) {
	p, ok := m[name]
	if !ok {
		return 0, fmt.Errorf("no %s price for %q in %s (the table has %s): add it to internal/cost/prices.json with its source",
			what, name, region, strings.Join(keys(m), ", "))
	}
	return p, nil
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
