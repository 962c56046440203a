#!/usr/bin/env bash
# The reliability suites alone (kills, restarts, fuzzed input, the authorization matrix, orphans),
# then their table of counts. `npm test` runs the same suites with the rest and prints the same table.
set -euo pipefail
cd "$(dirname "$0")/.."
export RELIABILITY_TALLY
RELIABILITY_TALLY=$(mktemp)
status=0
npx vitest run test/reliability "$@" || status=$?
npx tsx scripts/reliability-table.ts "$RELIABILITY_TALLY" || true
rm -f "$RELIABILITY_TALLY"
exit "$status"
