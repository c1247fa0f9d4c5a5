#!/usr/bin/env bash
# Writes the deploy workflow's stack outputs (GITHUB_OUTPUT lines) from
# config.yaml: logs, security and shared (one stack each, as JSON objects),
# apps (the app stacks in deploy order, as a JSON list) and, when the run was
# dispatched for a gated stack (DISPATCHED), reviewed: that stack.
set -euo pipefail
stacks() { go run ./cmd/stacks "$@"; }
echo "logs=$(stacks -one logs)"
echo "security=$(stacks -one security)"
echo "shared=$(stacks -one shared-services)"
echo "apps=$(stacks -kind app)"
if [ -n "${DISPATCHED:-}" ]; then
  reviewed=$(stacks | jq -c --arg s "$DISPATCHED" '.[] | select(.stack == $s and .gated)')
  if [ -z "$reviewed" ]; then
    echo "deploy: \"$DISPATCHED\" is not a gated stack; gated stacks: $(stacks | jq -r '[.[] | select(.gated) | .stack] | join(", ")')" >&2
    exit 1
  fi
  echo "reviewed=$reviewed"
fi
