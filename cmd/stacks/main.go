// Command stacks prints the account stacks in deploy order with their
// account IDs, as JSON, for CI workflows: `go run ./cmd/stacks`. It reads
// only the config (LZ_CONFIG, default config.yaml), so it needs no Node.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/acme/landing-zone/internal/config"
)

type stack struct {
	Stack     string `json:"stack"`
	AccountID string `json:"account_id"`
	Region    string `json:"region"`
}

func main() {
	cfg, err := config.Load(config.Path())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var out []stack
	for _, name := range cfg.AccountNames() {
		out = append(out, stack{name, cfg.Accounts[name].ID, cfg.Region})
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}
