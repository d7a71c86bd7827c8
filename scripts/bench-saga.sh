#!/usr/bin/env bash
# make bench: end-to-end sagas/s and payment-commit → reward-commit latency
# (`sagad-bench saga`: Payments and Points in one process on an in-process mock Kafka
# cluster, real SQLite files with synchronous=FULL). Two runs: as fast as possible, and
# paced at BENCH_RATE payments/s. Prints both JSON lines and writes them, with the
# machine, under bench/results/saga-<UTC timestamp>.json.
#
#   BENCH_PAYMENTS (20000)  BENCH_USERS (1000)  BENCH_RATE (1000)  SWIFT  SCRATCH (.build)
set -euo pipefail
cd "$(dirname "$0")/.."

payments=${BENCH_PAYMENTS:-20000}
users=${BENCH_USERS:-1000}
rate=${BENCH_RATE:-1000}
swift=${SWIFT:-swift}
scratch=${SCRATCH:-.build}

"$swift" build -c release --scratch-path "$scratch" --product sagad-bench >/dev/null
bin=$("$swift" build -c release --scratch-path "$scratch" --show-bin-path)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() {
  # The last stdout line is the JSON result; stderr (progress, shutdown logs) is kept
  # aside and shown only if the run fails.
  if ! "$bin/sagad-bench" saga --payments "$payments" --users "$users" "$@" 2>"$log" | tail -n 1; then
    cat "$log" >&2
    return 1
  fi
}

full=$(run)
echo "full speed:     $full"
paced=$(run --rate "$rate")
echo "at $rate/s:     $paced"

mkdir -p bench/results
result="bench/results/saga-$(date -u +%Y%m%dT%H%M%SZ).json"
python3 - "$result" "$full" "$paced" <<PY
import json, os, platform, subprocess, sys
def out(*command):
    try:
        return subprocess.run(command, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""
model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
json.dump({
  "benchmark": "saga", "payments": $payments, "users": $users, "synchronous": "full",
  "commit": out("git", "rev-parse", "--short", "HEAD"),
  "machine": {"cpus": os.cpu_count(), "cpu": model, "kernel": platform.release(),
              "librdkafka": out("pkg-config", "--modversion", "rdkafka"), "sqlite": out("pkg-config", "--modversion", "sqlite3")},
  "fullSpeed": json.loads(sys.argv[2]),
  "paced": json.loads(sys.argv[3]),
}, open(sys.argv[1], "w"), indent=2)
PY
echo "written $result"
