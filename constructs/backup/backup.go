// Package backup makes AWS Backup for an environment's data: a daily plan
// in the environment's account that backs its resources up into a vault of
// its own (own KMS key) and copies every backup to a vault in another
// account (the logs account), where a Vault Lock keeps each copy for a
// minimum retention and only the source account may copy in.
//
// It owns two halves, one per account: NewPlan (the workload account's
// vault, key, service role, plan and selection) and NewCentral (the
// destination vaults, their access policies, Vault Locks and the key that
// encrypts them). Each half names the other's resources from config
// (VaultARN, KeyStatements), never from the other stack's state.
package backup

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/backupplan"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/backupselection"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/backupvault"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/backupvaultlockconfiguration"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/backupvaultpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicyattachment"

	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/constructs/role"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// Schedule is the plan's daily backup time (UTC): after Aurora's automated
// backup window (03:00-04:00) and before its maintenance (Sundays 04:30)
// ends; StartWindowMinutes and CompletionWindowMinutes bound a job.
const (
	Schedule                = "cron(0 5 * * ? *)"
	StartWindowMinutes      = 60
	CompletionWindowMinutes = 360
)

// ComplianceGraceDays is how long a compliance-mode Vault Lock may still be
// changed or removed after it is made; then it is immutable.
const ComplianceGraceDays = 3

// ManagedPolicies are the AWS managed policies of the backup service role.
var ManagedPolicies = []string{
	"service-role/AWSBackupServiceRolePolicyForBackup",
	"service-role/AWSBackupServiceRolePolicyForRestores",
}

// PlanProps configures an environment's backups.
type PlanProps struct {
	// Name prefixes the vault, plan, selection, role and key alias.
	// Required.
	Name string
	// Resources are the ARNs to back up (an Aurora cluster's). Required.
	Resources []string
	// RetentionDays keeps each backup in the local vault. Required.
	RetentionDays int
	// CopyVaultARN is the vault in another account every backup is copied
	// to (VaultARN), kept CopyRetentionDays there. Required: both.
	CopyVaultARN      string
	CopyRetentionDays int
}

// Plan is what NewPlan made.
type Plan struct {
	// VaultName and VaultARN are the local vault's; RoleARN the service
	// role's; PlanID the plan's.
	VaultName, VaultARN, RoleARN string
	PlanID                       *string
	Key                          *kms.Key
}

// VaultName is the local vault of an environment named name.
func VaultName(name string) string { return name + "-backup" }

// CopyVaultName is an environment's vault in the central account.
func CopyVaultName(name string) string { return name + "-copies" }

// RoleName is the backup service role of an environment.
func RoleName(name string) string { return name + "-backup" }

// VaultARN is the ARN of a vault named name in env.
func VaultARN(env awsenv.Env, name string) string { return env.ARN("backup", "backup-vault:"+name) }

// NewPlan makes the local vault (with its own key), the service role, the
// daily plan whose rule copies to CopyVaultARN, and the selection of
// Resources.
func NewPlan(scope constructs.Construct, id string, p PlanProps) *Plan {
	if p.Name == "" || len(p.Resources) == 0 || p.RetentionDays < 1 || p.CopyVaultARN == "" || p.CopyRetentionDays < 1 {
		panic("backup.NewPlan: Name, Resources, RetentionDays, CopyVaultARN and CopyRetentionDays are required (" + id + ")")
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	env := tf.EnvOf(s)
	out := &Plan{VaultName: VaultName(p.Name), RoleARN: env.Role(RoleName(p.Name))}
	out.VaultARN = VaultARN(env, out.VaultName)
	out.Key = kms.New(s, "key", kms.Props{Alias: p.Name + "-backup", Description: "Encrypts the backups of " + p.Name + " in its own vault"})
	vault := backupvault.NewBackupVault(s, tf.S("vault"), &backupvault.BackupVaultConfig{
		Name: tf.S(out.VaultName), KmsKeyArn: out.Key.ARN, Tags: tf.Name(out.VaultName),
	})
	r := role.New(s, "role", role.Props{
		Name: RoleName(p.Name), Description: "AWS Backup backs up, copies and restores " + p.Name + "'s data as this role",
		Trust: iam.Policy(iam.Statement{Effect: "Allow", Action: []string{"sts:AssumeRole"}}.For("Service", "backup.amazonaws.com")),
	}).Role
	for i, m := range ManagedPolicies {
		iamrolepolicyattachment.NewIamRolePolicyAttachment(s, tf.S([]string{"role-backup", "role-restores"}[i]), &iamrolepolicyattachment.IamRolePolicyAttachmentConfig{
			Role: r.Name(), PolicyArn: tf.S(env.Partition.ManagedPolicy(m)),
		})
	}
	plan := backupplan.NewBackupPlan(s, tf.S("plan"), &backupplan.BackupPlanConfig{
		Name: tf.S(p.Name + "-daily"),
		Rule: []*backupplan.BackupPlanRule{{
			RuleName:          tf.S("daily"),
			TargetVaultName:   vault.Name(),
			Schedule:          tf.S(Schedule),
			StartWindow:       tf.N(StartWindowMinutes),
			CompletionWindow:  tf.N(CompletionWindowMinutes),
			Lifecycle:         &backupplan.BackupPlanRuleLifecycle{DeleteAfter: tf.N(p.RetentionDays)},
			RecoveryPointTags: tf.Name(p.Name + "-daily"),
			CopyAction: []*backupplan.BackupPlanRuleCopyAction{{
				DestinationVaultArn: tf.S(p.CopyVaultARN),
				Lifecycle:           &backupplan.BackupPlanRuleCopyActionLifecycle{DeleteAfter: tf.N(p.CopyRetentionDays)},
			}},
		}},
		Tags: tf.Name(p.Name + "-daily"),
	})
	out.PlanID = plan.Id()
	backupselection.NewBackupSelection(s, tf.S("selection"), &backupselection.BackupSelectionConfig{
		Name: tf.S(p.Name + "-data"), PlanId: plan.Id(), IamRoleArn: r.Arn(), Resources: tf.Strs(p.Resources...),
	})
	return out
}

// SourceKeyStatements share a source resource's key (an Aurora cluster's)
// with the account that receives its copies: AWS Backup there reads the
// snapshot to re-encrypt it under its vault's key. Through the Backup and
// RDS services only.
func SourceKeyStatements(region, copyAccountID string) []iam.Statement {
	env := awsenv.New(copyAccountID, region)
	root := iam.AccountRoot(env.Partition, copyAccountID)
	via := []string{"backup." + region + ".amazonaws.com", "rds." + region + ".amazonaws.com"}
	return []iam.Statement{
		iam.Allow("BackupCopyAccountReads", []string{"kms:Decrypt", "kms:DescribeKey", "kms:ReEncryptFrom"}, "*").
			For("AWS", root).When("StringEquals", "kms:ViaService", via...),
		iam.Allow("BackupCopyAccountGrants", []string{"kms:CreateGrant"}, "*").
			For("AWS", root).When("Bool", "kms:GrantIsForAWSResource", "true"),
	}
}

// CentralVault is one environment's vault in the central account.
type CentralVault struct {
	// Name is the environment's name (CopyVaultName makes the vault's).
	Name string
	// SourceAccountID alone may copy into it.
	SourceAccountID string
	// MinRetentionDays is the Vault Lock's minimum retention: the copy
	// retention of the source's plan.
	MinRetentionDays int
	// Compliance makes the lock immutable after ComplianceGraceDays;
	// otherwise it is in governance mode.
	Compliance bool
}

// CentralProps configures the central account's vaults.
type CentralProps struct {
	// KeyAlias names the key of every central vault. Required.
	KeyAlias string
	// Vaults are the environments' vaults. Required: at least one.
	Vaults []CentralVault
	// MaxRetentionDays is every lock's maximum retention. Required.
	MaxRetentionDays int
}

// Central is what NewCentral made.
type Central struct {
	Key *kms.Key
	// VaultARNs by environment name.
	VaultARNs map[string]string
}

// NewCentral makes one locked vault per source environment, each open
// only to its source account, under one key the source accounts may use
// through AWS Backup.
func NewCentral(scope constructs.Construct, id string, p CentralProps) *Central {
	if p.KeyAlias == "" || len(p.Vaults) == 0 || p.MaxRetentionDays < 1 {
		panic("backup.NewCentral: KeyAlias, Vaults and MaxRetentionDays are required (" + id + ")")
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	env := tf.EnvOf(s)
	var sources []string
	for _, v := range p.Vaults {
		sources = append(sources, iam.AccountRoot(env.Partition, v.SourceAccountID))
	}
	via := "backup." + env.Region + ".amazonaws.com"
	c := &Central{VaultARNs: map[string]string{}}
	c.Key = kms.New(s, "key", kms.Props{
		Alias: p.KeyAlias, Description: "Encrypts the backup copies of the app environments",
		Statements: []iam.Statement{
			iam.Allow("SourceAccountsCopyThroughBackup", []string{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"}, "*").
				For("AWS", sources...).When("StringEquals", "kms:ViaService", via),
			iam.Allow("SourceAccountsGrantToBackup", []string{"kms:CreateGrant"}, "*").
				For("AWS", sources...).When("Bool", "kms:GrantIsForAWSResource", "true"),
		},
	})
	for _, v := range p.Vaults {
		name := CopyVaultName(v.Name)
		arn := VaultARN(env, name)
		c.VaultARNs[v.Name] = arn
		vault := backupvault.NewBackupVault(s, tf.S(v.Name+"-vault"), &backupvault.BackupVaultConfig{
			Name: tf.S(name), KmsKeyArn: c.Key.ARN, Tags: tf.Name(name),
		})
		backupvaultpolicy.NewBackupVaultPolicy(s, tf.S(v.Name+"-policy"), &backupvaultpolicy.BackupVaultPolicyConfig{
			BackupVaultName: vault.Name(),
			Policy: tf.S(iam.Policy(
				iam.Allow("SourceAccountCopiesIn", []string{"backup:CopyIntoBackupVault"}, arn).
					For("AWS", iam.AccountRoot(env.Partition, v.SourceAccountID)),
			).JSON()),
		})
		lock := &backupvaultlockconfiguration.BackupVaultLockConfigurationConfig{
			BackupVaultName:  vault.Name(),
			MinRetentionDays: tf.N(v.MinRetentionDays),
			MaxRetentionDays: tf.N(max(p.MaxRetentionDays, v.MinRetentionDays)),
		}
		if v.Compliance {
			lock.ChangeableForDays = tf.N(ComplianceGraceDays)
		}
		backupvaultlockconfiguration.NewBackupVaultLockConfiguration(s, tf.S(v.Name+"-lock"), lock)
	}
	return c
}
