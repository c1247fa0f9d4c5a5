package tests

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/acme/landing-zone/internal/access"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/tfjson"
)

// backupProblems checks, from the synthesized stacks and the config alone,
// that every app environment's data is kept: a database exactly where the
// config enables it (a service uses it, or database.enabled), the same for
// Redis; every Aurora cluster covered by a backup selection in its account
// whose plan copies to a vault in the logs account; that vault locked with
// the environment's copy retention as its minimum (compliance mode iff the
// config says so); and a final snapshot on every cluster and group unless
// the config opts out. It returns what is wrong.
func backupProblems(cfg *config.Config, d stackDocs) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	logsName, logs := cfg.AccountOfKind(config.KindLogs)
	for _, name := range appAccounts(cfg) {
		a := cfg.Accounts[name]
		clusters, groups := d.of(name, "aws_rds_cluster"), d.of(name, "aws_elasticache_replication_group")
		if want := map[bool]int{true: 1}[a.DatabaseEnabled()]; len(clusters) != want {
			bad("%s: %d Aurora clusters, want %d (database enabled: %v)", name, len(clusters), want, a.DatabaseEnabled())
		}
		if want := map[bool]int{true: 1}[a.CacheEnabled()]; len(groups) != want {
			bad("%s: %d Redis groups, want %d (cache enabled: %v)", name, len(groups), want, a.CacheEnabled())
		}
		for _, g := range groups {
			id, _ := g.(map[string]any)["final_snapshot_identifier"].(string)
			if (id == "") != a.Cache.SkipFinalSnapshot {
				bad("%s: Redis final_snapshot_identifier %q with skip_final_snapshot %v", name, id, a.Cache.SkipFinalSnapshot)
			}
		}
		for _, c := range clusters {
			r := c.(map[string]any)
			id, _ := r["final_snapshot_identifier"].(string)
			skip, _ := r["skip_final_snapshot"].(bool)
			if skip != a.Database.SkipFinalSnapshot || (id == "") != a.Database.SkipFinalSnapshot {
				bad("%s: Aurora skip_final_snapshot %v, final_snapshot_identifier %q; config skip_final_snapshot %v", name, skip, id, a.Database.SkipFinalSnapshot)
			}
			arn := fmt.Sprintf("arn:aws:rds:%s:%s:cluster:%s", cfg.Region, a.ID, r["cluster_identifier"])
			dests := copyDestinations(d, name, arn)
			if len(dests) == 0 {
				bad("%s: no backup selection covers %s with a plan that copies anywhere", name, arn)
				continue
			}
			for _, dest := range dests {
				parts := strings.Split(dest.vault, ":")
				if len(parts) != 7 || parts[4] != logs.ID {
					bad("%s: the plan copies to %s, not to a vault in the logs account %s", name, dest.vault, logs.ID)
					continue
				}
				if dest.days != a.Backup.CopyRetentionDays {
					bad("%s: copies kept %d days, want copy_retention_days %d", name, dest.days, a.Backup.CopyRetentionDays)
				}
				lock := vaultLock(d, logsName, parts[6])
				switch {
				case lock == nil:
					bad("%s: the vault %s has no Vault Lock in %s", name, parts[6], logsName)
				case num(lock["min_retention_days"]) != a.Backup.CopyRetentionDays:
					bad("%s: the Vault Lock of %s keeps copies at least %v days, want %d", name, parts[6], lock["min_retention_days"], a.Backup.CopyRetentionDays)
				case (lock["changeable_for_days"] != nil) != (a.Backup.VaultLock == config.LockCompliance):
					bad("%s: the Vault Lock of %s has changeable_for_days %v, want compliance mode %v", name, parts[6], lock["changeable_for_days"], a.Backup.VaultLock == config.LockCompliance)
				}
			}
		}
	}
	return out
}

type copyDest struct {
	vault string
	days  int
}

// copyDestinations are the copy actions of the plans whose selections in
// the stack cover resource.
func copyDestinations(d stackDocs, stack, resource string) []copyDest {
	var out []copyDest
	for _, s := range d.of(stack, "aws_backup_selection") {
		sel := s.(map[string]any)
		resources, _ := sel["resources"].([]any)
		if !slices.Contains(resources, any(resource)) {
			continue
		}
		_, plan, _ := strings.Cut(tfjson.Ref(sel["plan_id"]), ".")
		p, _ := d.of(stack, "aws_backup_plan")[plan].(map[string]any)
		for _, rule := range tfjson.Blocks(p["rule"]) {
			for _, c := range tfjson.Blocks(rule["copy_action"]) {
				v, _ := c["destination_vault_arn"].(string)
				out = append(out, copyDest{vault: v, days: num(first(c["lifecycle"])["delete_after"])})
			}
		}
	}
	return out
}

// vaultLock is the lock configuration of the vault named name in a stack.
func vaultLock(d stackDocs, stack, name string) map[string]any {
	vaults := d.of(stack, "aws_backup_vault")
	for _, l := range d.of(stack, "aws_backup_vault_lock_configuration") {
		lock := l.(map[string]any)
		_, v, _ := strings.Cut(tfjson.Ref(lock["backup_vault_name"]), ".")
		if vault, ok := vaults[v].(map[string]any); ok && vault["name"] == name {
			return lock
		}
	}
	return nil
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// TestBackupsKeepEveryDatabase runs backupProblems over every config, and
// checks the fixtures show both sides of "on demand": an environment
// without a service using Redis (or the database) has none.
func TestBackupsKeepEveryDatabase(t *testing.T) {
	withoutCache, withoutDB := 0, 0
	for _, f := range propertyConfigs(t) {
		t.Run(f.Name, func(t *testing.T) {
			for _, p := range backupProblems(f.Cfg, readDocs(t, synthOf(t, f))) {
				t.Error(p)
			}
		})
		for _, name := range appAccounts(f.Cfg) {
			if !f.Cfg.Accounts[name].CacheEnabled() {
				withoutCache++
			}
			if !f.Cfg.Accounts[name].DatabaseEnabled() {
				withoutDB++
			}
		}
	}
	if fixturesInPlay(t) && (withoutCache == 0 || withoutDB == 0) {
		t.Errorf("the configs have %d environments without Redis and %d without a database; want some of each", withoutCache, withoutDB)
	}
}

// TestBackupProofIsNoRubberStamp breaks the example's synthesized backups
// one thing at a time and requires the property or the IAM proof to fail.
func TestBackupProofIsNoRubberStamp(t *testing.T) {
	f := fixtureConfig(t, exampleFixture)
	out := synthOf(t, f)
	if p := backupProblems(f.Cfg, readDocs(t, out)); len(p) > 0 {
		t.Fatalf("the unbroken example must pass first: %v", p)
	}
	editJSON := func(t *testing.T, d stackDocs, stack, typ string, fn func(r map[string]any), fragments ...string) {
		t.Helper()
		names := d.where(stack, typ, fragments...)
		if len(names) != 1 {
			t.Fatalf("%s: %d %s contain %q, want 1", stack, len(names), typ, fragments)
		}
		fn(d.of(stack, typ)[names[0]].(map[string]any))
	}
	property := []struct {
		name    string
		breakIt func(t *testing.T, d stackDocs)
		want    string
	}{
		{"the copy action removed from dev's plan", func(t *testing.T, d stackDocs) {
			editJSON(t, d, "dev", "aws_backup_plan", func(r map[string]any) {
				for _, rule := range tfjson.Blocks(r["rule"]) {
					delete(rule, "copy_action")
				}
			})
		}, "dev: no backup selection covers"},
		{"dev's plan copying to a vault in its own account", func(t *testing.T, d stackDocs) {
			editJSON(t, d, "dev", "aws_backup_plan", func(r map[string]any) {
				c := tfjson.Blocks(tfjson.Blocks(r["rule"])[0]["copy_action"])[0]
				c["destination_vault_arn"] = strings.Replace(c["destination_vault_arn"].(string), f.Cfg.Accounts["logs"].ID, f.Cfg.Accounts["dev"].ID, 1)
			})
		}, "not to a vault in the logs account"},
		{"the selection no longer covering stage's cluster", func(t *testing.T, d stackDocs) {
			editJSON(t, d, "stage", "aws_backup_selection", func(r map[string]any) { r["resources"] = []any{"arn:aws:rds:us-east-1:555555555555:cluster:other"} })
		}, "stage: no backup selection covers"},
		{"prod's Vault Lock removed", func(t *testing.T, d stackDocs) {
			d.remove(t, "logs", "aws_backup_vault_lock_configuration", "prod")
		}, "prod: the vault acme-prod-copies has no Vault Lock"},
		{"prod's Vault Lock in governance mode", func(t *testing.T, d stackDocs) {
			editJSON(t, d, "logs", "aws_backup_vault_lock_configuration", func(r map[string]any) { delete(r, "changeable_for_days") }, "prod")
		}, "want compliance mode true"},
		{"a shorter lock retention than the copies'", func(t *testing.T, d stackDocs) {
			editJSON(t, d, "logs", "aws_backup_vault_lock_configuration", func(r map[string]any) { r["min_retention_days"] = float64(1) }, "stage")
		}, "stage: the Vault Lock of acme-stage-copies keeps copies at least 1 days"},
		{"dev's cluster deleted without a final snapshot", func(t *testing.T, d stackDocs) {
			editJSON(t, d, "dev", "aws_rds_cluster", func(r map[string]any) {
				r["skip_final_snapshot"] = true
				delete(r, "final_snapshot_identifier")
			})
		}, "dev: Aurora skip_final_snapshot true"},
		{"stage's Redis without a final snapshot", func(t *testing.T, d stackDocs) {
			editJSON(t, d, "stage", "aws_elasticache_replication_group", func(r map[string]any) { delete(r, "final_snapshot_identifier") })
		}, "stage: Redis final_snapshot_identifier \"\""},
		{"a Redis group where no service uses one", func(t *testing.T, d stackDocs) {
			// dev's Redis is used; pretend config turned it off.
			f := fixtureConfig(t, exampleFixture)
			off := false
			f.Cfg.Accounts["dev"].Cache.Enabled = &off
			if p := backupProblems(f.Cfg, d); !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, "dev: 1 Redis groups, want 0") }) {
				t.Errorf("a Redis group the config does not enable passes: %v", p)
			}
		}, ""},
	}
	for _, c := range property {
		t.Run(c.name, func(t *testing.T) {
			d := readDocs(t, out)
			c.breakIt(t, d)
			if c.want == "" {
				return
			}
			p := backupProblems(f.Cfg, d)
			if !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, c.want) }) {
				t.Errorf("want a problem containing %q, got %v", c.want, p)
			}
		})
	}

	// The IAM side: the vault access policy and both key policies decide
	// the copy; an extra principal in the vault policy lets another
	// account in.
	iamCases := []struct {
		name     string
		breakIt  func(t *testing.T, d stackDocs)
		question string
		decided  string
	}{
		{"dev's vault access policy statement removed", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "logs", "aws_backup_vault_policy", "policy", dropSid(t, "SourceAccountCopiesIn"), "acme-dev", "SourceAccountCopiesIn")
		}, "dev: the backup role copies", "backup:CopyIntoBackupVault"},
		{"the copies key no longer lets the app accounts grant to AWS Backup", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "logs", "aws_kms_key", "policy", dropSid(t, "SourceAccountsGrantToBackup"), "SourceAccountsGrantToBackup")
		}, "stage: the backup role copies", "kms:CreateGrant"},
		{"prod's database key not shared with the logs account", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "prod", "aws_kms_key", "policy", dropSid(t, "BackupCopyAccountReads"), "BackupCopyAccountReads")
		}, "prod: the backup role copies", "kms:Decrypt"},
		{"dev's vault open to stage too", func(t *testing.T, d stackDocs) {
			d.editPolicy(t, "logs", "aws_backup_vault_policy", "policy", func(doc *iamDoc) {
				doc.Statement[0]["Principal"] = map[string]any{"AWS": []string{"arn:aws:iam::" + f.Cfg.Accounts["dev"].ID + ":root", "arn:aws:iam::" + f.Cfg.Accounts["stage"].ID + ":root"}}
			}, "acme-dev", "SourceAccountCopiesIn")
		}, "dev: another account copies into", "SourceAccountCopiesIn"},
	}
	for _, c := range iamCases {
		t.Run(c.name, func(t *testing.T) {
			d := readDocs(t, out)
			c.breakIt(t, d)
			qs := d.access(t, f.Cfg, c.question)
			if len(qs) == 0 {
				t.Fatalf("the proof asks no question %q", c.question)
			}
			fails := access.FailuresOf(qs)
			if len(fails) == 0 {
				t.Fatalf("%q still passes", c.question)
			}
			if detail := fails.Error(); !strings.Contains(detail, c.decided) {
				t.Errorf("the failure does not name %q:\n%s", c.decided, detail)
			}
		})
	}
}

// TestBackupQuestionsAreAsked: every environment with a database gets its
// three backup questions with the intended answers.
func TestBackupQuestionsAreAsked(t *testing.T) {
	for _, f := range propertyConfigs(t) {
		t.Run(f.Name, func(t *testing.T) {
			s, err := access.Read(synthOf(t, f), f.Cfg)
			if err != nil {
				t.Fatal(err)
			}
			asked := map[string]bool{}
			for _, q := range access.Questions(s, f.Cfg, access.Options{}) {
				asked[q.Name] = q.Want
			}
			for _, name := range appAccounts(f.Cfg) {
				if !f.Cfg.Accounts[name].DatabaseEnabled() {
					continue
				}
				for q, want := range map[string]bool{
					name + ": the backup role copies the database's backups into its vault in the logs account": true,
					name + ": another account copies into " + name + "'s vault in the logs account":             false,
					name + ": an outsider uses the database key shared with the logs account":                   false,
				} {
					if got, ok := asked[q]; !ok || got != want {
						t.Errorf("%q: asked %v, want %v", q, ok && got == want, want)
					}
				}
			}
		})
	}
}
