// Package retire plans the retirement of an app environment: the guarded,
// ordered steps that destroy one app account's stacks and remove the
// account from every other stack, and the offline proof that the destroy
// touches that account's resources and nothing else (help/retire.md).
//
// Entry points: Check (the guards), Without (the config without the
// account), Steps (the ordered commands), and Prove (proof.go).
package retire

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/acme/landing-zone/internal/config"
)

// ProdFlag is the second flag that retiring a prod-profile account needs.
const ProdFlag = "i-understand-this-destroys-prod"

// Request is what the operator asked for.
type Request struct {
	Account string
	// Empty lets Terraform delete buckets with their objects and zones with
	// their records (stacks.Retiring.Empty); only after Confirmed.
	Empty bool
	// Confirmed: the operator typed the account's name, or passed --yes.
	Confirmed bool
	// Prod is the second flag (ProdFlag) a prod-profile account needs.
	Prod bool
}

// Check refuses what must not be retired: an unknown account, the logs,
// security and shared-services accounts (every other stack depends on
// them), a prod-profile account without the second flag, and emptying
// without confirmation.
func Check(cfg *config.Config, r Request) error {
	a := cfg.Accounts[r.Account]
	if a == nil {
		return fmt.Errorf("no account %q in the config; the app accounts are %s", r.Account, strings.Join(appAccounts(cfg), ", "))
	}
	if a.Kind != config.KindApp {
		return fmt.Errorf("account %q is the %s account: only app accounts can be retired (every other stack depends on the %s account; retiring it means tearing down the landing zone, which this command does not do)", r.Account, a.Kind, a.Kind)
	}
	if len(appAccounts(cfg)) == 1 {
		return fmt.Errorf("account %q is the config's only app account: a landing zone needs one (add its successor first)", r.Account)
	}
	if a.Profile == config.ProfileProd && !r.Prod {
		return fmt.Errorf("account %q has the prod profile: retiring it destroys production; pass --%s as well if that is what you mean", r.Account, ProdFlag)
	}
	if r.Empty && !r.Confirmed {
		return errors.New("--empty-buckets deletes every object of the account's buckets (its logs and Terraform state): confirm by typing the account's name, or pass --yes in CI")
	}
	return nil
}

func appAccounts(cfg *config.Config) []string {
	var out []string
	for _, n := range cfg.AccountNames() {
		if cfg.Accounts[n].Kind == config.KindApp {
			out = append(out, n)
		}
	}
	return out
}

// Without returns the config file's text with the account removed: its
// entry under accounts, its name in every group's accounts (a group left
// with none is removed), and its default groups and removed groups in every
// user's groups. Comments elsewhere are kept. The result is loaded and
// validated before it is returned.
func Without(name string, data []byte, account string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 {
		return nil, errors.New("the config is not one YAML mapping")
	}
	root := doc.Content[0]
	accounts := get(root, "accounts")
	if accounts == nil || !del(accounts, account) {
		return nil, fmt.Errorf("no account %q under accounts", account)
	}
	gone := []string{account + "-full-access", account + "-read-only"}
	if groups := get(get(root, "baseline"), "groups"); groups != nil {
		for i := 0; i+1 < len(groups.Content); i += 2 {
			g := groups.Content[i+1]
			list := get(g, "accounts")
			if list == nil || !dropItem(list, account) {
				continue
			}
			if len(list.Content) == 0 {
				gone = append(gone, groups.Content[i].Value)
				groups.Content = slices.Delete(groups.Content, i, i+2)
				i -= 2
			}
		}
	}
	// The default developers group exists while a dev-profile app account
	// does (config.defaultBaseline), unless the config defines it.
	devLeft := false
	for i := 1; i < len(accounts.Content); i += 2 {
		a := accounts.Content[i]
		if k := get(a, "kind"); k != nil && k.Value == config.KindApp {
			if p := get(a, "profile"); p == nil || p.Value == "" || p.Value == config.ProfileDev {
				devLeft = true
			}
		}
	}
	if !devLeft && get(get(get(root, "baseline"), "groups"), "developers") == nil {
		gone = append(gone, "developers")
	}
	if users := get(get(root, "baseline"), "users"); users != nil {
		for i := 1; i < len(users.Content); i += 2 {
			if list := get(users.Content[i], "groups"); list != nil {
				for _, g := range gone {
					dropItem(list, g)
				}
			}
		}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if _, err := config.Parse(name, buf.Bytes()); err != nil {
		return nil, fmt.Errorf("the config without %q does not validate; fix these in the written file by hand:\n%w", account, err)
	}
	return buf.Bytes(), nil
}

func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func del(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = slices.Delete(m.Content, i, i+2)
			return true
		}
	}
	return false
}

func dropItem(seq *yaml.Node, v string) bool {
	if seq.Kind != yaml.SequenceNode {
		return false
	}
	n := len(seq.Content)
	seq.Content = slices.DeleteFunc(seq.Content, func(x *yaml.Node) bool { return x.Value == v })
	return len(seq.Content) != n
}

// Step is one step of the retirement, with the exact commands to run from
// the repository's root.
type Step struct {
	Title    string
	Why      string
	Commands []string
}

// Steps are the ordered steps that retire r.Account: the account stack's
// last apply in retiring mode, its destroy (Terraform orders services
// before data before network within the stack by their references), the
// other stacks applied without the account, and bootstrap-<account> last,
// because the destroy's state lives in its bucket. configPath is the config
// file, out the synth output (cdktf.out), kept the addresses whose
// destroy is skipped (Kept).
func Steps(cfg *config.Config, r Request, configPath, out string, kept []string) []Step {
	acct := r.Account
	flags := ""
	if r.Empty {
		flags += " --empty-buckets --yes"
	}
	if r.Prod {
		flags += " --" + ProdFlag
	}
	dir := out + "/stacks/" + acct
	boot := out + "/stacks/bootstrap-" + acct
	without := WithoutPath(configPath, acct)
	var others []string
	for _, n := range cfg.AccountNames() {
		if n != acct {
			others = append(others, n)
		}
	}
	steps := []Step{
		{
			Title: "Synthesize " + acct + " in retiring mode",
			Why: "deletion protection off, a final snapshot of Aurora and Redis (" + cfg.NamePrefix + "-" + acct + "-db-1-retired, -cache-1-retired), secrets deleted without a recovery window" +
				map[bool]string{true: ", buckets and zones emptied on destroy", false: "; buckets that hold objects stop the destroy (rerun with --empty-buckets)"}[r.Empty],
			Commands: []string{"go run . retire " + acct + flags + " -synth -out " + out},
		},
		{
			Title:    "Apply the retiring settings to " + acct + " and bootstrap-" + acct,
			Why:      "Terraform reads deletion protection and the final snapshot name from state when it destroys, so they must be applied first; review: only those settings change",
			Commands: []string{"terraform -chdir=" + dir + " init", "terraform -chdir=" + dir + " apply", "terraform -chdir=" + boot + " init", "terraform -chdir=" + boot + " apply"},
		},
	}
	if len(kept) > 0 {
		var cmds []string
		for _, k := range kept {
			cmds = append(cmds, "terraform -chdir="+dir+" state rm '"+k+"'")
		}
		steps = append(steps, Step{
			Title:    "Keep the keys of the final snapshots",
			Why:      "the final snapshots are encrypted with these KMS keys; deleting a key makes its snapshots unreadable. They stay in the account (tagged Environment=" + acct + ") until the snapshots are no longer needed",
			Commands: cmds,
		})
	}
	steps = append(steps,
		Step{
			Title:    "Destroy " + acct,
			Why:      "services, then data (taking the final snapshots), then the network and the baseline, in the order of their references; the peering's shared-services side goes with it",
			Commands: []string{"terraform -chdir=" + dir + " plan -destroy -out=retire.tfplan", "terraform -chdir=" + dir + " apply retire.tfplan"},
		},
		Step{
			Title: "Remove " + acct + " from the config and apply the other stacks",
			Why:   "shared-services (peering routes, registry pullers), security (groups and trust), logs (archive sources) and the rest stop naming the account; review each plan: it removes only what named " + acct,
			Commands: []string{
				"go run . retire " + acct + flags + " -write-config " + without,
				"mv " + without + " " + configPath,
				"make synth",
				"npx cdktf diff " + strings.Join(others, " "),
				"npx cdktf deploy " + strings.Join(others, " "),
			},
		},
		Step{
			Title:    "Destroy bootstrap-" + acct + " last",
			Why:      "its bucket held the state of every step above; " + map[bool]string{true: "it is emptied (every version) on destroy", false: "a bucket with objects stops the destroy: rerun from step 1 with --empty-buckets once nothing in it is needed"}[r.Empty],
			Commands: []string{"terraform -chdir=" + boot + " plan -destroy -out=retire.tfplan", "terraform -chdir=" + boot + " apply retire.tfplan"},
		},
		Step{
			Title:    "Close or reuse the AWS account",
			Why:      "the landing zone no longer manages it; its CloudTrail history stays in the logs account's archive",
			Commands: []string{"aws organizations close-account --account-id " + cfg.Accounts[acct].ID + "   # optional, from the management account"},
		},
	)
	return steps
}

// WithoutPath is where the config without the account is written.
func WithoutPath(configPath, account string) string {
	base := strings.TrimSuffix(configPath, ".yaml")
	return base + ".without-" + account + ".yaml"
}
