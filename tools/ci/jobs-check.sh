#!/usr/bin/env bash
# Runs the commands of the CI jobs that plan and apply (pull-request.yml's
# plan, deploy-stack.yml's apply, plan and reviewed modes) on fresh clones
# of this repository, as a new runner would: no node_modules, no cdktf on
# PATH, only the machine's go, node, npm and terraform. Steps run through
# cmd/cijobs, which reads them from the workflow files themselves.
#
# Offline: LZ_OFFLINE=1 (local state, no AWS credentials), the AWS provider
# from the mirror (TF_PROVIDER_MIRROR), and a stand-in for `terraform apply`
# alone, which records the saved plan it was handed (there is no AWS here);
# init, plan and show are the real Terraform. The reviewed apply must apply
# the very plan the gated plan job uploaded, in a clone of its own.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$SECONDS

mirror="${TF_PROVIDER_MIRROR:-/opt/tf-plugins}"
[ -d "$mirror/registry.terraform.io/hashicorp/aws" ] || { echo "jobs-check: no AWS provider in the mirror $mirror" >&2; exit 1; }
sed "s#/opt/tf-plugins#$mirror#" __tests__/testdata/terraform.rc >"$work/terraform.rc"

go build -o "$work/cijobs" ./cmd/cijobs
real_tf=$(command -v terraform)
mkdir -p "$work/bin"
cat >"$work/bin/terraform" <<FAKE
#!/usr/bin/env bash
# Real Terraform, except apply: record which saved plan it would apply.
dir=.
for a in "\$@"; do case "\$a" in -chdir=*) dir=\${a#-chdir=} ;; esac; done
for a in "\$@"; do
  if [ "\$a" = apply ]; then
    plan="\$dir/\${*: -1}"
    [ -f "\$plan" ] || { echo "stand-in terraform: apply without a saved plan (\$*)" >&2; exit 1; }
    echo "apply \$(cd "\$dir" && pwd) \$(sha256sum <"\$plan" | cut -d' ' -f1)" >>"$work/applies.log"
    echo "stand-in terraform: would apply \$plan"
    exit 0
  fi
done
exec "$real_tf" "\$@"
FAKE
chmod +x "$work/bin/terraform"

# A runner's PATH: the stand-in terraform, then the machine's tools; never
# this checkout's node_modules.
clean_path="$work/bin"
for tool in go node npm git jq; do
  d=$(dirname "$(command -v "$tool")")
  case "$d" in */node_modules/*) continue ;; esac
  clean_path="$clean_path:$d"
done
clean_path="$clean_path:/usr/local/bin:/usr/bin:/bin"

stacks=$(go run ./cmd/stacks -kind app)
app=$(jq -c 'map(select(.gated | not)) | .[0] // empty' <<<"$stacks")
gated=$(jq -c 'map(select(.gated)) | .[0] // empty' <<<"$stacks")
[ -n "$app" ] || { echo "jobs-check: the config has no ungated app stack" >&2; exit 1; }

# job CLONE WORKFLOW JOB STACK-JSON [-set k=v ...]: a fresh clone, then one job.
job() {
  local clone=$1 dir="$work/$1" wf=$2 name=$3 s=$4
  shift 4
  git clone -q "$repo" "$dir"
  echo "== $wf $name ($(jq -r .stack <<<"$s")) in a fresh clone"
  (cd "$dir" && env -u JSII_NODE -u NODE_OPTIONS PATH="$clean_path" LZ_OFFLINE=1 CI=true \
    TF_CLI_CONFIG_FILE="$work/terraform.rc" CHECKPOINT_DISABLE=1 \
    GITHUB_OUTPUT="$dir/.github-output" GITHUB_STEP_SUMMARY="$dir/.github-summary" \
    "$work/cijobs" -workflow "$wf" -job "$name" -artifacts "$work/artifacts" \
      -set "matrix.stack=$(jq -r .stack <<<"$s")" -set "matrix.account_id=$(jq -r .account_id <<<"$s")" \
      -set "matrix.region=$(jq -r .region <<<"$s")" -set "inputs.stack=$(jq -r .stack <<<"$s")" \
      -set "inputs.account-id=$(jq -r .account_id <<<"$s")" -set "inputs.region=$(jq -r .region <<<"$s")" "$@") \
    >"$work/$clone.log" 2>&1 || { tail -40 "$work/$clone.log"; echo "jobs-check: $wf $name failed (log above)" >&2; exit 1; }
  grep '^-- ' "$work/$clone.log"
  grep -h '^### ' "$dir/.github-summary" 2>/dev/null || true
}

# Two jobs at a time (JOBS_CHECK_AT_ONCE, default 2; 1: one after the
# other), as on GitHub, where each job has a runner of its own: each in its
# own clone, with its own log, printed when both are done. The reviewed
# apply starts only after the gated plan job that uploads its plan.
at_once=${JOBS_CHECK_AT_ONCE:-2}
pids=() names=()
start_job() {
  if [ "$at_once" -gt 1 ]; then
    (job "$@") >"$work/$1.report" 2>&1 &
    pids+=("$!") names+=("$1")
  else
    job "$@"
  fi
}
finish_jobs() {
  local i failed=0
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed=1
    cat "$work/${names[$i]}.report"
  done
  pids=() names=()
  [ "$failed" = 0 ] || exit 1
}

start_job pr-plan .github/workflows/pull-request.yml plan "$app"
[ -z "$gated" ] || start_job gated-plan .github/workflows/deploy-stack.yml deploy "$gated" -set inputs.mode=plan -set inputs.plan-run=
finish_jobs
start_job apply .github/workflows/deploy-stack.yml deploy "$app" -set inputs.mode=apply -set inputs.plan-run=
[ -z "$gated" ] || start_job reviewed .github/workflows/deploy-stack.yml deploy "$gated" -set inputs.mode=reviewed -set inputs.plan-run=local
finish_jobs
grep -q "apply $work/apply/cdktf.out/stacks/$(jq -r .stack <<<"$app") " "$work/applies.log" ||
  { echo "jobs-check: the apply job never applied its saved plan" >&2; exit 1; }
if [ -n "$gated" ]; then
  g=$(jq -r .stack <<<"$gated")
  uploaded=$(sha256sum <"$work/artifacts/plan-$g/tfplan" | cut -d' ' -f1)
  grep -q "apply $work/reviewed/cdktf.out/stacks/$g $uploaded" "$work/applies.log" ||
    { echo "jobs-check: the reviewed apply did not apply the uploaded plan ($uploaded):" >&2; cat "$work/applies.log" >&2; exit 1; }
  echo "the reviewed apply of $g applied the uploaded plan ($uploaded)"
else
  echo "no gated stack in the config: the reviewed-apply path is not exercised"
fi
echo "jobs-check: every job's commands pass on a fresh clone ($((SECONDS - start))s)"
