package stacks

import _ "embed"

// ProviderLock is the committed dependency lock file of every stack: the
// provider version and the hashes of its packages for every platform that
// CI and people run. Synth writes it into each stack's folder as
// .terraform.lock.hcl, so that terraform init (and cdktf diff, which would
// otherwise ask the registry for one) installs exactly that version. One
// file serves every stack because every stack requires the same providers
// (ProviderConstraint); `make lock` upgrades it.
//
//go:embed providers.lock.hcl
var ProviderLock []byte

// LockFileName is the name Terraform reads the lock file under.
const LockFileName = ".terraform.lock.hcl"
