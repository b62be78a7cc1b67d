#!/usr/bin/env bash
# Instructions per complete 2FA flow through auth-core, beside the bare serde_json work on
# the same bodies, counted by callgrind (repeatable whatever else the machine is doing).
# Needs valgrind. Usage: scripts/bench-core-instructions.sh [FLOWS]
set -euo pipefail
cd "$(dirname "$0")/.."
flows=${1:-10000}
bin=$(cargo bench -p auth-core --bench instructions --no-run --message-format=json 2>/dev/null \
  | grep -o '"executable":"[^"]*instructions[^"]*"' | tail -1 | cut -d'"' -f4)
count() { # side flows -> instructions
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
declare -A per_flow
for side in baseline machine; do
  empty=$(count "$side" 0)
  full=$(count "$side" "$flows")
  per_flow[$side]=$(( (full - empty) / flows ))
done
printf 'instructions per 2FA flow (%s flows, callgrind)\n' "$flows"
printf '  serde_json baseline: %s\n' "${per_flow[baseline]}"
printf '  auth-core flow:      %s\n' "${per_flow[machine]}"
awk -v m="${per_flow[machine]}" -v b="${per_flow[baseline]}" 'BEGIN { printf "  ratio:               %.2f (goal: at most 1.40)\n", m / b }'
