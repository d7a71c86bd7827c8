#!/usr/bin/env bash
# test-phase.sh SECONDS COMMAND...: runs one phase of `make test` (a `swift test`) with a deadline.
#
# A test that hangs must fail the run at once and say where it hangs, not eat CI's limit with its
# output stuck in a pipe buffer. So the command runs line-buffered (stdbuf: a killed run still shows
# its last lines) in a session of its own; past the deadline this prints the tests that started and
# never ended, every thread's stack of the test process (gdb, if installed), then kills the session
# and exits 124, as timeout(1) does. Docs/development.md, "Child processes and hangs".
set -uo pipefail

(($# >= 2)) || {
  echo "usage: test-phase.sh SECONDS COMMAND..." >&2
  exit 2
}
limit=$1
shift

log=$(mktemp "${TMPDIR:-/tmp}/sagad-test-phase.XXXXXX")
trap 'rm -f "$log"' EXIT

# setsid: the phase and everything it starts form one process group, killed together.
setsid stdbuf -oL -eL "$@" > >(tee "$log") 2>&1 &
pid=$!

deadline=$((SECONDS + limit))
while kill -0 "$pid" 2>/dev/null; do
  if ((SECONDS >= deadline)); then
    echo
    echo "=== test-phase: still running after ${limit}s: $*"
    echo "=== tests that started and did not end:"
    # swift-testing: '◇ Test "name" started.' then '✔ … passed' / '✘ … failed' / '➜ … skipped'.
    comm -23 \
      <(grep -o 'Test "[^"]*" started' "$log" | sed 's/ started$//' | sort -u) \
      <(grep -oE 'Test "[^"]*" (passed|failed|skipped|recorded)' "$log" | sed -E 's/ [a-z]+$//' | sort -u)
    for test_pid in $(pgrep -s "$pid" -f 'PackageTests\.xctest'); do
      echo "=== threads of the test process $test_pid:"
      if command -v gdb >/dev/null 2>&1; then
        timeout 120 gdb -p "$test_pid" -batch -ex 'set pagination off' -ex 'thread apply all bt 30' 2>&1 |
          grep -E '^(Thread|#)' | cut -c1-300
      else
        echo "(gdb not installed: no stacks)"
      fi
      echo "=== its children:"
      ps -o pid,stat,etime,args --ppid "$test_pid" | cut -c1-200
    done
    kill -TERM -- "-$pid" 2>/dev/null
    sleep 5
    kill -KILL -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    exit 124
  fi
  sleep 2
done
wait "$pid"
status=$?

# The tests stop what they start, also when they fail; a test process that crashes (an abort in
# a C library) cannot, and its sagad, kcat and PostgreSQL children would outlive the run and take
# the machine's CPU and ports from the next phase and the next run. They are in the phase's
# session: named here, then stopped.
# Zombies (exited, not yet reaped by the test process) are gone with it: only the living count.
left=$(ps -o pid=,stat= -s "$pid" 2>/dev/null | awk '$2 !~ /^Z/ {print $1}' | paste -sd, -)
if [[ -n $left ]]; then
  echo "=== test-phase: processes the phase left running, stopped now:"
  ps -o pid,etime,args -p "$left" 2>/dev/null | cut -c1-200
  kill -KILL -- "-$pid" 2>/dev/null
  # shellcheck disable=SC2086 # a list of pids
  kill -KILL ${left//,/ } 2>/dev/null
fi
exit "$status"
