#!/usr/bin/env bash
# Keeps the data flow one-way: capture -> packet -> fingerprint -> db ->
# analyzer -> report -> app. A module may include only the modules listed
# for it here; anything else is a layering violation and fails the build's
# test suite. store/ knows no protocol; server/ knows no packets and no
# profiles (it only moves requests to a Handler); api/ answers them from the
# store.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A allowed=(
  [util]="util"
  [packet]="util packet"
  [capture]="util packet capture"
  [flow]="util packet flow"
  [fingerprint]="util packet flow fingerprint"
  [db]="util fingerprint db"
  [analyzer]="util packet flow fingerprint db analyzer"
  [report]="util packet flow fingerprint db analyzer report"
  [store]="util packet analyzer store"
  [server]="util packet server"
  [api]="util packet analyzer store server api"
  [realtime]="util packet analyzer store server realtime"
  [app]="util packet capture flow fingerprint db analyzer report store server api realtime app"
)

status=0
for module in "${!allowed[@]}"; do
  for dir in "include/huginn/$module" "src/$module"; do
    [[ -d $dir ]] || continue
    while IFS= read -r line; do
      file=${line%%:*}
      dep=$(sed -E 's/.*#include "huginn\/([a-z_0-9]+)\/.*/\1/' <<<"$line")
      if [[ " ${allowed[$module]} " != *" $dep "* ]]; then
        echo "layering: $file includes huginn/$dep/ but $module may use only: ${allowed[$module]}"
        status=1
      fi
    done < <(grep -rn '#include "huginn/' "$dir" || true)
  done
done
[[ $status -eq 0 ]] && echo "layering: ok"
exit $status
