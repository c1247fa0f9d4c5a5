#!/usr/bin/env bash
# Prints the test suite's wall time by phase from `go test -v` output
# (make test): the shared synths, the snapshot comparison, the offline
# Terraform plan, the S3 backend round-trip and everything else. Build and
# fuzz time come from the Makefile, the scan from `make scan`.
#
# The shared synths (one per distinct config and mode, cached for the run)
# are paid by whichever test needs them first; TestMain prints how long
# each test spent synthesizing ("phase synth-in: <test> <seconds>"), and
# that time is moved from the test's phase to the synth phase.
set -euo pipefail
log=$1 build=$2 fuzz=${3:-}
awk -v build="$build" -v fuzz="$fuzz" '
  /^phase synth: / { synth = $0; sub(/^phase synth: /, "", synth);
                     split(synth, p, /[ s,]+/); synthsec = p[2] + p[4] }
  /^phase synth-in: / { paid[$3] += $4 }
  /^--- (PASS|FAIL|SKIP): Test[A-Za-z0-9_]+ \(/ {
    name = $3; sec = $4; gsub(/[()s]/, "", sec); took[name] += sec
  }
  END {
    for (name in took) {
      sec = took[name] - paid[name]; if (sec < 0) sec = 0
      if (name == "TestSnapshots") snap += sec
      else if (name == "TestOfflinePlan") plan += sec
      else if (name == "TestStateBackend") state += sec
      else other += sec
    }
    printf "suite phases (seconds): build %.1f, synth %.1f, snapshot %.1f, plan %.1f, state-backend %.1f, other tests %.1f", build, synthsec, snap, plan, state, other
    if (fuzz != "") printf ", fuzz %.1f", fuzz
    printf "\n"
  }' "$log"
