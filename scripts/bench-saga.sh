#!/usr/bin/env bash
# make bench (issue 8): in one run, on the same dev broker build and the same disk,
#   1. the limits: librdkafka produce + consume of the same messages (sagad-bench kafka),
#      and pay-like SQLite write transactions, one per fsync and batched (sagad-bench sqlite);
#   2. sagad with its defaults as a process (`sagad --config` against `sagad dev-broker`),
#      driven by `sagactl load` through the admin socket, at full speed and at BENCH_RATE/s;
#   3. the report-style baseline: consumer.batch_max 1 (a transaction and a synchronous
#      offset commit per message), outbox polled every BENCH_BASELINE_POLL instead of woken
#      on commit, no group commit for pay; at full speed.
#   4. the defaults with every saga traced (tracing.sample_ratio 1.0) to an OTLP/HTTP sink on
#      loopback that reads and discards the exports: what tracing costs sagad.
# For 2 to 4: sagas/s, p50/p99/max payment → reward latency, CPU seconds per 1,000 sagas of
# sagad and of the broker (/proc/<pid>/stat), peak RSS (VmHWM). One table with the targets;
# the run is written as JSON to bench/results/saga-<UTC timestamp>.json.
#
#   BENCH_PAYMENTS (20000)  BENCH_BASELINE_PAYMENTS (5000)  BENCH_USERS (1000)  BENCH_RATE (1000)
#   BENCH_CONCURRENCY (32)  BENCH_BASELINE_POLL (5s)  BENCH_KAFKA_MESSAGES (100000)
#   BENCH_SQLITE_SINGLE (2000)  BENCH_SQLITE_BATCHED (50000)  BENCH_LEGS (limits,defaults,paced,baseline,traced)
#   BENCH_STATE (a temp dir under ./.bench: the databases live on the repository's disk)
#   SWIFT  SCRATCH (.build)
set -euo pipefail
cd "$(dirname "$0")/.."

payments=${BENCH_PAYMENTS:-20000}
baseline_payments=${BENCH_BASELINE_PAYMENTS:-5000}
users=${BENCH_USERS:-1000}
rate=${BENCH_RATE:-1000}
concurrency=${BENCH_CONCURRENCY:-32}
poll=${BENCH_BASELINE_POLL:-5s}
kafka_messages=${BENCH_KAFKA_MESSAGES:-100000}
sqlite_single=${BENCH_SQLITE_SINGLE:-2000}
sqlite_batched=${BENCH_SQLITE_BATCHED:-50000}
legs=${BENCH_LEGS:-limits,defaults,paced,baseline,traced}
swift=${SWIFT:-swift}
scratch=${SCRATCH:-.build}

for product in sagad sagactl sagad-bench; do
  "$swift" build -c release --scratch-path "$scratch" --product "$product" >/dev/null
done
bin=$("$swift" build -c release --scratch-path "$scratch" --show-bin-path)

# The databases go on the disk the repository is on (not a tmpfs /tmp): fsync is the point.
mkdir -p .bench
work=${BENCH_STATE:-$(mktemp -d "$PWD/.bench/run.XXXXXX")}
mkdir -p "$work"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -n "${BENCH_STATE:-}" ]] || rm -rf "$work"
}
trap cleanup EXIT
has_leg() { [[ ",$legs," == *",$1,"* ]]; }

tck=$(getconf CLK_TCK)
# utime + stime of a process (every thread), in seconds.
cpu_of() { awk -v tck="$tck" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / tck }' "/proc/$1/stat"; }
hwm_mb_of() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

broker_pid=""
start_broker() { # $1: directory, then extra dev-broker arguments
  local dir=$1
  shift
  mkdir -p "$dir"
  "$bin/sagad" dev-broker --bootstrap-file "$dir/bootstrap" --log-level error "$@" \
    </dev/null >"$dir/broker.out" 2>"$dir/broker.err" &
  broker_pid=$!
  pids+=("$broker_pid")
  for _ in $(seq 1 400); do [[ -s "$dir/bootstrap" ]] && break; sleep 0.05; done
  [[ -s "$dir/bootstrap" ]] || { echo "dev-broker did not start:" >&2; cat "$dir/broker.err" >&2; exit 1; }
}
stop() { # $1: pid
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

limits='{}'
if has_leg limits; then
  echo "limits: librdkafka $kafka_messages messages; SQLite $sqlite_single + $sqlite_batched pay-like writes" >&2
  dir="$work/limits"
  start_broker "$dir" --topic bench-limit:16
  bootstrap=$(cat "$dir/bootstrap")
  # Producer and consumer as sagad's: SagaKafka's defaults, and the node's 10 ms fetch wait.
  produce=$("$bin/sagad-bench" kafka --bootstrap "$bootstrap" --topic bench-limit --mode produce \
    --messages "$kafka_messages" --size 200 | tail -n 1)
  consume=$("$bin/sagad-bench" kafka --bootstrap "$bootstrap" --topic bench-limit --mode consume \
    --messages "$kafka_messages" --assign-partitions 16 --property fetch.wait.max.ms=10 | tail -n 1)
  stop "$broker_pid"
  sqlite=$("$bin/sagad-bench" sqlite --single "$sqlite_single" --batched "$sqlite_batched" \
    --state-dir "$dir/sqlite" | tail -n 1)
  limits=$(printf '{"kafkaProduce": %s, "kafkaConsume": %s, "sqlite": %s}' "$produce" "$consume" "$sqlite")
fi

# One sagad run: a fresh dev broker (so no run inherits another's offsets or memory),
# sagad --config with the YAML lines given, users created and payments made by sagactl load.
# Prints one JSON object: the load report plus CPU and RSS figures.
run_sagad() { # $1: name, $2: extra YAML lines, then sagactl load arguments
  local name=$1 extra=$2
  shift 2
  local dir="$work/$name"
  start_broker "$dir"
  local socket="$dir/sagad.sock"
  cat >"$dir/sagad.yaml" <<YAML
kafka:
  brokers: "$(cat "$dir/bootstrap")"
state_dir: "$dir/state"
admin:
  socket: "$socket"
  # sagactl load holds BENCH_CONCURRENCY connections; the default of 32 is an admission
  # limit, not a performance lever.
  max_connections: $((concurrency + 8))
metrics:
  listen: "off"
log:
  level: warning
$extra
YAML
  "$bin/sagad" --config "$dir/sagad.yaml" </dev/null >"$dir/sagad.out" 2>"$dir/sagad.err" &
  local sagad_pid=$!
  pids+=("$sagad_pid")
  # Ready when every consume worker has its partitions: a first group join on the mock
  # cluster takes ~3 s, which would otherwise land on the first sagas' latency.
  local ready=""
  for _ in $(seq 1 600); do
    if ! kill -0 "$sagad_pid" 2>/dev/null; then break; fi
    if "$bin/sagactl" --socket "$socket" --json workers 2>/dev/null | python3 -c '
import json, sys
workers = json.load(sys.stdin)["workers"]
sys.exit(0 if workers and all(w["assignedPartitions"] > 0 for w in workers) else 1)' 2>/dev/null; then
      ready=1
      break
    fi
    sleep 0.1
  done
  [[ -n "$ready" ]] || { echo "sagad ($name) did not become ready:" >&2; tail -n 20 "$dir/sagad.err" >&2; exit 1; }

  "$bin/sagactl" --socket "$socket" load --users "$users" --concurrency "$concurrency" --json "$@" \
    >"$dir/load.json" 2>"$dir/load.err" &
  local load_pid=$!
  # The CPU window opens when the users exist (sagactl's "created … users" line) and
  # closes when sagactl exits: payments, sagas, sagactl's polling for their ends, verify.
  # Watched only until then, so that this loop costs nothing during the measurement.
  local cpu0="" broker0=""
  while kill -0 "$load_pid" 2>/dev/null; do
    if grep -q "created" "$dir/load.err" 2>/dev/null; then
      cpu0=$(cpu_of "$sagad_pid")
      broker0=$(cpu_of "$broker_pid")
      break
    fi
    sleep 0.01
  done
  local status=0
  wait "$load_pid" || status=$?
  local cpu1 broker1 hwm broker_hwm
  cpu1=$(cpu_of "$sagad_pid")
  broker1=$(cpu_of "$broker_pid")
  hwm=$(hwm_mb_of "$sagad_pid")
  broker_hwm=$(hwm_mb_of "$broker_pid")
  stop "$sagad_pid"
  stop "$broker_pid"
  if [[ $status -ne 0 || ! -s "$dir/load.json" ]]; then
    echo "sagactl load ($name) failed with status $status:" >&2
    cat "$dir/load.err" "$dir/load.json" >&2
    tail -n 20 "$dir/sagad.err" >&2
    exit 1
  fi
  python3 - "$dir/load.json" "${cpu0:-$cpu1}" "$cpu1" "${broker0:-$broker1}" "$broker1" "$hwm" "$broker_hwm" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
cpu = float(sys.argv[3]) - float(sys.argv[2])
broker = float(sys.argv[5]) - float(sys.argv[4])
sagas = sum(v for k, v in report["outcomes"].items() if k != "UNFINISHED")
per = 1000 / max(1, sagas)
report.update({
    "sagadCpuSeconds": round(cpu, 3), "sagadCpuSecondsPer1000": round(cpu * per, 3),
    "brokerCpuSeconds": round(broker, 3), "brokerCpuSecondsPer1000": round(broker * per, 3),
    "sagadPeakRssMb": float(sys.argv[6]), "brokerPeakRssMb": float(sys.argv[7]),
})
print(json.dumps(report, sort_keys=True))
PY
}

defaults='null'
paced='null'
baseline='null'
traced='null'
if has_leg defaults; then
  echo "sagad, defaults: $payments payments at full speed" >&2
  defaults=$(run_sagad defaults "" --payments "$payments")
fi
if has_leg paced; then
  echo "sagad, defaults: $payments payments at $rate/s" >&2
  paced=$(run_sagad paced "" --payments "$payments" --rate "$rate")
fi
if has_leg baseline; then
  echo "sagad, report-style baseline: $baseline_payments payments at full speed" >&2
  baseline=$(run_sagad baseline "consumer:
  batch_max: 1
outbox:
  wake_on_commit: false
  idle_interval: $poll
payments:
  group_commit: false" --payments "$baseline_payments" --settle-timeout 600)
fi

if has_leg traced; then
  # The defaults with every saga traced (tracing.sample_ratio 1.0) to an OTLP/HTTP sink on
  # loopback that reads each export and answers 200 without decoding it: what the spans cost
  # sagad, not what a collector costs (Docs/tracing.md).
  sink_dir="$work/otlp-sink"
  mkdir -p "$sink_dir"
  python3 - "$sink_dir/port" <<'PY' &
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Sink(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
open(sys.argv[1], "w").write(str(server.server_address[1]))
server.serve_forever()
PY
  sink_pid=$!
  pids+=("$sink_pid")
  for _ in $(seq 1 100); do [[ -s "$sink_dir/port" ]] && break; sleep 0.05; done
  echo "sagad, defaults, every saga traced: $payments payments at full speed" >&2
  traced=$(run_sagad traced "tracing:
  otlp:
    endpoint: http://127.0.0.1:$(cat "$sink_dir/port")
  sample_ratio: 1.0" --payments "$payments")
  stop "$sink_pid"
fi

mkdir -p bench/results
result="bench/results/saga-$(date -u +%Y%m%dT%H%M%SZ).json"
python3 - "$result" "$limits" "$defaults" "$paced" "$baseline" "$traced" <<PY
import json, os, platform, subprocess, sys
def out(*command):
    try:
        return subprocess.run(command, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""
model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
limits, defaults, paced, baseline, traced = (json.loads(a) for a in sys.argv[2:7])
run = {
  "benchmark": "saga-process", "payments": $payments, "baselinePayments": $baseline_payments, "users": $users,
  "rate": $rate, "concurrency": $concurrency, "baselinePoll": "$poll", "synchronous": "full",
  "commit": out("git", "rev-parse", "--short", "HEAD"), "dirty": bool(out("git", "status", "--porcelain")),
  "loadAverage": os.getloadavg()[0],
  "machine": {"cpus": os.cpu_count(), "cpu": model, "kernel": platform.release(),
              "librdkafka": out("pkg-config", "--modversion", "rdkafka"), "sqlite": out("pkg-config", "--modversion", "sqlite3")},
  "limits": limits, "defaults": defaults, "paced": paced, "baseline": baseline, "traced": traced,
}
json.dump(run, open(sys.argv[1], "w"), indent=2)

def f(value, digits=0):
    return "-" if value is None else f"{value:,.{digits}f}"
if limits:
    s = limits["sqlite"]
    print(f"\nlimits (same machine, same disk, synchronous=FULL)")
    print(f"  librdkafka produce      {f(limits['kafkaProduce']['messagesPerSecond']):>12} msg/s  (acks=all, idempotent, 200 B)")
    print(f"  librdkafka consume      {f(limits['kafkaConsume']['messagesPerSecond']):>12} msg/s")
    print(f"  SQLite 1 pay/txn        {f(s['singleRowsPerSecond']):>12} rows/s  = {f(s['singlePaymentsPerSecond'])} pay-like txn/s")
    print(f"  SQLite {int(s['batchSize'])} pay/txn      {f(s['batchedRowsPerSecond']):>12} rows/s  = {f(s['batchedPaymentsPerSecond'])} pay-like writes/s")
print()
print(f"{'run':<26}{'sagas/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'CPU s/1k':>10}{'broker':>8}{'RSS MB':>8}  outcomes")
for label, r in ((f"defaults, full speed", defaults), (f"defaults, at $rate/s", paced), ("baseline, full speed", baseline),
                 ("traced (ratio 1.0)", traced)):
    if not r:
        continue
    print(f"{label:<26}{f(r['sagasPerSecond']):>10}{f(r['p50Ms'], 1):>9}{f(r['p99Ms'], 1):>9}{f(r['maxMs'], 1):>9}"
          f"{f(r['sagadCpuSecondsPer1000'], 2):>10}{f(r['brokerCpuSecondsPer1000'], 2):>8}{f(r['sagadPeakRssMb']):>8}  "
          + ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items())) + ("" if r["verifyOk"] else "  VERIFY FAILED"))

print(f"\n{'target':<42}{'measured':>14}  met")
def row(name, value, ok):
    print(f"{name:<42}{value:>14}  {'-' if ok is None else ('yes' if ok else 'NO')}")
rss = [r["sagadPeakRssMb"] for r in (defaults, paced) if r]
row("≥ 10,000 sagas/s (defaults, full speed)", f(defaults and defaults["sagasPerSecond"]),
    defaults and defaults["sagasPerSecond"] >= 10000)
ratio = defaults and baseline and defaults["sagasPerSecond"] / max(baseline["sagasPerSecond"], 1e-9)
row("≥ 10 × baseline sagas/s", "-" if not ratio else f"{ratio:,.1f} ×", ratio and ratio >= 10)
row("p99 ≤ 50 ms at $rate/s", "-" if not paced else f"{paced['p99Ms']:,.1f} ms",
    paced and paced["p99Ms"] <= 50 and paced["sagasPerSecond"] >= 0.95 * $rate)
if defaults and traced:
    extra = traced["sagadCpuSecondsPer1000"] - defaults["sagadCpuSecondsPer1000"]
    print(f"tracing at ratio 1.0 costs {extra:+.2f} CPU-s per 1,000 sagas "
          f"({traced['sagasPerSecond'] / max(defaults['sagasPerSecond'], 1e-9):.0%} of the untraced rate)")
row("peak RSS ≤ 200 MB (defaults runs)", "-" if not rss else f"{max(rss):,.0f} MB", (max(rss) <= 200) if rss else None)
print("  (RSS flat over a 10-minute soak: not measured by make bench)")
load = os.getloadavg()[0]
print(f"load average now {load:.2f}" + ("; figures from a busy machine are not comparable" if load > 1.0 else ""))
PY
echo "written $result"
