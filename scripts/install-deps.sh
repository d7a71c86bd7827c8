#!/usr/bin/env bash
# Installs the Debian packages sagad needs to build, test and run:
#   librdkafka-dev  Kafka client library and its mock cluster (CRdKafka, pkg-config `rdkafka`)
#   libsqlite3-dev  SQLite for the service databases (GRDB)
#   libjemalloc-dev the allocator sagad links instead of glibc's malloc (Docs/benchmarks.md, "The allocator")
#   kcat            the independent Kafka client the tests and `make run` use
#   socat           the independent client of the admin-socket transcript test
#   prometheus      for `promtool` (rule checks, alert unit tests, scrape lint)
#   python3         make check-ops: dashboard JSON checks (`python3 -m json.tool` and friends)
#   python3-confluent-kafka  the Spring-rule peer of the interop tests (Tests/Peers/spring_peer.py)
#   pkg-config      SwiftPM finds librdkafka through it
#   make            the entry point (`make run`, `make test`)
#   gdb             scripts/test-phase.sh prints the stacks of a hung test process with it
#   python3-venv    the OTLP receiver of the tracing tests runs in a venv of its own (below)
#   postgresql      Debian's server and psql: the PostgreSQL tests start a throwaway server of their own
#                   (initdb into a temp dir, a free loopback port); the cluster the package makes is not used
#   systemd         only if `systemd-analyze` is missing (unit checks); it usually is present
#
# Then, from PyPI, OpenTelemetry's own protobuf definitions (opentelemetry-proto, pinned) into a venv at
# ${SAGAD_PEERS_VENV:-~/.cache/sagad/otlp-peer}: the tracing tests' receiver (Tests/Peers/otlp_receiver.py)
# decodes sagad's spans with them. Debian's python3-protobuf is too old for them, hence the venv.
#
# Idempotent and quick when everything is present: it asks dpkg first and touches apt only for what
# is missing (one `apt-get update`, one `apt-get install`). Needs root, or sudo without a password
# prompt when stdin is not a terminal. Never prompts (DEBIAN_FRONTEND=noninteractive).
#
# Services: installing `prometheus` would normally start a Prometheus server. We want promtool, not a
# server, so while this script installs it keeps services from starting (a temporary
# /usr/sbin/policy-rc.d answering 101, only if none exists). SAGAD_DEPS_START_SERVICES=1 turns that off.
set -euo pipefail

readonly PACKAGES=(librdkafka-dev libsqlite3-dev libjemalloc-dev kcat socat prometheus python3 python3-confluent-kafka python3-venv postgresql pkg-config make gdb)
readonly OTLP_PROTO_VERSION=1.45.2
readonly PEERS_VENV=${SAGAD_PEERS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/sagad/otlp-peer}

log() { printf 'install-deps: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

is_installed() {
  local status
  status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
  [[ $status == "install ok installed" ]]
}

# The venv of the OTLP receiver, made or repaired only when importing the definitions fails.
python_peers() {
  local probe='import opentelemetry.proto.collector.trace.v1.trace_service_pb2'
  if [[ -x $PEERS_VENV/bin/python ]] && "$PEERS_VENV/bin/python" -c "$probe" 2>/dev/null; then
    return 0
  fi
  log "creating $PEERS_VENV with opentelemetry-proto $OTLP_PROTO_VERSION (PyPI)"
  mkdir -p "$(dirname "$PEERS_VENV")"
  /usr/bin/python3 -m venv --clear "$PEERS_VENV" || die "python3 -m venv $PEERS_VENV failed"
  "$PEERS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "opentelemetry-proto==$OTLP_PROTO_VERSION" </dev/null || die "pip install opentelemetry-proto failed"
  "$PEERS_VENV/bin/python" -c "$probe" || die "opentelemetry-proto does not import in $PEERS_VENV"
}

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script supports Debian and its derivatives only"

missing=()
for pkg in "${PACKAGES[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done
if ! command -v systemd-analyze >/dev/null 2>&1 && ! is_installed systemd; then
  missing+=(systemd)
fi

if ((${#missing[@]} == 0)); then
  log "all system packages present"
  python_peers
  exit 0
fi

log "missing: ${missing[*]}"

# Root, or sudo. Without a terminal sudo must not ask for a password (-n), or it would hang or fail oddly.
as_root=()
if ((EUID != 0)); then
  if ! command -v sudo >/dev/null 2>&1; then
    die "not root and sudo is not installed; run as root: apt-get install -y ${missing[*]}"
  fi
  if [[ -t 0 ]]; then
    as_root=(sudo)
  else
    as_root=(sudo -n)
  fi
  "${as_root[@]}" true 2>/dev/null ||
    die "sudo cannot run without a password here; run as root: apt-get install -y ${missing[*]}"
fi

export DEBIAN_FRONTEND=noninteractive

policy=/usr/sbin/policy-rc.d
created_policy=0
remove_policy() {
  if ((created_policy)); then
    "${as_root[@]}" rm -f "$policy" || log "warning: could not remove temporary $policy"
  fi
}
trap remove_policy EXIT
if [[ ${SAGAD_DEPS_START_SERVICES:-0} != 1 && ! -e $policy ]]; then
  printf '#!/bin/sh\n# temporary, from sagad scripts/install-deps.sh: start no services while it installs\nexit 101\n' |
    "${as_root[@]}" tee "$policy" >/dev/null
  "${as_root[@]}" chmod 0755 "$policy"
  created_policy=1
fi

apt_opts=(-o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

log "apt-get update"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update -qq </dev/null
log "apt-get install ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${missing[@]}" </dev/null

# Check the result rather than trust apt's exit status alone.
still_missing=()
for pkg in "${missing[@]}"; do
  is_installed "$pkg" || still_missing+=("$pkg")
done
((${#still_missing[@]} == 0)) || die "still not installed: ${still_missing[*]}"
for tool in kcat promtool pkg-config systemd-analyze; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found after installing"
done
pkg-config --exists rdkafka || die "pkg-config does not find rdkafka"

log "installed: ${missing[*]}"

python_peers
