#!/usr/bin/env bash
# make reliability (issue 7): the reliability scenarios at their full sizes, then the
# results table of Docs/reliability.md rewritten from what the scenarios recorded.
#
#   RELIABILITY (full)   ci runs the CI subset's sizes instead (what make test runs)
#   RELIABILITY_SEED     fixes kill moments and fuzz lines (default: the tests' fixed seed)
#   RELIABILITY_FILTER (Reliability)   which suites run (swift test --filter)
#   SWIFT  SCRATCH (.build)  CONFIG (debug)
# Each scenario appends one JSON line to bench/results/reliability-<UTC timestamp>.jsonl; the
# table between the markers in Docs/reliability.md is replaced by this run's rows.
set -euo pipefail
cd "$(dirname "$0")/.."

swift=${SWIFT:-swift}
scratch=${SCRATCH:-.build}
config=${CONFIG:-debug}
filter=${RELIABILITY_FILTER:-Reliability}
export RELIABILITY=${RELIABILITY:-full}

mkdir -p bench/results
results="$PWD/bench/results/reliability-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
export RELIABILITY_RESULTS=$results

"$swift" build -c "$config" --scratch-path "$scratch" --build-tests
status=0
# One scenario at a time: each runs several processes under load, and side by side they
# would measure the machine rather than sagad.
"$swift" test -c "$config" --scratch-path "$scratch" --skip-build --filter "$filter" --no-parallel || status=$?

if [ ! -s "$results" ]; then
  echo "reliability: no results recorded (swift test exited $status)" >&2
  exit 1
fi
bash scripts/reliability-report.sh "$results" Docs/reliability.md
echo "reliability: results in $results, table in Docs/reliability.md (swift test exited $status)"
exit "$status"
