#!/usr/bin/env bash
# Fails when a target imports, or Package.swift lets it depend on, a module the module graph
# does not allow it. The graph is the "allowed imports" block of Docs/architecture.md
# ("Modules"): one line per target, `Target: Module …`, plus a `*` line for what every target
# may import. The block is the only copy; this script only reads it.
#
# Checked: every `import X` line (also `public`, `@testable`, `import struct X.Y`, …) of every
# Swift file under Sources/<Target>/ and Tests/<Target>/ (a directory is a target), and
# every target dependency `swift package dump-package` reports. `make lint` runs it.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly TABLE=Docs/architecture.md
readonly BEGIN='<!-- allowed-imports:begin -->'
readonly END='<!-- allowed-imports:end -->'

# `Target : A B` starts a target's line; an indented line continues the one above. The
# `*` line is kept under a key no target can have.
readonly EVERYWHERE="(every target)"
declare -A allowed=()
target=""
while IFS= read -r line; do
  if [[ $line =~ ^([A-Za-z_*][A-Za-z0-9_]*)[[:space:]]*:(.*)$ ]]; then
    target=${BASH_REMATCH[1]/#\*/$EVERYWHERE}
    allowed[$target]=" "
    line=${BASH_REMATCH[2]}
  elif [[ -z $target || ! $line =~ ^[[:space:]] ]]; then
    continue
  fi
  for module in $line; do allowed[$target]+="$module "; done
done < <(sed -n "/^$BEGIN\$/,/^$END\$/p" "$TABLE")

if ((${#allowed[@]} < 2)); then
  echo "check-imports: no allowed-imports block in $TABLE" >&2
  exit 1
fi

failures=0
fail() {
  echo "check-imports: $*" >&2
  failures=$((failures + 1))
}

may_import() { # TARGET MODULE
  [[ ${allowed[$EVERYWHERE]:-} == *" $2 "* || ${allowed[$1]} == *" $2 "* ]]
}

# Imports, file by file. Matches what Swift accepts at the start of a line: attributes,
# an access level, and a kind for a single-declaration import (`import struct GRDB.Row`).
readonly IMPORT='^[[:space:]]*(@[A-Za-z_]+[[:space:]]+)*((public|package|internal|fileprivate|private)[[:space:]]+)?import[[:space:]]+((struct|class|enum|protocol|typealias|func|var|let)[[:space:]]+)?[A-Za-z_][A-Za-z0-9_]*'
files=0
targets=0
for directory in Sources/*/ Tests/*/; do
  target=$(basename "$directory")
  mapfile -t sources < <(find "$directory" -name '*.swift' | sort)
  ((${#sources[@]} > 0)) || continue
  targets=$((targets + 1))
  if [[ -z ${allowed[$target]+set} ]]; then
    fail "$directory: target $target has no line in the allowed-imports block of $TABLE"
    continue
  fi
  for file in "${sources[@]}"; do
    files=$((files + 1))
    while IFS=: read -r number text; do
      module=$(grep -oE "$IMPORT" <<<"$text" | awk '{ print $NF }')
      may_import "$target" "$module" ||
        fail "$file:$number: $target may not import $module (allowed:${allowed[$target]}; $TABLE, \"Modules\")"
    done < <(grep -nE "$IMPORT" "$file" || true)
  done
done

# Package.swift: a target may list only what it may import (targets and products alike).
declare -A manifest=()
while read -r target dependencies; do
  manifest[$target]=$dependencies
done < <(swift package dump-package | python3 -c '
import json, sys
for target in json.load(sys.stdin)["targets"]:
    names = [next(iter(dependency.values()))[0] for dependency in target["dependencies"]]
    print(target["name"], " ".join(names))
')
for target in "${!manifest[@]}"; do
  if [[ -z ${allowed[$target]+set} ]]; then
    fail "Package.swift: target $target has no line in the allowed-imports block of $TABLE"
    continue
  fi
  for dependency in ${manifest[$target]}; do
    may_import "$target" "$dependency" ||
      fail "Package.swift: $target depends on $dependency, which it may not import ($TABLE, \"Modules\")"
  done
done

if ((failures > 0)); then
  echo "check-imports: $failures import(s) break the module graph" >&2
  exit 1
fi
echo "check-imports: ok ($files files in $targets targets, ${#manifest[@]} targets in Package.swift)"
