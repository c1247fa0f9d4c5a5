package stacks

import (
	"github.com/acme/landing-zone/constructs/backup"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/iam"
)

// addBackups gives every app environment with a database its AWS Backup
// plan, and the logs account one locked vault per such environment that
// the plan copies every backup to (help/backup-restore.md). The logs
// account is outside the workload accounts and already the place nobody
// but auditors reads: a workload account's administrator can delete its
// own vault's backups (governance), not the copies.
func (l *Landing) addBackups() {
	var vaults []backup.CentralVault
	for _, a := range l.Apps {
		if a.Database == nil {
			continue
		}
		b := a.Spec.Backup
		vaults = append(vaults, backup.CentralVault{
			Name: a.envName(), SourceAccountID: a.Spec.ID,
			MinRetentionDays: b.CopyRetentionDays, Compliance: b.VaultLock == config.LockCompliance,
		})
	}
	if len(vaults) == 0 {
		return
	}
	central := backup.NewCentral(l.Logs.Stack, "backup-copies", backup.CentralProps{
		KeyAlias: l.Logs.Config.NamePrefix + "-backup-copies", Vaults: vaults, MaxRetentionDays: config.MaxBackupRetentionDays,
	})
	var arns []string
	for _, v := range vaults {
		arns = append(arns, central.VaultARNs[v.Name])
	}
	l.Logs.Output("backup_copy_vault_arns", "Vaults holding each app environment's backup copies (Vault Lock on)", arns)
	for _, a := range l.Apps {
		if a.Database == nil {
			continue
		}
		b := a.Spec.Backup
		plan := backup.NewPlan(a.Stack, "backup", backup.PlanProps{
			Name: a.envName(), Resources: []string{a.Database.ARN}, RetentionDays: b.RetentionDays,
			CopyVaultARN: central.VaultARNs[a.envName()], CopyRetentionDays: b.CopyRetentionDays,
		})
		a.Output("backup_vault_arn", "Vault holding this environment's daily database backups", plan.VaultARN)
		a.Output("backup_copy_vault_arn", "Vault in the logs account holding their copies", central.VaultARNs[a.envName()])
	}
}

// backupKeyStatements share an app environment's database key with the
// logs account, which receives the backup copies.
func backupKeyStatements(cfg *config.Config) []iam.Statement {
	_, logs := cfg.AccountOfKind(config.KindLogs)
	return backup.SourceKeyStatements(cfg.Region, logs.ID)
}
