#!/usr/bin/env bash
# End-to-end check of the shipped alert rules with a real Prometheus (`make e2e-prometheus`):
#   1. starts `sagad --dev` (embedded Kafka) with /metrics on a free port,
#   2. starts Debian's `prometheus` scraping it every second with a copy of
#      prometheus/sagad.rules.yml whose `for:` durations are cut to 5s,
#   3. checks that every rule evaluates without error,
#   4. makes a burst of payments by a user without a point account (each one is compensated),
#   5. waits until Prometheus' HTTP API shows HighCompensationRate and HighCompensationRatio
#      pending or firing, and checks that SagadDown is not.
# About a minute. Needs a built sagad and sagactl (BIN, default .build/debug), prometheus, python3.
# Not part of `.ci/run` (it starts two servers); `make check-ops` covers the rules with promtool.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${BIN:-.build/debug}
SAGAD=$BIN/sagad
SAGACTL=$BIN/sagactl
PAYMENTS=${PAYMENTS:-40}

log() { printf 'e2e-prometheus: %s\n' "$*" >&2; }
die() {
  log "FAIL: $*"
  exit 1
}
for tool in "$SAGAD" "$SAGACTL"; do [[ -x $tool ]] || die "$tool not built (make build)"; done
command -v prometheus >/dev/null || die "prometheus not installed (scripts/install-deps.sh)"
command -v python3 >/dev/null || die "python3 not installed"

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ ${keep:-0} == 1 ]]; then log "logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# get URL: the body, or nothing when the server does not answer (yet).
get() { python3 -c 'import sys, urllib.request
try: print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())
except Exception: pass' "$1"; }
# wait_for SECONDS DESCRIPTION COMMAND...: until COMMAND succeeds.
wait_for() {
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    ((SECONDS < deadline)) || {
      keep=1
      die "timed out waiting for $what"
    }
    sleep 1
  done
}

metrics_port=$(free_port)
prom_port=$(free_port)
socket=$work/state/sagad.sock
mkdir -p "$work/state" "$work/prom"

log "sagad --dev, metrics on 127.0.0.1:$metrics_port"
SAGAD_METRICS_LISTEN=127.0.0.1:$metrics_port "$SAGAD" --dev --state-dir "$work/state" --log-level warning \
  >"$work/sagad.log" 2>&1 </dev/null &
pids+=($!)
ready() { [[ -n $(get "http://127.0.0.1:$metrics_port/readyz") ]]; }
wait_for 60 "sagad /readyz" ready

sed -E 's/^( *)for: .*/\1for: 5s/' prometheus/sagad.rules.yml >"$work/prom/sagad.rules.yml"
sed -E -e "s/127\.0\.0\.1:9464/127.0.0.1:$metrics_port/" -e 's/(scrape|evaluation)_interval: .*/\1_interval: 1s/' \
  prometheus/prometheus.yml >"$work/prom/prometheus.yml"
promtool check config "$work/prom/prometheus.yml" >/dev/null || die "promtool check config of the test copy"
log "prometheus on 127.0.0.1:$prom_port"
prometheus --config.file="$work/prom/prometheus.yml" --storage.tsdb.path="$work/prom/data" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 </dev/null &
pids+=($!)
api=http://127.0.0.1:$prom_port/api/v1

# Every rule group evaluated at least once, every rule healthy.
rules_ok() {
  get "$api/rules" | python3 -c '
import json, sys
text = sys.stdin.read()
if not text: sys.exit(1)
rules = [r for g in json.loads(text)["data"]["groups"] for r in g["rules"]]
errors = [(r["name"], r.get("lastError")) for r in rules if r.get("health") == "err"]
if errors: print(errors, file=sys.stderr)
sys.exit(0 if rules and all(r.get("health") == "ok" for r in rules) else 1)'
}
wait_for 60 "every rule evaluated and healthy" rules_ok
log "all rules healthy"
scraped() {
  get "$api/query?query=up%7Bjob%3D%22sagad%22%7D" | grep -q '"value":\[[0-9.]*,"1"\]'
}
wait_for 30 "Prometheus scraping sagad (up == 1)" scraped

log "$PAYMENTS payments by a user without a point account (each is compensated) and $PAYMENTS rewarded ones"
"$SAGACTL" --socket "$socket" user add 900 --balance 100000000 --no-points >/dev/null
"$SAGACTL" --socket "$socket" user add 901 --balance 100000000 >/dev/null
for ((i = 1; i <= PAYMENTS; i++)); do
  "$SAGACTL" --socket "$socket" pay --user 900 --schedule "$i" --amount 1000 >/dev/null
  "$SAGACTL" --socket "$socket" pay --user 901 --schedule "$i" --amount 1000 >/dev/null
done

alerts_up() {
  get "$api/alerts" | python3 -c '
import json, sys
text = sys.stdin.read()
if not text: sys.exit(1)
alerts = json.loads(text)["data"]["alerts"]
states = {a["labels"]["alertname"]: a["state"] for a in alerts}
print("alerts: " + (", ".join(f"{k}={v}" for k, v in sorted(states.items())) or "none"), file=sys.stderr)
if "SagadDown" in states or "SagadAbsent" in states: sys.exit(2)
sys.exit(0 if {"HighCompensationRate", "HighCompensationRatio"} <= states.keys() else 1)'
}
wait_for 90 "HighCompensationRate and HighCompensationRatio pending or firing" alerts_up
log "ok: the compensation alerts are pending or firing, sagad is up"
