package access

import (
	"maps"
	"slices"
	"strings"

	"github.com/acme/landing-zone/internal/awsenv"
)

// BackupVaultARN is the ARN of a backup vault.
func BackupVaultARN(region, accountID, name string) string {
	return "arn:aws:backup:" + region + ":" + accountID + ":backup-vault:" + name
}

// backupPlan is what the questions need of an app stack's backups: the
// role its selection of the cluster runs as, and where its plan copies.
type backupPlan struct {
	role   string   // the selection's IAM role ARN, "" without one
	copies []string // copy_action destination vault ARNs
}

// backupOf reads the stack's selection that covers the cluster and the
// copy destinations of that selection's plan.
func (p *prover) backupOf(e *appEnv) backupPlan {
	st := e.st
	var out backupPlan
	for _, n := range slices.Sorted(maps.Keys(st.Resources["aws_backup_selection"])) {
		sel := st.Resources["aws_backup_selection"][n]
		covers := false
		resources, _ := sel["resources"].([]any)
		for _, res := range resources {
			if st.Resolve(str(res)) == e.clusterARN {
				covers = true
			}
		}
		if !covers {
			continue
		}
		if typ, name := ref(sel["iam_role_arn"]); typ == "aws_iam_role" {
			out.role = st.value("aws_iam_role." + name + ".arn")
		} else {
			out.role = st.Resolve(str(sel["iam_role_arn"]))
		}
		_, plan := ref(sel["plan_id"])
		for _, rule := range blocks(st.Resources["aws_backup_plan"][plan]["rule"]) {
			for _, c := range blocks(rule["copy_action"]) {
				out.copies = append(out.copies, st.Resolve(str(c["destination_vault_arn"])))
			}
		}
	}
	return out
}

// vaultKey is the KMS key of a vault of the stacks, by the vault's ARN.
func (p *prover) vaultKey(arn string) string {
	found := ""
	p.u.stacks.each("aws_backup_vault", func(st *Stack, name string, r map[string]any) {
		if BackupVaultARN(st.Region, st.AccountID, st.Resolve(str(r["name"]))) == arn {
			found = st.Resolve(str(r["kms_key_arn"]))
		}
	})
	return found
}

// backupQuestions: every app environment's database is backed up by a
// selection whose plan copies into a vault in the logs account; the
// environment's backup role may copy into it (the vault's access policy
// and the vault key's policy allow it, and the database key is shared with
// the logs account for the copy), and no other account may.
func (p *prover) backupQuestions() {
	logsID := p.account(p.logs).ID
	logsAdmin := p.session(p.account(p.logs).DeployRoleARN(awsenv.Commercial), false)
	// AWS Backup calls KMS for the role, and grants only to AWS resources.
	viaBackup := map[string]any{"kms:ViaService": "backup." + p.cfg.Region + ".amazonaws.com"}
	grant := mergeContext(viaBackup, map[string]any{"kms:GrantIsForAWSResource": "true"})
	for _, app := range p.apps() {
		e := p.appEnv(app)
		if e.clusterARN == "" {
			continue
		}
		stacks := []string{app, p.logs}
		b := p.backupOf(e)
		dest := ""
		for _, c := range b.copies {
			if strings.Split(c, ":")[4] == logsID {
				dest = c
			}
		}
		q := &Question{Group: "backups", Stacks: stacks, Want: true,
			Name: app + ": the backup role copies the database's backups into its vault in the logs account"}
		switch {
		case b.role == "":
			q.Problem = "no backup selection of " + app + " covers " + e.clusterARN
		case dest == "":
			q.Problem = "the backup plan of " + app + " copies to no vault in the logs account (copies: " + strings.Join(b.copies, ", ") + ")"
		default:
			role := p.session(b.role, false)
			key := p.vaultKey(dest)
			q.Steps = []*Step{p.step(role, "backup:CopyIntoBackupVault", dest, nil)}
			if key == "" {
				q.Problem = "no vault " + dest + " in the stacks"
			} else {
				q.Steps = append(q.Steps, p.step(role, "kms:DescribeKey", key, viaBackup), p.step(role, "kms:CreateGrant", key, grant))
			}
			q.Steps = append(q.Steps,
				p.step(logsAdmin, "kms:Decrypt", e.dbKey, viaBackup), p.step(logsAdmin, "kms:CreateGrant", e.dbKey, grant))
		}
		p.add(q)
		if dest == "" {
			continue
		}
		// Every other principal that could try: an administrator of every
		// other account (but logs, whose vault it is), the other
		// environments' backup roles (whose identity policy allows copying
		// into any vault), and outsiders.
		var steps []*Step
		for _, other := range p.accountStacks() {
			if other == app || other == p.logs {
				continue
			}
			steps = append(steps, p.step(p.session(p.account(other).DeployRoleARN(awsenv.Commercial), false), "backup:CopyIntoBackupVault", dest, nil))
			if p.account(other).Kind == "app" {
				if ob := p.backupOf(p.appEnv(other)); ob.role != "" {
					steps = append(steps, p.step(p.session(ob.role, false), "backup:CopyIntoBackupVault", dest, nil))
				}
			}
		}
		steps = append(steps, p.step(p.outsider(), "backup:CopyIntoBackupVault", dest, nil))
		p.add(&Question{Group: "backups", Stacks: stacks, Want: false, AnyOf: true, Steps: steps,
			Name: app + ": another account copies into " + app + "'s vault in the logs account"})
		p.add(&Question{Group: "backups", Stacks: stacks, Want: false, AnyOf: true,
			Name:  app + ": an outsider uses the database key shared with the logs account",
			Steps: []*Step{p.step(p.outsider(), "kms:Decrypt", e.dbKey, viaBackup), p.step(p.outsider(), "kms:CreateGrant", e.dbKey, grant)}})
	}
}
