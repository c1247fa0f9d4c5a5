package access

import (
	"github.com/acme/landing-zone/constructs/findings"
	"github.com/acme/landing-zone/internal/awsenv"
)

// findingsQuestions (help/security-baseline.md, "Findings to people"):
// EventBridge, acting for the account's own rules, publishes findings to
// the account's critical topic and encrypts with the topic's key; neither
// EventBridge acting for another account nor an administrator outside the
// organization can publish there. Outside us-east-1, EventBridge assumes
// the forwarder role, which may put events on the home region's default
// bus and nowhere else.
func (p *prover) findingsQuestions() {
	stacks := p.accountStacks()
	for i, stack := range stacks {
		a := p.account(stack)
		other := p.account(stacks[(i+1)%len(stacks)]).ID
		q := func(name string, want bool, steps ...*Step) *Question {
			return p.add(&Question{Group: "findings", Stacks: []string{stack}, Name: name, Want: want, Steps: steps})
		}
		env := awsenv.New(a.ID, p.cfg.Region)
		prefix := p.cfg.NamePrefix + "-" + stack
		topic := env.ARN("sns", prefix+"-critical")
		rule := env.ARN("events", "rule/"+prefix+"-guardduty-high")
		events := p.service("events.amazonaws.com", map[string]any{"aws:SourceAccount": a.ID, "aws:SourceArn": rule})
		events.Label = "EventBridge (" + stack + "'s finding rules)"
		key := p.u.KeyByAlias(a.ID, "alias/"+prefix+"-alarms")
		if key == nil {
			q("EventBridge publishes findings to "+prefix+"-critical", true).Problem = "no key alias/" + prefix + "-alarms in " + stack
			continue
		}
		q("EventBridge publishes "+stack+"'s findings to "+prefix+"-critical", true,
			p.step(events, "sns:Publish", topic, nil), p.step(events, "kms:GenerateDataKey", key.ARN, nil))
		foreign := p.service("events.amazonaws.com", map[string]any{"aws:SourceAccount": other, "aws:SourceArn": awsenv.New(other, p.cfg.Region).ARN("events", "rule/x")})
		foreign.Label = "EventBridge acting for another account (" + other + ")"
		q(foreign.Label+" publishes to "+prefix+"-critical", false, p.step(foreign, "sns:Publish", topic, nil))
		p.add(&Question{Group: "outsiders", Stacks: []string{stack}, Name: "an administrator outside the organization publishes to " + prefix + "-critical",
			Want: false, Steps: []*Step{p.step(p.outsider(), "sns:Publish", topic, nil)}})
		if p.cfg.Region == findings.SignInRegion {
			continue
		}
		role := env.Role(prefix + "-root-sign-in-forward")
		bus := env.ARN("events", "event-bus/default")
		fwdRule := awsenv.New(a.ID, findings.SignInRegion).ARN("events", "rule/"+prefix+"-root-sign-in-forward")
		fwd := p.service("events.amazonaws.com", map[string]any{"aws:SourceAccount": a.ID, "aws:SourceArn": fwdRule})
		fwd.Label = "EventBridge (" + stack + "'s us-east-1 forwarder)"
		session := p.session(role, false)
		q("EventBridge forwards "+stack+"'s root sign-ins from us-east-1 to the "+p.cfg.Region+" default bus", true,
			p.step(fwd, "sts:AssumeRole", role, nil), p.step(session, "events:PutEvents", bus, nil))
		q("the forwarder role of "+stack+" puts events on another bus", false,
			p.step(session, "events:PutEvents", awsenv.New(a.ID, findings.SignInRegion).ARN("events", "event-bus/default"), nil))
	}
}
