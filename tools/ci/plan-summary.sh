#!/usr/bin/env bash
# Prints a stack's saved plan (cdktf.out/stacks/STACK/plan.txt, written by
# `make plan`) as Markdown for a GitHub job summary: the plan's summary line
# first, then the plan itself, cut to stay under the summary's size limit.
set -euo pipefail
stack=${1:?usage: plan-summary.sh STACK}
plan="cdktf.out/stacks/$stack/plan.txt"
[ -f "$plan" ] || { echo "plan-summary: no $plan (run make plan STACK=$stack)" >&2; exit 1; }
summary=$(grep -Eo '(Plan: [0-9]+ to add, [0-9]+ to change, [0-9]+ to destroy\.|No changes\.)' "$plan" | tail -1 || true)
limit=600000
echo "### $stack: ${summary:-no plan summary found}"
echo
echo '<details><summary>Plan</summary>'
echo
echo '```'
head -c "$limit" "$plan"
[ "$(wc -c <"$plan")" -le "$limit" ] || printf '\n... cut at %d bytes; the whole plan is in the job log and the plan artifact\n' "$limit"
echo '```'
echo '</details>'
