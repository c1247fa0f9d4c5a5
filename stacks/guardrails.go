package stacks

import (
	"github.com/acme/landing-zone/constructs/alb"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/guardrails"
)

// GuardrailOptions derives the guardrail settings from config: which stacks
// are prod, and the only internet-facing ingress allowed (the public load
// balancers on 80 and 443, and the VPN port).
func GuardrailOptions(cfg *config.Config) guardrails.Options {
	var o guardrails.Options
	for _, name := range cfg.AccountNames() {
		a := cfg.Accounts[name]
		switch a.Kind {
		case config.KindApp:
			if a.Profile == config.ProfileProd {
				o.ProdStacks = append(o.ProdStacks, name, "bootstrap-"+name)
			}
			group := alb.SecurityGroupName(publicALBName(cfg, name))
			o.InternetIngress = append(o.InternetIngress, guardrails.Opening{Group: group, Protocol: "tcp", Port: 80},
				guardrails.Opening{Group: group, Protocol: "tcp", Port: 443})
		case config.KindShared:
			server, _ := vpnNames(cfg)
			o.InternetIngress = append(o.InternetIngress, guardrails.Opening{Group: server, Protocol: "udp", Port: a.VPN.Port})
		}
	}
	return o
}
