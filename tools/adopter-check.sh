#!/usr/bin/env bash
# Plays a company that forks this repository: copies the working tree into a
# temporary folder, rewrites config.yaml the way an adopter would (its own
# name prefix, region and AZs, its six account IDs and registry, domain and
# repository, an app account renamed, a service added), runs only what the
# docs say to run after editing the config (`make diagram`), then `make
# test` in the copy, which must pass. Prints the diff of config.yaml and the
# result.
#
# The copy reuses this checkout's node_modules and .tools (symlinks; their
# stamps keep their times, so make installs nothing into them) and the Go
# caches, so it does not reinstall for minutes; it still runs the whole
# suite on the adopter's config.yaml. ADOPTER_FUZZTIME (default 0: skip) is
# the copy's FUZZTIME: the fuzz target reads no config, and this checkout's
# `make test` fuzzes already. The copy's suite runs with LZ_CONFIGS=repo
# (__tests__/configs_test.go): every test that reads config.yaml runs on
# the adopter's, the property tests and the offline plan on it alone, and
# the tests that read only the fixtures under __tests__/testdata/configs
# (unchanged in the copy, run by this checkout's `make test`) skip.
# ADOPTER_CONFIGS overrides it (ADOPTER_CONFIGS= runs every config).
# ADOPTER_KEEP=1 keeps the copy for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

work="$(mktemp -d "${TMPDIR:-/tmp}/lz-adopter.XXXXXX")"
cleanup() {
  if [ "${ADOPTER_KEEP:-}" = 1 ]; then
    echo "adopter-check: kept the copy in $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
fork="$work/landing-zone"
mkdir -p "$fork"

# The working tree as git sees it: tracked files that still exist, plus
# untracked ones that are not ignored. tar keeps modification times.
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$fork"
for shared in node_modules .tools; do
  if [ -e "$repo/$shared" ] && [ ! -e "$fork/$shared" ]; then
    ln -s "$(cd "$repo/$shared" && pwd -P)" "$fork/$shared"
  fi
done
# A fork is a repository of its own (actionlint and the format check read
# git): commit the copy as the adopter's starting point.
git -C "$fork" init -q
printf '/node_modules\n/.tools\n' >>"$fork/.git/info/exclude"
git -C "$fork" add -A
git -C "$fork" -c user.name=adopter -c user.email=adopter@example.invalid \
  commit -q -m "fork of $(git rev-parse --short HEAD 2>/dev/null || echo 'the working tree')"
# Never let the copy's make reinstall into the shared node_modules.
if ! make -C "$fork" -q node_modules/.installed node_modules/@cdktf/node-pty-prebuilt-multiarch/build/.built-for-node >/dev/null 2>&1; then
  echo "adopter-check: make would reinstall node_modules in the copy; run make deps here first" >&2
  exit 1
fi

# The adopter's edits, as one would make them by hand.
cfg="$fork/config.yaml"
declare -A ids=(
  [111111111111]=731200000101 [222222222222]=731200000102 [333333333333]=731200000103
  [444444444444]=731200000104 [555555555555]=731200000105 [666666666666]=731200000106
)
for old in "${!ids[@]}"; do
  sed -i "s/$old/${ids[$old]}/g" "$cfg"
done
sed -i \
  -e 's/^name_prefix: acme$/name_prefix: globex/' \
  -e 's/^region: us-east-1$/region: eu-central-1/' \
  -e 's/us-east-1\([abc]\)/eu-central-1\1/g' \
  -e 's/\.dkr\.ecr\.us-east-1\./.dkr.ecr.eu-central-1./g' \
  -e 's#^source_repo: acme/landing-zone$#source_repo: globex-corp/aws-platform#' \
  -e 's#github_repo: acme/#github_repo: globex-corp/#' \
  -e 's/example\.com/globex.io/g' \
  -e 's/^  stage:$/  qa:/' \
  -e 's/\.stage\.globex\.io/.qa.globex.io/g' \
  "$cfg"
# A third service in qa (the renamed stage): a queue worker on Fargate Spot
# behind the internal load balancer, built from its own ECR repository.
awk '
  /^  qa:$/ { inqa = 1 }
  /^  [a-z-]+:$/ && !/^  qa:$/ { inqa = 0 }
  { print }
  inqa && /^    services:$/ {
    print "      worker:                 # https://worker.internal.qa.globex.io"
    print "        image: 731200000103.dkr.ecr.eu-central-1.amazonaws.com/worker:0.1.0"
    print "        load_balancer: internal"
    print "        capacity: fargate_spot"
    print "        use_cache: true"
    inqa = 0
  }
  /^        api: \{github_repo: globex-corp\/api\}$/ {
    print "        worker: {github_repo: globex-corp/worker}"
  }' "$cfg" >"$cfg.new"
mv "$cfg.new" "$cfg"

echo "== adopter-check: config.yaml as the adopter wrote it (diff against the repository's)"
git -C "$fork" --no-pager diff --no-color -- config.yaml

for leftover in acme 111111111111 us-east-1 example.com '  stage:'; do
  if grep -qF -- "$leftover" "$cfg"; then
    echo "adopter-check: the rewrite left \"$leftover\" in config.yaml:" >&2
    grep -nF -- "$leftover" "$cfg" >&2
    exit 1
  fi
done

cd "$fork"
echo "== adopter-check: go run . validate"
make --no-print-directory validate
# What the docs say to run after editing config.yaml (README "Architecture
# diagram", help/overview.md): redraw the diagram. Nothing else is
# regenerated: the snapshots are of the fixtures, not of config.yaml.
echo "== adopter-check: make diagram"
make --no-print-directory diagram
git --no-pager diff --no-color --stat
configs="${ADOPTER_CONFIGS-repo}"
echo "== adopter-check: make test (FUZZTIME=${ADOPTER_FUZZTIME:-0} LZ_CONFIGS=$configs)"
start=$(date +%s)
status=0
LZ_CONFIGS="$configs" make --no-print-directory test FUZZTIME="${ADOPTER_FUZZTIME:-0}" >"$work/test.log" 2>&1 || status=$?
elapsed=$(($(date +%s) - start))
grep -E '^(--- FAIL|FAIL|ok|suite phases|phase synth:)|offline terraform init|^        repo ' "$work/test.log" || true
if [ "$status" != 0 ]; then
  echo "== adopter-check: make test FAILED in the fork (exit $status, ${elapsed}s); the last lines:" >&2
  tail -60 "$work/test.log" >&2
  mkdir -p "$repo/.tmp" && cp "$work/test.log" "$repo/.tmp/adopter-test.log" && echo "full log: .tmp/adopter-test.log" >&2
  exit 1
fi
passed=$(grep -c '^--- PASS' "$work/test.log" || true)
skipped=$(grep -c '^--- SKIP' "$work/test.log" || true)
echo "== adopter-check: PASS: the forked config passes make test (LZ_CONFIGS=$configs: ${passed} top-level tests passed, ${skipped} skipped, ${elapsed}s)"
