#!/usr/bin/env bash
# reliability-report.sh RESULTS.jsonl DOC.md: replaces the table between the markers
# `<!-- reliability-results:begin -->` and `<!-- reliability-results:end -->` in DOC.md
# with one row per JSON line of RESULTS (written by the reliability tests, see
# scripts/reliability.sh), plus a line naming the run.
set -euo pipefail

results=$1
doc=$2
begin='<!-- reliability-results:begin -->'
end='<!-- reliability-results:end -->'
if ! grep -qF "$begin" "$doc" || ! grep -qF "$end" "$doc"; then
  echo "$doc has no $begin / $end markers" >&2
  exit 1
fi

table=$(mktemp)
trap 'rm -f "$table"' EXIT
{
  # shellcheck disable=SC2016 # backticks are Markdown
  printf 'Run of %s on %s (%s, %s CPUs), profile `%s`, seed %s.\n\n' \
    "$(date -u +%Y-%m-%d)" "$(uname -n)" "$(uname -sr)" "$(nproc)" \
    "$(jq -rs '[.[].profile] | unique | join(",")' "$results")" \
    "$(jq -rs '[.[].seed] | unique | map(tostring) | join(",")' "$results")"
  echo '| scenario | runs | payments | kills or faults | violations | seconds |'
  echo '|---|---:|---:|---|---:|---:|'
  jq -r '"| \(.scenario) | \(.runs) | \(.payments) | \(.faults) \(.faultKind) | \(.violations) | \(.seconds) |"' "$results"
  total=$(jq -s 'map(.violations) | add' "$results")
  printf '\nTotal violations: %s.\n' "$total"
  if [ "$total" != 0 ]; then
    echo
    echo 'First violations per scenario:'
    echo
    jq -r 'select(.violations > 0) | "* \(.scenario): \(.details | join("; "))"' "$results"
  fi
} >"$table"

awk -v begin="$begin" -v end="$end" -v table="$table" '
  $0 == begin { print; while ((getline line < table) > 0) print line; skipping = 1; next }
  $0 == end { skipping = 0 }
  !skipping { print }
' "$doc" >"$doc.tmp"
mv "$doc.tmp" "$doc"
