// Command landing-zone synthesizes the AWS landing zone described by one
// config file into one Terraform stack per account (see README.md).
//
// Run by cdktf (cdktf.json "app"), it reads the config named by LZ_CONFIG
// (default config.yaml) and writes the stacks to CDKTF_OUTDIR. A config with
// problems is reported in full and nothing is written.
package main

import (
	"fmt"
	"os"

	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/tf"
	"github.com/acme/landing-zone/stacks"
)

func main() {
	os.Exit(run())
}

func run() int {
	path := os.Getenv("LZ_CONFIG")
	if path == "" {
		path = config.DefaultPath
	}
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	app := cdktf.NewApp(nil)
	stacks.Build(app, cfg, stacks.Options{Offline: offline(app)})
	app.Synth()
	return 0
}

// offline is on when LZ_OFFLINE is 1 or true, or the cdktf context key
// "offline" is true.
func offline(app cdktf.App) bool {
	switch os.Getenv("LZ_OFFLINE") {
	case "1", "true":
		return true
	}
	v := app.Node().TryGetContext(tf.S("offline"))
	b, ok := v.(bool)
	return ok && b
}
