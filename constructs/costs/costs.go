// Package costs makes an account's cost alerts: a monthly AWS Budgets
// budget that alerts on forecast and actual spend, and a Cost Anomaly
// Detection monitor whose findings go to the same topic.
//
// It owns the budget, the monitor and the subscription; the topic belongs
// to constructs/alarms. Entry point: New.
package costs

import (
	"strconv"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/budgetsbudget"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ceanomalymonitor"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ceanomalysubscription"

	"github.com/acme/landing-zone/internal/tf"
)

// DefaultAnomalyUSD is the smallest total impact of an anomaly worth a page.
const DefaultAnomalyUSD = 100

// Props configures the cost alerts.
type Props struct {
	// Name prefixes the budget and monitor. Required.
	Name string
	// MonthlyUSD is the budget. Required.
	MonthlyUSD int
	// TopicARN receives the alerts (the warning topic). Required.
	TopicARN *string
	// AnomalyUSD is the impact from which anomalies alert. Default: 100.
	AnomalyUSD int
}

// New creates the budget and the anomaly monitor.
func New(scope constructs.Construct, id string, p Props) {
	if p.Name == "" || p.MonthlyUSD == 0 || p.TopicARN == nil {
		panic("costs.New: Name, MonthlyUSD and TopicARN are required (" + id + ")")
	}
	if p.AnomalyUSD == 0 {
		p.AnomalyUSD = DefaultAnomalyUSD
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	notify := func(kind string, percent int) *budgetsbudget.BudgetsBudgetNotification {
		return &budgetsbudget.BudgetsBudgetNotification{
			NotificationType: tf.S(kind), ComparisonOperator: tf.S("GREATER_THAN"),
			Threshold: tf.N(percent), ThresholdType: tf.S("PERCENTAGE"), SubscriberSnsTopicArns: tf.Ptrs(p.TopicARN),
		}
	}
	budgetsbudget.NewBudgetsBudget(s, tf.S("monthly"), &budgetsbudget.BudgetsBudgetConfig{
		Name: tf.S(p.Name + "-monthly"), BudgetType: tf.S("COST"), TimeUnit: tf.S("MONTHLY"),
		LimitAmount: tf.S(strconv.Itoa(p.MonthlyUSD)), LimitUnit: tf.S("USD"),
		Notification: &[]*budgetsbudget.BudgetsBudgetNotification{
			notify("FORECASTED", 100), notify("ACTUAL", 80), notify("ACTUAL", 100),
		},
	})
	monitor := ceanomalymonitor.NewCeAnomalyMonitor(s, tf.S("anomalies"), &ceanomalymonitor.CeAnomalyMonitorConfig{
		Name: tf.S(p.Name + "-services"), MonitorType: tf.S("DIMENSIONAL"), MonitorDimension: tf.S("SERVICE"),
	})
	ceanomalysubscription.NewCeAnomalySubscription(s, tf.S("anomaly-alerts"), &ceanomalysubscription.CeAnomalySubscriptionConfig{
		Name: tf.S(p.Name + "-anomalies"), Frequency: tf.S("IMMEDIATE"),
		MonitorArnList: tf.Ptrs(monitor.Arn()),
		Subscriber:     &[]*ceanomalysubscription.CeAnomalySubscriptionSubscriber{{Type: tf.S("SNS"), Address: p.TopicARN}},
		ThresholdExpression: &ceanomalysubscription.CeAnomalySubscriptionThresholdExpression{
			Dimension: &ceanomalysubscription.CeAnomalySubscriptionThresholdExpressionDimension{
				Key: tf.S("ANOMALY_TOTAL_IMPACT_ABSOLUTE"), MatchOptions: tf.Strs("GREATER_THAN_OR_EQUAL"), Values: tf.Strs(strconv.Itoa(p.AnomalyUSD)),
			},
		},
	})
}
