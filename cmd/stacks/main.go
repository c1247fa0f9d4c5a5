// Command stacks prints the account stacks in deploy order with their
// account IDs, as JSON, for CI workflows: `go run ./cmd/stacks`. It reads
// only the config (LZ_CONFIG, default config.yaml), so it needs no Node.
//
// The management account's organization stack, which CI never runs, is
// listed only with -kind management or -one management.
//
// With -kind K it prints only the stacks of that kind (logs, security,
// shared-services, app, management) as a JSON list, for a workflow's matrix; with -one
// K the single stack of that kind as one JSON object.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/acme/landing-zone/internal/config"
)

type stack struct {
	Stack     string `json:"stack"`
	AccountID string `json:"account_id"`
	Region    string `json:"region"`
	Kind      string `json:"kind"`
	// Gated stacks (the prod profile) are planned on merge but applied only
	// when a person dispatches the reviewed plan (help/ci-cd.md).
	Gated bool `json:"gated"`
}

func main() {
	kind := flag.String("kind", "", "print only the stacks of this kind, as a list")
	one := flag.String("one", "", "print the single stack of this kind, as an object")
	flag.Parse()
	cfg, err := config.Load(config.Path())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := []stack{}
	for _, name := range cfg.AccountNames() {
		a := cfg.Accounts[name]
		// CI has no role in the management account: its organization stack
		// is deployed by a person (help/organization.md), and listed only
		// when asked for by kind.
		if a.Kind == config.KindManagement && *kind != a.Kind && *one != a.Kind {
			continue
		}
		if (*kind == "" || a.Kind == *kind) && (*one == "" || a.Kind == *one) {
			out = append(out, stack{name, a.ID, cfg.Region, a.Kind, a.Profile == config.ProfileProd})
		}
	}
	var b []byte
	if *one != "" {
		if len(out) != 1 {
			fmt.Fprintf(os.Stderr, "stacks: want one %s account, the config has %d\n", *one, len(out))
			os.Exit(1)
		}
		b, _ = json.Marshal(out[0])
	} else {
		b, _ = json.Marshal(out)
	}
	fmt.Println(string(b))
}
