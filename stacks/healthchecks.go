package stacks

import (
	"github.com/acme/landing-zone/constructs/alarms"
	"github.com/acme/landing-zone/constructs/monitoring"
	"github.com/acme/landing-zone/internal/tf"
)

// HealthCheckRegion is where Route 53 publishes health check metrics, and
// so where their alarms must be: an alarm anywhere else has no data.
const HealthCheckRegion = "us-east-1"

// healthCheckWatcher returns the watcher for the stack's Route 53 health
// checks and their alarms, and a function to call once they are all added.
// In a us-east-1 stack it is home, and done does nothing. Elsewhere it is a
// watcher in us-east-1, through the stack's us-east-1 provider
// (RegionProvider), notifying alarm topics of its own there: an alarm
// notifies topics of its region only, and SNS cannot forward to the home
// topics without a function in between, so these topics carry the home
// topics' names, a KMS key of their own and the same subscribers.
func (a *Account) healthCheckWatcher(home *monitoring.Watcher) (w *monitoring.Watcher, done func()) {
	p := a.RegionProvider(HealthCheckRegion)
	if p == nil {
		return home, func() {}
	}
	scope := tf.InRegion(a.Stack, "health-checks-"+HealthCheckRegion, HealthCheckRegion)
	cfg := a.Config
	topics := alarms.NewTopics(scope, "alarm-topics", alarms.TopicsProps{
		Prefix: a.baselineName(), Emails: cfg.Monitoring.AlarmEmails, Webhooks: cfg.Monitoring.ChatWebhooks,
	})
	w = monitoring.New(scope, "monitoring", a.baselineName(), topics, monitoring.Thresholds(cfg.Monitoring.Thresholds))
	return w, func() { tf.UseProvider(scope, p) }
}
