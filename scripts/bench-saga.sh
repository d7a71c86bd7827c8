#!/usr/bin/env bash
# make bench (issue 8): in one run, on the same dev broker build and the same disk,
#   1. the limits: librdkafka produce + consume of the same messages (sagad-bench kafka),
#      and pay-like SQLite write transactions, one per fsync and batched (sagad-bench sqlite);
#   2. sagad with its defaults as a process (`sagad --config` against `sagad dev-broker`),
#      driven by `sagactl load` through the admin socket, at full speed and at BENCH_RATE/s;
#      and at full speed with BENCH_UNENROLLED of the users without a point account, whose
#      sagas take the compensation path (reward failed, payment refunded);
#   3. the report-style baseline: consumer.batch_max 1 (a transaction and a synchronous
#      offset commit per message), outbox polled every BENCH_BASELINE_POLL instead of woken
#      on commit, no group commit for pay; at full speed.
#   4. the defaults with every saga traced (tracing.sample_ratio 1.0) to an OTLP/HTTP sink on
#      loopback that reads and discards the exports: what tracing costs sagad.
#   5. PostgreSQL (storage.engine postgres; Debian's server on the same two cores, started here
#      in the run's directory with fsync and synchronous_commit on): one sagad with both roles,
#      then two sagads with both roles on the same database and broker, the load split
#      between them; at full speed and at BENCH_RATE/s. CPU is sagad's and PostgreSQL's. The
#      full-speed legs alternate and, with the paced leg of one instance, run BENCH_POSTGRES_ROUNDS
#      times: the median round is reported and judged, every round listed.
# For 2 to 4: sagas/s, p50/p99/max payment → reward latency, CPU seconds per 1,000 sagas of
# sagad and of the broker (/proc/<pid>/stat), peak RSS (VmHWM). One table with the targets;
# the run is written as JSON to bench/results/saga-<UTC timestamp>.json.
#
#   BENCH_PAYMENTS (20000)  BENCH_BASELINE_PAYMENTS (5000)  BENCH_USERS (1000)  BENCH_RATE (1000)
#   BENCH_CONCURRENCY (32)  BENCH_BASELINE_POLL (5s)  BENCH_KAFKA_MESSAGES (100000)
#   BENCH_SQLITE_SINGLE (2000)  BENCH_SQLITE_BATCHED (50000)  BENCH_POSTGRES_PAYMENTS (20000, full speed)
#   BENCH_POSTGRES_PACED_PAYMENTS (BENCH_PAYMENTS, at BENCH_RATE/s)  BENCH_POSTGRES_ROUNDS (3)
#   BENCH_UNENROLLED (0.02)
#   BENCH_LEGS (limits,defaults,paced,compensation,baseline,traced,postgres,postgres2)
#   BENCH_STATE (a temp dir under ./.bench: the databases live on the repository's disk)
#   SWIFT  SCRATCH (.build)
set -Eeuo pipefail
# A failing command names itself: without this, one failing inside a leg's `$(…)` ended the run
# with no word of why.
trap 'echo "bench-saga.sh: line $LINENO: \"$BASH_COMMAND\" failed with status $?" >&2' ERR
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
# Full speed as many as the SQLite legs: with 5,000 a PostgreSQL leg lasted ~1.5 s, as much start
# (joins, first prepares) as throughput, and one instance against two flipped from run to run.
postgres_payments=${BENCH_POSTGRES_PAYMENTS:-20000}
# Paced as long as the SQLite leg (20 s at 1,000/s): latency rises as the tables grow, and
# 5,000 (5 s) saw only the first seconds of it (Docs/benchmarks.md, "2026-12-06 (afternoon)").
postgres_paced_payments=${BENCH_POSTGRES_PACED_PAYMENTS:-$payments}
postgres_rounds_wanted=${BENCH_POSTGRES_ROUNDS:-3}
unenrolled=${BENCH_UNENROLLED:-0.02}
legs=${BENCH_LEGS:-limits,defaults,paced,compensation,baseline,traced,postgres,postgres2}
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

# A throwaway PostgreSQL in the run's directory (the repository's disk), as the tests start
# one: initdb as Debian's postgres user when root (the server refuses to run as root), a free
# loopback port, fsync and synchronous_commit on. Sets pg_pid and pg_url.
pg_pid=""
pg_url=""
start_postgres() { # $1: directory
  local dir=$1 bin_dir run=()
  bin_dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  mkdir -p "$dir/data"
  if [[ $(id -u) -eq 0 ]]; then
    # The postgres user must reach its data directory: the run's directory is mktemp's (0700).
    chmod 711 "$work" "$dir"
    chown postgres "$dir/data"
    run=(setpriv --reuid=postgres --regid=postgres --clear-groups --)
  fi
  "${run[@]}" "$bin_dir/initdb" -D "$dir/data" -U sagad --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${run[@]}" "$bin_dir/postgres" -D "$dir/data" -p "$port" -k "$dir/data" -c listen_addresses=127.0.0.1 \
    -c fsync=on -c synchronous_commit=on -c max_connections=200 >"$dir/postgres.log" 2>&1 &
  pg_pid=$!
  pids+=("$pg_pid")
  for _ in $(seq 1 600); do
    psql -X -q -h 127.0.0.1 -p "$port" -U sagad -d postgres -c "CREATE DATABASE sagad" >/dev/null 2>&1 && break
    sleep 0.1
  done
  pg_url="postgres://sagad@127.0.0.1:$port/sagad?sslmode=disable"
}
# The server's CPU: the postmaster with its reaped children, plus the backends alive now.
pg_cpu() {
  local total child
  total=$(awk -v tck="$tck" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13 + $14 + $15) / tck }' "/proc/$pg_pid/stat")
  for child in $(pgrep -P "$pg_pid"); do
    total=$(awk -v a="$total" -v b="$(cpu_of "$child" 2>/dev/null || echo 0)" 'BEGIN { printf "%.3f", a + b }')
  done
  echo "$total"
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
# With instances=N (PostgreSQL), N sagads share the broker and the database, driven by one
# sagactl load whose connections go round robin over their sockets; the CPU of every sagad
# is summed.
instances=1
run_sagad() { # $1: name, $2: extra YAML lines, then sagactl load arguments
  local name=$1 extra=$2
  shift 2
  local dir="$work/$name"
  start_broker "$dir"
  local sagad_pids=() sockets=() index
  for index in $(seq 1 "$instances"); do
    local socket="$dir/sagad-$index.sock"
    cat >"$dir/sagad-$index.yaml" <<YAML
kafka:
  brokers: "$(cat "$dir/bootstrap")"
state_dir: "$dir/state-$index"
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
    "$bin/sagad" --config "$dir/sagad-$index.yaml" </dev/null >"$dir/sagad-$index.out" 2>"$dir/sagad-$index.err" &
    sagad_pids+=($!)
    pids+=($!)
    sockets+=("$socket")
  done
  # Ready when every consume worker has its partitions (with N instances: some of them, the
  # group's), a first group join on the mock cluster takes ~3 s, which would otherwise land on
  # the first sagas' latency.
  for index in $(seq 0 $((instances - 1))); do
    local ready=""
    for _ in $(seq 1 600); do
      if ! kill -0 "${sagad_pids[$index]}" 2>/dev/null; then break; fi
      # Alone, every worker must hold partitions (its group joined); one of several, some
      # worker (the balance check below waits for the rest).
      if "$bin/sagactl" --socket "${sockets[$index]}" --json workers 2>/dev/null | python3 -c '
import json, sys
counts = [w["assignedPartitions"] for w in json.load(sys.stdin)["workers"]]
ready = all(counts) if sys.argv[1] == "1" else sum(counts) > 0
sys.exit(0 if counts and ready else 1)' "$instances" 2>/dev/null; then
        ready=1
        break
      fi
      sleep 0.1
    done
    [[ -n "$ready" ]] || {
      echo "sagad ($name #$((index + 1))) did not become ready:" >&2
      tail -n 20 "$dir/sagad-$((index + 1)).err" >&2
      exit 1
    }
  done

  # With N instances, each group also has to finish spreading its partitions over all of
  # them: a rebalance during the load stops the group's consumers for seconds, which the
  # latencies of a short leg would show instead of sagad's. Balanced: every group holds
  # partitions, as many as it ever did (all of them), and every instance some of each group
  # that has two or more, for a second. A group that holds none is in the middle of a
  # rebalance: seen only then, it once passed for balanced, and the load's sagas all waited
  # ~6 s for its end (Docs/benchmarks.md, "2026-12-07 (early morning)").
  if ((instances > 1)); then
    python3 - "$bin/sagactl" "${sockets[@]}" <<'PY' || { echo "sagad ($name) did not balance its consumer groups" >&2; exit 1; }
import json, subprocess, sys, time
sagactl, sockets = sys.argv[1], sys.argv[2:]
most, steady, deadline = {}, 0, time.monotonic() + 60
while time.monotonic() < deadline:
    per = []
    for socket in sockets:
        try:
            out = subprocess.run([sagactl, "--socket", socket, "--json", "workers"], capture_output=True, text=True, timeout=5).stdout
            per.append({w["name"]: w["assignedPartitions"] for w in json.loads(out)["workers"]})
        except Exception:
            per.append({})
    sums = {}
    for counts in per:
        for name, count in counts.items():
            sums[name] = sums.get(name, 0) + count
    for name, total in sums.items():
        most[name] = max(most.get(name, 0), total)
    balanced = sums and all(0 < sums[n] == most[n] for n in sums) and all(
        counts.get(n, 0) > 0 for counts in per for n in sums if sums[n] >= 2)
    steady = steady + 1 if balanced else 0
    if steady >= 5:
        sys.exit(0)
    time.sleep(0.2)
sys.exit(1)
PY
  fi

  # One load for all instances, its connections round robin over their sockets (any instance
  # takes any `pay`): the same clients, payments, users and rate as one instance gets. A load
  # per instance doubled the clients and the polls for the sagas' ends (each reading the
  # other's payments in its id ranges).
  local load_pids=() also=()
  for index in $(seq 1 $((instances - 1))); do also+=(--also-socket "${sockets[$index]}"); done
  "$bin/sagactl" --socket "${sockets[0]}" load "${also[@]}" --users "$users" --first-user 1 \
    --concurrency "$concurrency" --json "$@" >"$dir/load-0.json" 2>"$dir/load-0.err" &
  load_pids+=($!)
  # The CPU window opens when the load's users exist (sagactl's "created … users" line) and
  # closes when sagactl exits: payments, sagas, sagactl's polling for their ends,
  # verify. Watched only until then, so that this loop costs nothing during the measurement.
  local cpu0="" broker0="" pg0="" stat0="" stat1
  while kill -0 "${load_pids[0]}" 2>/dev/null; do
    if [[ $(grep -c "created" "$dir/load-0.err" 2>/dev/null) -ge 1 ]]; then
      cpu0=0
      for pid in "${sagad_pids[@]}"; do cpu0=$(awk -v a="$cpu0" -v b="$(cpu_of "$pid")" 'BEGIN { print a + b }'); done
      broker0=$(cpu_of "$broker_pid")
      stat0=$(head -n 1 /proc/stat)
      [[ -z "$pg_pid" ]] || pg0=$(pg_cpu)
      break
    fi
    sleep 0.01
  done
  local status=0 pid
  for pid in "${load_pids[@]}"; do wait "$pid" || status=$?; done
  local cpu1=0 broker1 hwm=0 broker_hwm pg1=""
  for pid in "${sagad_pids[@]}"; do
    cpu1=$(awk -v a="$cpu1" -v b="$(cpu_of "$pid")" 'BEGIN { print a + b }')
    hwm=$(awk -v a="$hwm" -v b="$(hwm_mb_of "$pid")" 'BEGIN { print (b > a ? b : a) }')
  done
  broker1=$(cpu_of "$broker_pid")
  stat1=$(head -n 1 /proc/stat)
  [[ -z "$pg_pid" ]] || pg1=$(pg_cpu)
  broker_hwm=$(hwm_mb_of "$broker_pid")
  # Where a saga's time goes (with stages=1): the records of the saga's two hops with their
  # CreateTime (when the relay handed them to the producer), read while the broker still
  # runs, and the rows' timestamps (a pay's decision, Points' decision, the saga's end),
  # joined below by payment id; one clock, sagad's.
  if [[ -n "${stages:-}" ]]; then
    local topic
    for topic in reservation-completed point-reward-completed; do
      kcat -C -b "$(cat "$dir/bootstrap")" -t "$topic" -e -q -f '%T %s\n' >"$dir/$topic.records" 2>/dev/null || true
    done
    if [[ -n "$pg_pid" ]]; then
      psql -X -q -h 127.0.0.1 -p "$pg_port" -U sagad -d sagad -At -F ' ' \
        -c "SELECT id, created_at, updated_at FROM payments.payments" >"$dir/payments.rows" || true
      psql -X -q -h 127.0.0.1 -p "$pg_port" -U sagad -d sagad -At -F ' ' \
        -c "SELECT payment_id, created_at FROM points.point_ledger" >"$dir/rewards.rows" || true
    fi
  fi
  for pid in "${sagad_pids[@]}"; do stop "$pid"; done
  stop "$broker_pid"
  if [[ -n "${stages:-}" && -z "$pg_pid" ]]; then
    python3 - "$dir/state-1" "$dir" <<'PY' || true
import sqlite3, sys
state, out = sys.argv[1], sys.argv[2]
with open(f"{out}/payments.rows", "w") as rows:
    for row in sqlite3.connect(f"file:{state}/payments.sqlite?mode=ro", uri=True).execute(
            "SELECT id, created_at, updated_at FROM payments"):
        rows.write(" ".join(map(str, row)) + "\n")
with open(f"{out}/rewards.rows", "w") as rows:
    for row in sqlite3.connect(f"file:{state}/points.sqlite?mode=ro", uri=True).execute(
            "SELECT payment_id, created_at FROM point_ledger"):
        rows.write(" ".join(map(str, row)) + "\n")
PY
  fi
  if [[ $status -ne 0 || ! -s "$dir/load-0.json" ]]; then
    echo "sagactl load ($name) failed with status $status:" >&2
    cat "$dir/load-0.err" "$dir/load-0.json" >&2
    for index in $(seq 1 "$instances"); do tail -n 20 "$dir/sagad-$index.err" >&2; done
    exit 1
  fi
  STAT0="${stat0:-$stat1}" STAT1="$stat1" python3 - "${cpu0:-$cpu1}" "$cpu1" "${broker0:-$broker1}" "$broker1" "$hwm" "$broker_hwm" \
    "${pg0:-}" "${pg1:-}" "$dir" "$dir/load-0.json" "$instances" <<'PY'
import json, math, os, sys
report = json.load(open(sys.argv[10]))
if int(sys.argv[11]) > 1:
    report["instances"] = int(sys.argv[11])
cpu = float(sys.argv[2]) - float(sys.argv[1])
broker = float(sys.argv[4]) - float(sys.argv[3])
sagas = sum(v for k, v in report["outcomes"].items() if k != "UNFINISHED")
per = 1000 / max(1, sagas)
report.update({
    "sagadCpuSeconds": round(cpu, 3), "sagadCpuSecondsPer1000": round(cpu * per, 3),
    "brokerCpuSeconds": round(broker, 3), "brokerCpuSecondsPer1000": round(broker * per, 3),
    "sagadPeakRssMb": float(sys.argv[5]), "brokerPeakRssMb": float(sys.argv[6]),
})
# How busy the whole machine was over the same window (every process, the stand-ins
# included), and what the hypervisor took: a p99 is read against these.
ticks = [b - a for a, b in zip(*(list(map(int, os.environ[k].split()[1:9])) for k in ("STAT0", "STAT1")))]
if sum(ticks) > 0:
    user, nice, system, idle, iowait, irq, softirq, steal = ticks
    report.update({"machineBusyPercent": round(100 * (user + nice + system + irq + softirq) / sum(ticks), 1),
                   "machineStealPercent": round(100 * steal / sum(ticks), 1)})
if sys.argv[7] and sys.argv[8]:
    postgres = float(sys.argv[8]) - float(sys.argv[7])
    report.update({"postgresCpuSeconds": round(postgres, 3), "postgresCpuSecondsPer1000": round(postgres * per, 3)})
directory = sys.argv[9]
def records(topic):
    first = {}
    path = os.path.join(directory, topic + ".records")
    for line in open(path) if os.path.exists(path) else []:
        stamp, _, body = line.partition(" ")
        try:
            first.setdefault(int(json.loads(body)["paymentId"]), int(stamp))
        except (ValueError, KeyError, TypeError):
            pass
    return first
def rows(name):
    path = os.path.join(directory, name)
    return [list(map(int, line.split())) for line in open(path)] if os.path.exists(path) else []
completed, rewarded = records("reservation-completed"), records("point-reward-completed")
decided = {row[0]: row[1] for row in rows("rewards.rows")}
stages = {"payToReservationCompleted": [], "toPointsDecision": [], "toPointRewardCompleted": [], "toSagaEnd": []}
for payment, created, updated in rows("payments.rows"):
    if payment in completed and payment in decided and payment in rewarded:
        times = [created, completed[payment], decided[payment], rewarded[payment], updated]
        for key, start, end in zip(stages, times, times[1:]):
            stages[key].append(end - start)
def nearest(values, p):
    return values[min(len(values) - 1, max(0, math.ceil(p * len(values)) - 1))]
if stages["toSagaEnd"]:
    report["stagesMs"] = {
        key: {"p50": nearest(sorted(v), 0.5), "p90": nearest(sorted(v), 0.9), "p99": nearest(sorted(v), 0.99)}
        for key, v in stages.items()}
    report["stagesSagas"] = len(stages["toSagaEnd"])
print(json.dumps(report, sort_keys=True))
PY
}

defaults='null'
paced='null'
compensation='null'
baseline='null'
traced='null'
if has_leg defaults; then
  echo "sagad, defaults: $payments payments at full speed" >&2
  defaults=$(run_sagad defaults "" --payments "$payments")
fi
if has_leg paced; then
  echo "sagad, defaults: $payments payments at $rate/s" >&2
  paced=$(stages=1 run_sagad paced "" --payments "$payments" --rate "$rate")
fi
if has_leg compensation; then
  echo "sagad, defaults, $unenrolled of the users unenrolled: $payments payments at full speed" >&2
  compensation=$(run_sagad compensation "" --payments "$payments" --unenrolled "$unenrolled")
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

postgres='null'
postgres_paced='null'
postgres_rounds='[]'
postgres2_rounds='[]'
postgres_paced_rounds='[]'
# A JSON list of leg reports with one more at its end.
append_round() {
  python3 -c 'import json, sys; print(json.dumps(json.loads(sys.argv[1]) + [json.loads(sys.argv[2])]))' "$1" "$2"
}
# The round with the median of a figure (the lower middle one of an even count); null for none.
median_round() {
  python3 -c '
import json, sys
rounds = sorted(json.loads(sys.argv[1]), key=lambda r: r[sys.argv[2]])
print(json.dumps(rounds[(len(rounds) - 1) // 2] if rounds else None))' "$1" "$2"
}
postgres2='null'
postgres2_paced='null'
if has_leg postgres || has_leg postgres2; then
  start_postgres "$work/postgres"
  storage="storage:
  engine: postgres
  postgres:
    url: \"$pg_url\""
  pg_port=${pg_url#postgres://sagad@127.0.0.1:}
  pg_port=${pg_port%%/*}
  reset_database() {
    psql -X -q -h 127.0.0.1 -p "$pg_port" -U sagad -d postgres -c "DROP DATABASE sagad" -c "CREATE DATABASE sagad" >/dev/null
  }
  # Each full-speed leg, and the paced leg of one instance (the p99 target), runs
  # BENCH_POSTGRES_ROUNDS times, one instance and two alternating, each on a fresh database:
  # on these two cores one run of a leg against one of the other differed by up to ±30 % either
  # way from run to run (Docs/benchmarks.md, "Rounds"), so one pair decided nothing. The median
  # round is reported, every round's figures beside it.
  for round in $(seq 1 "$postgres_rounds_wanted"); do
    if has_leg postgres; then
      echo "sagad on PostgreSQL, one instance: $postgres_payments payments at full speed (round $round of $postgres_rounds_wanted)" >&2
      postgres_rounds=$(append_round "$postgres_rounds" "$(run_sagad "postgres-$round" "$storage" --payments "$postgres_payments")")
      reset_database
    fi
    if has_leg postgres2; then
      echo "sagad on PostgreSQL, two instances: $postgres_payments payments at full speed (round $round of $postgres_rounds_wanted)" >&2
      instances=2
      postgres2_rounds=$(append_round "$postgres2_rounds" "$(run_sagad "postgres2-$round" "$storage" --payments "$postgres_payments")")
      instances=1
      reset_database
    fi
  done
  if has_leg postgres; then
    for round in $(seq 1 "$postgres_rounds_wanted"); do
      echo "sagad on PostgreSQL, one instance: $postgres_paced_payments payments at $rate/s (round $round of $postgres_rounds_wanted)" >&2
      postgres_paced_rounds=$(append_round "$postgres_paced_rounds" \
        "$(stages=1 run_sagad "postgres-paced-$round" "$storage" --payments "$postgres_paced_payments" --rate "$rate")")
      reset_database
    done
  fi
  if has_leg postgres2; then
    echo "sagad on PostgreSQL, two instances: $postgres_paced_payments payments at $rate/s" >&2
    instances=2
    postgres2_paced=$(run_sagad postgres2-paced "$storage" --payments "$postgres_paced_payments" --rate "$rate")
    instances=1
  fi
  postgres=$(median_round "$postgres_rounds" sagasPerSecond)
  postgres2=$(median_round "$postgres2_rounds" sagasPerSecond)
  postgres_paced=$(median_round "$postgres_paced_rounds" p99Ms)
  stop "$pg_pid"
  pg_pid=""
fi

mkdir -p bench/results
result="bench/results/saga-$(date -u +%Y%m%dT%H%M%SZ).json"
python3 - "$result" "$limits" "$defaults" "$paced" "$baseline" "$traced" "$postgres" "$postgres_paced" \
  "$postgres2" "$postgres2_paced" "$compensation" "$postgres_rounds" "$postgres2_rounds" "$postgres_paced_rounds" <<PY
import json, os, platform, subprocess, sys
def out(*command):
    try:
        return subprocess.run(command, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""
model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
(limits, defaults, paced, baseline, traced, postgres, postgres_paced, postgres2, postgres2_paced, compensation,
 postgres_rounds, postgres2_rounds, postgres_paced_rounds) = (json.loads(a) for a in sys.argv[2:15])
run = {
  "benchmark": "saga-process", "payments": $payments, "baselinePayments": $baseline_payments, "users": $users,
  "rate": $rate, "concurrency": $concurrency, "baselinePoll": "$poll", "synchronous": "full",
  "commit": out("git", "rev-parse", "--short", "HEAD"), "dirty": bool(out("git", "status", "--porcelain")),
  "loadAverage": os.getloadavg()[0],
  "machine": {"cpus": os.cpu_count(), "cpu": model, "kernel": platform.release(),
              "librdkafka": out("pkg-config", "--modversion", "rdkafka"), "sqlite": out("pkg-config", "--modversion", "sqlite3"),
              "allocator": "jemalloc" if "libjemalloc" in out("ldd", "$bin/sagad") else "glibc"},
  "limits": limits, "defaults": defaults, "paced": paced, "baseline": baseline, "traced": traced,
  "unenrolled": $unenrolled, "compensation": compensation,
  "postgresPayments": $postgres_payments, "postgresPacedPayments": $postgres_paced_payments, "postgres": postgres, "postgresPaced": postgres_paced,
  "postgres2": postgres2, "postgres2Paced": postgres2_paced,
  # Every round of the legs above that ran several (BENCH_POSTGRES_ROUNDS); those are their medians.
  "postgresRounds": postgres_rounds, "postgres2Rounds": postgres2_rounds, "postgresPacedRounds": postgres_paced_rounds,
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
print(f"{'run':<30}{'sagas/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'CPU s/1k':>10}{'broker':>8}{'pg':>7}"
      f"{'busy':>6}{'RSS MB':>8}  outcomes")
def busy(r):
    return "-" if r.get("machineBusyPercent") is None else f"{r['machineBusyPercent']:.0f}%"
legs = [(label, r) for label, r in (
    (f"defaults, full speed", defaults), (f"defaults, at $rate/s", paced),
    (f"{$unenrolled:.0%} unenrolled, full speed", compensation), ("baseline, full speed", baseline),
    ("traced (ratio 1.0)", traced), ("postgres ×1, full speed", postgres),
    (f"postgres ×1, at $rate/s", postgres_paced), ("postgres ×2, full speed", postgres2),
    (f"postgres ×2, at $rate/s", postgres2_paced)) if r]
for label, r in legs:
    print(f"{label:<30}{f(r['sagasPerSecond']):>10}{f(r['p50Ms'], 1):>9}{f(r['p99Ms'], 1):>9}{f(r['maxMs'], 1):>9}"
          f"{f(r['sagadCpuSecondsPer1000'], 2):>10}{f(r['brokerCpuSecondsPer1000'], 2):>8}"
          f"{f(r.get('postgresCpuSecondsPer1000'), 2):>7}{busy(r):>6}{f(r['sagadPeakRssMb']):>8}  "
          + ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items())) + ("" if r["verifyOk"] else "  VERIFY FAILED"))

# The table's legs (a median round for the PostgreSQL ones; the rounds line shows each round's).
stolen = [(label, r["machineStealPercent"]) for label, r in legs if r.get("machineStealPercent", 0) >= 2]
if stolen:
    print("the hypervisor took CPU (steal) during: " + ", ".join(f"{label} {v:.1f} %" for label, v in stolen)
          + "; those legs measured the host")

rounds = [(label, figure, unit, rs) for label, figure, unit, rs in (
    ("postgres ×1, full speed", "sagasPerSecond", "sagas/s", postgres_rounds),
    ("postgres ×2, full speed", "sagasPerSecond", "sagas/s", postgres2_rounds),
    (f"postgres ×1, at $rate/s", "p99Ms", "ms p99", postgres_paced_rounds)) if len(rs) > 1]
if rounds:
    print(f"\nrounds (the table shows each leg's median round), in the order run:")
    for label, figure, unit, rs in rounds:
        print(f"  {label:<28}" + " / ".join(f(r[figure]) for r in rs) + f" {unit}; CPU s/1k sagad + pg "
              + " / ".join(f"{r['sagadCpuSecondsPer1000'] + r.get('postgresCpuSecondsPer1000', 0):.2f}" for r in rs)
              + "; cores busy " + " / ".join(busy(r) for r in rs)
              + ", steal " + " / ".join(f(r.get("machineStealPercent"), 1) + "%" for r in rs))

staged = [(label, r) for label, r in ((f"defaults, at $rate/s", paced), (f"postgres ×1, at $rate/s", postgres_paced))
          if r and r.get("stagesMs")]
if staged:
    print(f"\nstages, p50 / p99 ms: pay → ReservationCompleted produced → Points decides → PointRewardCompleted"
          f" produced → saga ends")
    for label, r in staged:
        order = ("payToReservationCompleted", "toPointsDecision", "toPointRewardCompleted", "toSagaEnd")
        print(f"  {label:<28}" + "  ".join(f"{r['stagesMs'][k]['p50']:>3} / {r['stagesMs'][k]['p99']:<3}" for k in order))

print(f"\n{'target':<52}{'measured':>14}  met")
def row(name, value, ok):
    print(f"{name:<52}{value:>14}  {'-' if ok is None else ('yes' if ok else 'NO')}")
rss = [r["sagadPeakRssMb"] for r in (defaults, paced, compensation) if r]
# Issue 15's targets.
row("≥ 10,000 sagas/s (defaults, full speed)", f(defaults and defaults["sagasPerSecond"]),
    defaults and defaults["sagasPerSecond"] >= 10000)
row("≤ 0.20 sagad CPU-s per 1,000 sagas", f(defaults and defaults["sagadCpuSecondsPer1000"], 2),
    defaults and defaults["sagadCpuSecondsPer1000"] <= 0.20)
row("p99 ≤ 20 ms at $rate/s", "-" if not paced else f"{paced['p99Ms']:,.1f} ms",
    paced and paced["p99Ms"] <= 20 and paced["sagasPerSecond"] >= 0.95 * $rate)
row(f"≥ 8,000 sagas/s, {$unenrolled:.0%} unenrolled", f(compensation and compensation["sagasPerSecond"]),
    compensation and compensation["sagasPerSecond"] >= 8000)
ratio = defaults and baseline and defaults["sagasPerSecond"] / max(baseline["sagasPerSecond"], 1e-9)
row("≥ 25 × baseline sagas/s", "-" if not ratio else f"{ratio:,.1f} ×", ratio and ratio >= 25)
if defaults and traced:
    extra = traced["sagadCpuSecondsPer1000"] - defaults["sagadCpuSecondsPer1000"]
    print(f"tracing at ratio 1.0 costs {extra:+.2f} CPU-s per 1,000 sagas "
          f"({traced['sagasPerSecond'] / max(defaults['sagasPerSecond'], 1e-9):.0%} of the untraced rate)")
row("PostgreSQL ≥ 2,000 sagas/s (one instance per role)", f(postgres and postgres["sagasPerSecond"]),
    postgres and postgres["sagasPerSecond"] >= 2000)
row("PostgreSQL p99 ≤ 50 ms at $rate/s (median round)", "-" if not postgres_paced else f"{postgres_paced['p99Ms']:,.1f} ms",
    postgres_paced and postgres_paced["p99Ms"] <= 50 and postgres_paced["sagasPerSecond"] >= 0.95 * $rate)
row("PostgreSQL two instances ≥ one (median rounds)",
    "-" if not (postgres and postgres2) else f"{f(postgres2['sagasPerSecond'])} vs {f(postgres['sagasPerSecond'])}",
    postgres and postgres2 and postgres2["sagasPerSecond"] >= postgres["sagasPerSecond"])
row("peak RSS ≤ 200 MB (defaults runs)", "-" if not rss else f"{max(rss):,.0f} MB", (max(rss) <= 200) if rss else None)
print("  (RSS flat over a 10-minute soak: not measured by make bench)")
load = os.getloadavg()[0]
print(f"load average now {load:.2f}" + ("; figures from a busy machine are not comparable" if load > 1.0 else ""))
PY
echo "written $result"
