// Package reach is an offline model of how AWS forwards a packet, run over
// the synthesized stacks (the Terraform JSON, so it checks what Terraform
// will apply): security groups on both ends (stateful), network ACLs both
// ways (stateless: replies need their ephemeral range), route tables with
// their local, internet gateway, NAT gateway, gateway endpoint and peering
// routes, subnet associations, and load balancers as a hop (listener,
// rule, target group, task).
//
// Flows come from the config: every intended flow (the internet to the
// public load balancers, load balancers to their services, services to the
// data stores they use and to AWS, VPN clients to the environments) must
// be reachable, and every forbidden one (the internet to anything else,
// app VPC to app VPC, the persistence tier to or from the internet, admin
// ports in network ACLs, unused data stores) must not. Synth fails on any
// miss, like a guardrail. Entry points: Read, Prove, Check.
package reach

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/acme/landing-zone/internal/config"
)

// Check proves every flow of cfg over the synth output in dir and returns
// the flows that do not behave as intended as an error.
func Check(dir string, cfg *config.Config) error {
	s, err := Read(dir)
	if err != nil {
		return err
	}
	if fails := FailuresOf(Prove(s, cfg)); len(fails) > 0 {
		return fails
	}
	return nil
}

// Failures are flows that do not behave as intended.
type Failures []Flow

// FailuresOf keeps the flows that do not behave as intended.
func FailuresOf(flows []Flow) Failures {
	var out Failures
	for _, f := range flows {
		if !f.Pass() {
			out = append(out, f)
		}
	}
	return out
}

func (fs Failures) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "reachability: %d flow(s) do not behave as the config intends:\n", len(fs))
	for _, f := range fs {
		want := "must be reachable but is blocked"
		if !f.Want {
			want = "must be unreachable but is open"
		}
		fmt.Fprintf(&b, "  %s %s:\n    %s\n", f.Name(), want, f.Detail)
	}
	b.WriteString("Run `go run . reach` for the whole table; `go run . help network` explains each flow.")
	return b.String()
}

// For keeps the flows that cross a stack ("" keeps all).
func For(flows []Flow, stack string) []Flow {
	if stack == "" {
		return flows
	}
	var out []Flow
	for _, f := range flows {
		if slices.Contains(f.Stacks, stack) {
			out = append(out, f)
		}
	}
	return out
}

// WriteTable prints one line per flow: verdict, intent, flow, ports,
// and the path or the blocking (or wrongly admitting) hop.
func WriteTable(w io.Writer, flows []Flow) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERDICT\tEXPECT\tFROM\tTO\tPORTS\tDETAIL")
	for _, f := range flows {
		verdict, want := "ok", "reachable"
		if !f.Pass() {
			verdict = "FAIL"
		}
		if !f.Want {
			want = "unreachable"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", verdict, want, f.From, f.To, f.Ports, f.Detail)
	}
	return tw.Flush()
}
