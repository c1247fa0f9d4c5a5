package monitoring

import (
	"encoding/json"

	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchdashboard"

	"github.com/acme/landing-zone/internal/tf"
)

// Dashboard collects metric widgets for one environment's dashboard. The
// body is built in Go; resource IDs known only at apply time go in as
// tokens and are resolved by Terraform.
type Dashboard struct {
	region  string
	widgets []map[string]any
}

// NewDashboard starts a dashboard of the watcher's stack, whose widgets
// show its region (tf.EnvOf).
func (w *Watcher) NewDashboard() *Dashboard { return &Dashboard{region: tf.EnvOf(w.scope).Region} }

// Graph adds a time-series widget; each metric is namespace, name, then
// dimension name/value pairs, as CloudWatch's widget format wants them.
func (d *Dashboard) Graph(title, stat string, metrics ...[]any) {
	rows := make([][]any, len(metrics))
	for i, m := range metrics {
		row := []any{}
		for _, v := range m {
			if p, ok := v.(*string); ok {
				v = *p
			}
			row = append(row, v)
		}
		rows[i] = row
	}
	n := len(d.widgets)
	d.widgets = append(d.widgets, map[string]any{
		"type": "metric", "x": (n % 2) * 12, "y": (n / 2) * 6, "width": 12, "height": 6,
		"properties": map[string]any{"title": title, "region": d.region, "stat": stat, "period": 300, "view": "timeSeries", "metrics": rows},
	})
}

// Dashboard makes the dashboard.
func (w *Watcher) Dashboard(name string, d *Dashboard) {
	body, err := json.Marshal(map[string]any{"widgets": d.widgets})
	if err != nil {
		panic("monitoring: dashboard body: " + err.Error())
	}
	cloudwatchdashboard.NewCloudwatchDashboard(w.scope, tf.S("dashboard"), &cloudwatchdashboard.CloudwatchDashboardConfig{
		DashboardName: tf.S(name), DashboardBody: tf.S(string(body)),
	})
}
