#!/usr/bin/env bash
# Upgrades the committed provider lock (stacks/providers.lock.hcl), which
# synth writes into every stack's folder: the newest provider version the
# stacks' constraint (stacks.ProviderConstraint) admits, with the package
# hashes of every platform CI and people run. Needs the provider registry;
# review the diff, run `make test`, commit.
set -euo pipefail
cd "$(dirname "$0")/.."
constraint=$(sed -n 's/^const ProviderConstraint = "\(.*\)"$/\1/p' stacks/account.go)
[ -n "$constraint" ] || { echo "lock-providers: no ProviderConstraint in stacks/account.go" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '{"terraform":{"required_providers":{"aws":{"source":"hashicorp/aws","version":"%s"}}}}\n' "$constraint" >"$work/main.tf.json"
(cd "$work" && terraform providers lock \
  -platform=linux_amd64 -platform=linux_arm64 \
  -platform=darwin_amd64 -platform=darwin_arm64 -platform=windows_amd64)
{ sed -n '/^#/p' stacks/providers.lock.hcl; echo; grep -v '^#' "$work/.terraform.lock.hcl" | sed '/./,$!d'; } >"$work/lock"
mv "$work/lock" stacks/providers.lock.hcl
git --no-pager diff --stat -- stacks/providers.lock.hcl || true
