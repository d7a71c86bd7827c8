#!/usr/bin/env bash
# make bench-kafka: SagaKafka against kcat (an independent librdkafka client) on the
# same `sagad dev-broker`, in the same run, with the same producer settings
# (idempotent, acks=all). Prints a table and writes the run as JSON under bench/results/.
#
#   BENCH_MESSAGES (100000)  BENCH_SIZE (200 bytes)  BENCH_PARTITIONS (16)  BENCH_RUNS (3)
#
# The mock cluster keeps only a few MB per partition, so each leg gets a fresh topic
# spread over enough partitions that nothing is truncated before it is read back.
set -euo pipefail
cd "$(dirname "$0")/.."

messages=${BENCH_MESSAGES:-100000}
size=${BENCH_SIZE:-200}
partitions=${BENCH_PARTITIONS:-16}
runs=${BENCH_RUNS:-3}

swift=${SWIFT:-swift}
scratch=${SCRATCH:-.build}
"$swift" build -c release --scratch-path "$scratch" --product sagad >/dev/null
"$swift" build -c release --scratch-path "$scratch" --product sagad-bench >/dev/null
bin=$("$swift" build -c release --scratch-path "$scratch" --show-bin-path)

work=$(mktemp -d)
broker_pid=""
cleanup() {
  if [[ -n "$broker_pid" ]]; then kill "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

topic_args=()
for run in $(seq 1 "$runs"); do
  for leg in kcat saga; do topic_args+=(--topic "bench-$leg-$run:$partitions"); done
done
"$bin/sagad" dev-broker --bootstrap-file "$work/bootstrap" "${topic_args[@]}" --log-level error \
  </dev/null >"$work/broker.out" 2>"$work/broker.err" &
broker_pid=$!
for _ in $(seq 1 200); do [[ -s "$work/bootstrap" ]] && break; sleep 0.05; done
[[ -s "$work/bootstrap" ]] || { echo "dev-broker did not start:" >&2; cat "$work/broker.err" >&2; exit 1; }
bootstrap=$(cat "$work/bootstrap")

# The same records for both clients: a decimal key and a payload of $size bytes.
payload=$(head -c "$size" /dev/zero | tr '\0' 'x')
awk -v n="$messages" -v p="$payload" 'BEGIN { for (i = 0; i < n; i++) printf "%d\t%s\n", i, p }' >"$work/records"

# Each leg runs as its own process under /usr/bin/time: messages/s over the wall
# clock of the whole process (start-up included, as for kcat), and CPU seconds.
timed() { /usr/bin/time -f '%e %U %S' -o "$work/time" "$@"; }
wall_rate() { awk -v n="$messages" '{ printf "%.0f", n / $1 }' "$work/time"; }
cpu() { awk '{ printf "%.3f", $2 + $3 }' "$work/time"; }
json_field() { python3 -c "import json,sys; print(int(json.load(sys.stdin)['$1']))"; }

kcat_produce() {
  timed kcat -P -b "$bootstrap" -t "bench-kcat-$1" -K $'\t' -X enable.idempotence=true -X acks=all -l "$work/records"
  kp+=("$(wall_rate)"); kpc+=("$(cpu)")
}
kcat_consume() {
  # Both consumers read the partitions directly: a group join on the mock cluster
  # takes a fixed ~3 s that would swamp the comparison.
  timed kcat -C -b "$bootstrap" -t "bench-kcat-$1" -o beginning -e -q -f '%o\n' >"$work/consumed"
  got=$(wc -l <"$work/consumed")
  [[ "$got" == "$messages" ]] || { echo "kcat consumed $got of $messages" >&2; exit 1; }
  kc+=("$(wall_rate)"); kcc+=("$(cpu)")
}
saga_produce() {
  timed "$bin/sagad-bench" kafka --bootstrap "$bootstrap" --topic "bench-saga-$1" --mode produce \
    --messages "$messages" --size "$size" >"$work/out"
  [[ "$(json_field messages <"$work/out")" == "$messages" ]] || { echo "SagaKafka produce: $(cat "$work/out")" >&2; exit 1; }
  sp+=("$(wall_rate)"); spc+=("$(cpu)")
}
saga_consume() {
  timed "$bin/sagad-bench" kafka --bootstrap "$bootstrap" --topic "bench-saga-$1" --mode consume \
    --messages "$messages" --assign-partitions "$partitions" >"$work/out"
  [[ "$(json_field messages <"$work/out")" == "$messages" ]] || { echo "SagaKafka consume: $(cat "$work/out")" >&2; exit 1; }
  sc+=("$(wall_rate)"); scc+=("$(cpu)")
}

declare -a kp kc sp sc kpc kcc spc scc
for run in $(seq 1 "$runs"); do
  # Alternate who goes first: the mock broker slows a little as it fills up.
  if (( run % 2 )); then
    kcat_produce "$run"; saga_produce "$run"; kcat_consume "$run"; saga_consume "$run"
  else
    saga_produce "$run"; kcat_produce "$run"; saga_consume "$run"; kcat_consume "$run"
  fi
done

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
mkp=$(median "${kp[@]}"); mkc=$(median "${kc[@]}"); msp=$(median "${sp[@]}"); msc=$(median "${sc[@]}")
ckp=$(median "${kpc[@]}"); ckc=$(median "${kcc[@]}"); csp=$(median "${spc[@]}"); csc=$(median "${scc[@]}")
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", 100 * a / b }'; }

printf '\n%s messages of %s bytes, %s partitions, median of %s runs; whole process, start-up included\n' \
  "$messages" "$size" "$partitions" "$runs"
printf '%-10s %14s %14s %8s %12s %12s\n' "" "kcat msg/s" "SagaKafka" "ratio" "kcat cpu s" "SagaKafka"
printf '%-10s %14s %14s %8s %12s %12s\n' produce "$mkp" "$msp" "$(pct "$msp" "$mkp")" "$ckp" "$csp"
printf '%-10s %14s %14s %8s %12s %12s\n' consume "$mkc" "$msc" "$(pct "$msc" "$mkc")" "$ckc" "$csc"

mkdir -p bench/results
result="bench/results/kafka-$(date -u +%Y%m%dT%H%M%SZ).json"
python3 - "$result" <<PY
import json, os, platform, subprocess, sys
json.dump({
  "benchmark": "kafka", "messages": $messages, "size": $size, "partitions": $partitions, "runs": $runs,
  "machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
              "librdkafka": subprocess.run(["pkg-config", "--modversion", "rdkafka"], capture_output=True, text=True).stdout.strip()},
  "messagesPerSecond": {"kcat": {"produce": [${kp[*]/%/,}], "consume": [${kc[*]/%/,}]},
                        "sagakafka": {"produce": [${sp[*]/%/,}], "consume": [${sc[*]/%/,}]}},
  "cpuSeconds": {"kcat": {"produce": [${kpc[*]/%/,}], "consume": [${kcc[*]/%/,}]},
                 "sagakafka": {"produce": [${spc[*]/%/,}], "consume": [${scc[*]/%/,}]}},
  "median": {"kcat": {"produce": $mkp, "consume": $mkc, "produceCpu": $ckp, "consumeCpu": $ckc},
             "sagakafka": {"produce": $msp, "consume": $msc, "produceCpu": $csp, "consumeCpu": $csc}},
}, open(sys.argv[1], "w"), indent=2)
PY
echo "written $result"
