#!/usr/bin/env bash
# Synth time of another revision against the working tree, in one run: both
# binaries synthesize config.yaml offline (proofs included, as every synth
# runs them), taking turns N times; prints each run and the medians. Figures,
# not a test. Usage: bench/compare.sh REV [N]   (make bench-compare REV=...)
set -euo pipefail
cd "$(dirname "$0")/.."
rev="${1:?usage: bench/compare.sh REV [N]}"
n="${2:-5}"
work="$(mktemp -d)"
trap 'git worktree remove --force "$work/old" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add -q --detach "$work/old" "$rev"
ln -s "$PWD/node_modules" "$work/old/node_modules"
(cd "$work/old" && go build -o "$work/lz-old" .)
go build -o "$work/lz-new" .

# synth BIN DIR: one offline synth of this tree's config.yaml, in seconds.
synth() {
  local start end
  rm -rf "$2"
  start=$(date +%s.%N)
  LZ_OFFLINE=1 CDKTF_OUTDIR="$2" "$1" >/dev/null
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN{printf "%.2f\n", e-s}'
}
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# The old binary runs in its own tree (its config.yaml and help files), the
# new one here; both warm once first.
(cd "$work/old" && synth "$work/lz-old" "$work/out-old" >/dev/null)
synth "$work/lz-new" "$work/out-new" >/dev/null
: >"$work/old.txt"; : >"$work/new.txt"
for i in $(seq "$n"); do
  o=$(cd "$work/old" && synth "$work/lz-old" "$work/out-old"); echo "$o" >>"$work/old.txt"
  w=$(synth "$work/lz-new" "$work/out-new"); echo "$w" >>"$work/new.txt"
  echo "run $i: $rev ${o}s, working tree ${w}s"
done
echo "median synth of config.yaml: $rev $(median <"$work/old.txt")s, working tree $(median <"$work/new.txt")s ($n runs each, taking turns)"
