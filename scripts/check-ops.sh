#!/usr/bin/env bash
# Checks the operations files (`make check-ops`, run by .ci/run):
#   * prometheus/: `promtool check rules`, `promtool test rules`, `promtool check config`;
#     every alert has a unit test that fires and one that stays silent; every runbook_url
#     anchor is a heading of Docs/operations.md;
#   * grafana/: the dashboard and provisioning files parse, uid and variables are in place,
#     every panel query uses the datasource variable;
#   * systemd/: `make install-files` into a temporary DESTDIR, then `systemd-analyze verify` on
#     the installed unit (ExecStart pointed into DESTDIR, so that the binary exists),
#     `systemd-analyze security --offline=true` under EXPOSURE_MAX, sysusers and tmpfiles applied
#     to a temporary root, and the example configuration through `sagad check-config`.
#
#   scripts/check-ops.sh                 run every check
#   scripts/check-ops.sh --print-metrics the metric names the rules and the dashboard use, one a line
#
# Environment: CHECK_OPS_SAGAD, a built sagad for check-config (skipped when absent; not SAGAD_*,
# which sagad would refuse as an unknown key), MAKE (make), EXPOSURE_MAX (2.0).
# ok() never fails, so `check && ok … || fail …` is an if-then-else here.
# shellcheck disable=SC2015
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly RULES=prometheus/sagad.rules.yml
readonly RULE_TESTS=prometheus/sagad.rules.test.yml
readonly PROM_CONFIG=prometheus/prometheus.yml
readonly DASHBOARD=grafana/dashboards/sagad.json
readonly UNIT=systemd/sagad.service
readonly OPERATIONS=Docs/operations.md
EXPOSURE_MAX=${EXPOSURE_MAX:-2.0}
MAKE=${MAKE:-make}

failures=0
ok() { printf 'check-ops: ok   %s\n' "$*"; }
fail() {
  printf 'check-ops: FAIL %s\n' "$*" >&2
  failures=$((failures + 1))
}
need() { command -v "$1" >/dev/null 2>&1 || {
  printf 'check-ops: %s not found (scripts/install-deps.sh installs it)\n' "$1" >&2
  exit 1
}; }

# Metric names in the rules' expressions and the dashboard's queries (recording rules, label
# values and PromQL functions excluded; histogram suffixes folded into the family name).
print_metrics() {
  python3 - "$RULES" "$DASHBOARD" <<'PY'
import json, re, sys
rules, dashboard = sys.argv[1], sys.argv[2]
exprs = []
for line in open(rules):
    stripped = line.strip()
    if stripped.startswith(("#", "summary:", "description:", "runbook_url:", "- record:", "- alert:")):
        continue
    exprs.append(line)
def walk(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("expr", "definition") and isinstance(v, str): exprs.append(v)
            else: walk(v)
    elif isinstance(node, list):
        for v in node: walk(v)
walk(json.load(open(dashboard)))
text = re.sub(r'"[^"]*"', '""', "\n".join(exprs))
names = set()
for m in re.finditer(r'(?<![\w:$])((?:sagad_|process_)[a-z0-9_]+|kafka_consumer_lag|compensate_payment_total|up(?=\{))', text):
    names.add(re.sub(r'_(bucket|sum|count)$', '', m.group(1)))
print("\n".join(sorted(names)))
PY
}

if [[ ${1:-} == --print-metrics ]]; then
  print_metrics
  exit 0
fi

need promtool
need systemd-analyze
need python3

# --- Prometheus
promtool check rules "$RULES" >/dev/null && ok "promtool check rules $RULES" || fail "promtool check rules $RULES"
promtool test rules "$RULE_TESTS" >/dev/null && ok "promtool test rules $RULE_TESTS" ||
  { promtool test rules "$RULE_TESTS" || true; fail "promtool test rules $RULE_TESTS"; }
promtool check config "$PROM_CONFIG" >/dev/null && ok "promtool check config $PROM_CONFIG" ||
  fail "promtool check config $PROM_CONFIG"

# Every alert: a test case that expects it firing and one that expects silence.
coverage=$(awk '
  FNR == NR { if (match($0, /- alert: [A-Za-z0-9_]+/)) alerts[substr($0, RSTART + 9, RLENGTH - 9)] = 1; next }
  {
    if (match($0, /alertname: [A-Za-z0-9_]+/)) name = substr($0, RSTART + 11, RLENGTH - 11)
    if ($0 ~ /exp_alerts: *\[\]/) silent[name] = 1
    else if ($0 ~ /exp_alerts: *$/) firing[name] = 1
  }
  END {
    for (a in alerts) {
      if (!(a in firing)) print a ": no test expects it to fire"
      if (!(a in silent)) print a ": no test expects it to stay silent"
    }
  }' "$RULES" "$RULE_TESTS")
if [[ -z $coverage ]]; then
  ok "every alert has a firing and a silent unit test ($(grep -c -- '- alert:' "$RULES") alerts)"
else
  fail "alert tests missing:"$'\n'"$coverage"
fi

# Every runbook_url anchor is a heading of Docs/operations.md (GitHub's slug: lower case,
# punctuation dropped, spaces to dashes).
if [[ -f $OPERATIONS ]]; then
  slugs=$(sed -n 's/^#\{1,6\} *//p' "$OPERATIONS" | tr '[:upper:]' '[:lower:]' | sed 's/[^a-z0-9 _-]//g; s/ /-/g')
  missing=0
  while read -r anchor; do
    grep -qx -- "$anchor" <<<"$slugs" || {
      fail "runbook anchor #$anchor is not a heading of $OPERATIONS"
      missing=1
    }
  done < <(sed -n 's|^ *runbook_url: *Docs/operations.md#||p' "$RULES")
  ((missing)) || ok "every runbook_url names a heading of $OPERATIONS"
else
  fail "$OPERATIONS does not exist"
fi

# --- Grafana
python3 - "$DASHBOARD" <<'PY' && ok "$DASHBOARD parses; uid, variables and datasources in place" || fail "$DASHBOARD"
import json, sys
path = sys.argv[1]
d = json.load(open(path))
problems = []
if d.get("uid") != "sagad-overview": problems.append("uid is not sagad-overview")
names = {v["name"] for v in d.get("templating", {}).get("list", [])}
for v in ("datasource", "job", "instance"):
    if v not in names: problems.append(f"variable {v} missing")
def panels(ps):
    for p in ps:
        yield p
        yield from panels(p.get("panels", []))
ids = set()
for p in panels(d.get("panels", [])):
    if p.get("id") in ids: problems.append(f"panel id {p.get('id')} repeated")
    ids.add(p.get("id"))
    if p.get("type") == "row": continue
    if p.get("datasource", {}).get("uid") != "${datasource}": problems.append(f"panel {p.get('title')}: datasource is not ${{datasource}}")
    for t in p.get("targets", []):
        e = t.get("expr", "")
        if "job=~\"$job\"" not in e and "job=\"$job\"" not in e and "sagad:" not in e:
            problems.append(f"panel {p.get('title')}: query without the job variable: {e}")
        if "[5m]" in e or "[1m]" in e: problems.append(f"panel {p.get('title')}: fixed range instead of $__rate_interval: {e}")
for msg in problems: print("  " + msg, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
for f in grafana/provisioning/dashboards/sagad.yaml grafana/provisioning/datasources/prometheus.yaml; do
  # YAML without a YAML library: tabs and a `apiVersion: 1` line are what Grafana rejects first.
  if [[ -f $f ]] && grep -q '^apiVersion: 1' "$f" && ! grep -q $'\t' "$f"; then ok "$f"; else fail "$f"; fi
done

# --- systemd: install into a temporary DESTDIR, then check what was installed.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
for b in sagad sagactl; do
  if [[ -n ${CHECK_OPS_SAGAD:-} && -x $(dirname "$CHECK_OPS_SAGAD")/$b ]]; then
    cp "$(dirname "$CHECK_OPS_SAGAD")/$b" "$work/bin/$b"
  else
    cp /bin/true "$work/bin/$b" # verify needs an executable ExecStart, not sagad itself
  fi
done
dest=$work/dest
if "$MAKE" --no-print-directory -s install-files DESTDIR="$dest" PREFIX=/opt/sagad RELEASE_BIN="$work/bin" >"$work/install.log" 2>&1; then
  ok "make install-files DESTDIR=… PREFIX=/opt/sagad"
else
  cat "$work/install.log" >&2
  fail "make install-files"
fi
installed=$dest/opt/sagad/lib/systemd/system/sagad.service
for f in "$installed" "$dest/opt/sagad/bin/sagad" "$dest/opt/sagad/bin/sagactl" \
  "$dest/opt/sagad/lib/sysusers.d/sagad.conf" "$dest/opt/sagad/lib/tmpfiles.d/sagad.conf" \
  "$dest/etc/sagad/sagad.yaml.example" "$dest/opt/sagad/share/sagad/prometheus/sagad.rules.yml" \
  "$dest/opt/sagad/share/sagad/grafana/dashboards/sagad.json" "$dest/opt/sagad/share/doc/sagad/operations.md"; do
  [[ -e $f ]] || fail "make install-files did not install ${f#"$dest"}"
done
if [[ -f $installed ]]; then
  grep -q '^ExecStart=/opt/sagad/bin/sagad --config /etc/sagad/sagad.yaml$' "$installed" &&
    ok "installed unit runs /opt/sagad/bin/sagad (ExecStart follows PREFIX)" ||
    fail "installed unit's ExecStart does not follow PREFIX: $(grep ExecStart= "$installed")"
  grep -q 'runbook_url: file:///opt/sagad/share/doc/sagad/operations.md#' "$dest/opt/sagad/share/sagad/prometheus/sagad.rules.yml" &&
    ok "installed rules link the installed runbooks" || fail "installed rules' runbook_url not rewritten"
  promtool test rules "$dest/opt/sagad/share/sagad/prometheus/sagad.rules.test.yml" >/dev/null &&
    ok "promtool test rules on the installed copy" || fail "promtool test rules on the installed copy"
  mkdir -p "$work/verify"
  sed "s|^ExecStart=/opt/sagad/bin/sagad|ExecStart=$dest/opt/sagad/bin/sagad|" "$installed" >"$work/verify/sagad.service"
  if systemd-analyze verify "$work/verify/sagad.service"; then
    ok "systemd-analyze verify (installed unit)"
  else
    fail "systemd-analyze verify (installed unit)"
  fi
fi
# The unit in the tree, ExecStart pointed at an existing binary.
mkdir -p "$work/tree"
sed "s|^ExecStart=/usr/local/bin/sagad|ExecStart=$work/bin/sagad|" "$UNIT" >"$work/tree/sagad.service"
systemd-analyze verify "$work/tree/sagad.service" && ok "systemd-analyze verify $UNIT" || fail "systemd-analyze verify $UNIT"
exposure=$(systemd-analyze security --offline=true "$work/tree/sagad.service" 2>/dev/null | sed -n 's/.*Overall exposure level for sagad.service: \([0-9.]*\).*/\1/p')
if [[ -n $exposure ]] && awk -v e="$exposure" -v m="$EXPOSURE_MAX" 'BEGIN { exit !(e <= m) }'; then
  ok "systemd-analyze security --offline=true: exposure $exposure (at most $EXPOSURE_MAX)"
else
  fail "systemd-analyze security --offline=true: exposure '${exposure:-?}' above $EXPOSURE_MAX"
fi
# sysusers then tmpfiles into a temporary root (chown needs root; skipped otherwise).
root=$work/root
mkdir -p "$root/etc"
if systemd-sysusers --root="$root" "$PWD/systemd/sagad.sysusers.conf" >/dev/null 2>&1 &&
  grep -q '^sagad:' "$root/etc/passwd"; then
  ok "systemd-sysusers creates user sagad"
  if ((EUID == 0)); then
    systemd-tmpfiles --root="$root" --create "$PWD/systemd/sagad.tmpfiles.conf" &&
      [[ -d $root/var/lib/sagad && -d $root/etc/sagad && -d $root/run/sagad ]] &&
      ok "systemd-tmpfiles creates /etc/sagad, /var/lib/sagad, /run/sagad" || fail "systemd-tmpfiles"
  else
    echo "check-ops: skip systemd-tmpfiles (not root)"
  fi
else
  fail "systemd-sysusers systemd/sagad.sysusers.conf"
fi
# The example configuration uses only keys sagad knows.
if [[ -n ${CHECK_OPS_SAGAD:-} && -x $CHECK_OPS_SAGAD ]]; then
  "$CHECK_OPS_SAGAD" check-config --config systemd/sagad.yaml >/dev/null &&
    ok "sagad check-config --config systemd/sagad.yaml" || fail "sagad check-config --config systemd/sagad.yaml"
else
  echo "check-ops: skip sagad check-config (no built sagad; CHECK_OPS_SAGAD=${CHECK_OPS_SAGAD:-})"
fi

if ((failures)); then
  printf 'check-ops: %d check(s) failed\n' "$failures" >&2
  exit 1
fi
echo "check-ops: all passed"
