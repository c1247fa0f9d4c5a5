package config

// Vault Lock modes of an environment's central backup vault.
const (
	LockCompliance = "compliance"
	LockGovernance = "governance"
)

// MaxBackupRetentionDays bounds every backup retention (AWS Backup takes
// up to 100 years; ten keeps a typo from paying for a century).
const MaxBackupRetentionDays = 3650

// Backup configures AWS Backup of an app environment's Aurora cluster
// (help/backup-restore.md): a daily backup at 05:00 UTC into a vault in
// the environment's own account, copied to the environment's vault in the
// logs account, which only this account may copy into and whose Vault Lock
// keeps each copy for copy_retention_days. Only for kind app; there is
// nothing to back up when the environment has no database.
type Backup struct {
	// RetentionDays keeps each backup in the environment's own vault,
	// 1-3650. Default: 7 (dev), 14 (stage), 35 (prod).
	RetentionDays int `yaml:"retention_days" json:"retention_days,omitempty"`
	// CopyRetentionDays keeps each copy in the logs account's vault, and
	// is the Vault Lock's minimum retention there, 1-3650. Default: 7
	// (dev), 30 (stage), 90 (prod).
	CopyRetentionDays int `yaml:"copy_retention_days" json:"copy_retention_days,omitempty"`
	// VaultLock is the Vault Lock mode of the central vault: "compliance"
	// (after a 3-day grace period nobody, not even the logs account's
	// root user, can delete a copy early or remove the lock) or
	// "governance" (principals with backup:DeleteBackupVaultLockConfiguration
	// may remove the lock, e.g. to retire the environment). Default:
	// compliance (prod), governance (dev, stage).
	VaultLock string `yaml:"vault_lock" json:"vault_lock,omitempty"`
}

type backupDefaults struct {
	retention, copyRetention int
	lock                     string
}

var backupProfileDefaults = map[string]backupDefaults{
	ProfileDev:   {7, 7, LockGovernance},
	ProfileStage: {14, 30, LockGovernance},
	ProfileProd:  {35, 90, LockCompliance},
}

// defaultData fills in the data-store switches and the backup settings of
// an app account (after defaultApp made Database and Cache).
func defaultData(a *Account) {
	db, cache := false, false
	for _, s := range a.Services {
		if s != nil {
			db, cache = db || s.UseDatabase, cache || s.UseCache
		}
	}
	if a.Database.Enabled == nil {
		a.Database.Enabled = &db
	}
	if a.Database.DeletionProtection == nil {
		on := a.Profile == ProfileProd
		a.Database.DeletionProtection = &on
	}
	if a.Cache.Enabled == nil {
		a.Cache.Enabled = &cache
	}
	d := forProfile(backupProfileDefaults, a.Profile)
	if a.Backup == nil {
		a.Backup = &Backup{}
	}
	setDefault(&a.Backup.RetentionDays, d.retention)
	setDefault(&a.Backup.CopyRetentionDays, d.copyRetention)
	setDefault(&a.Backup.VaultLock, d.lock)
}

// validateData checks the data-store switches against the services and
// the backup settings.
func validateData(r *reporter, path string, a *Account) {
	for _, name := range a.ServiceNames() {
		s := a.Services[name]
		if s == nil {
			continue
		}
		if s.UseDatabase && !a.DatabaseEnabled() {
			r.add(path+".services."+name+".use_database", "remove use_database from the service, or set "+path+".database.enabled: true", "the service uses the database but %s.database.enabled is false", path)
		}
		if s.UseCache && !a.CacheEnabled() {
			r.add(path+".services."+name+".use_cache", "remove use_cache from the service, or set "+path+".cache.enabled: true", "the service uses Redis but %s.cache.enabled is false", path)
		}
	}
	b := a.Backup
	inRange(r, path+".backup.retention_days", b.RetentionDays, 1, MaxBackupRetentionDays)
	inRange(r, path+".backup.copy_retention_days", b.CopyRetentionDays, 1, MaxBackupRetentionDays)
	oneOf(r, path+".backup.vault_lock", b.VaultLock, LockCompliance, LockGovernance)
}

// DatabaseEnabled says whether the environment has an Aurora cluster
// (database.enabled, after defaults: on when a service uses it).
func (a *Account) DatabaseEnabled() bool {
	return a.Database != nil && a.Database.Enabled != nil && *a.Database.Enabled
}

// CacheEnabled says whether the environment has a Redis group
// (cache.enabled, after defaults: on when a service uses it).
func (a *Account) CacheEnabled() bool {
	return a.Cache != nil && a.Cache.Enabled != nil && *a.Cache.Enabled
}

// DatabaseDeletionProtection is database.deletion_protection after
// defaults.
func (a *Account) DatabaseDeletionProtection() bool {
	return a.Database != nil && a.Database.DeletionProtection != nil && *a.Database.DeletionProtection
}
