#!/usr/bin/env bash
# Every figure of docs/performance.md in one run, each beside its baseline, then one table
# (figure, value, baseline, ratio, goal, met?).
#
#   scripts/bench-all.sh
#
# About three minutes on 2 cores once built (the build comes first and is not timed). Runs:
#   auth-core:  heap allocations (dhat), instructions (callgrind; skipped without valgrind),
#               time per flow (criterion, --quick);
#   auth-ureq:  the Client against raw ureq, the Client against the official Node SDK
#               (skipped, with the reason, where node 18+ is missing);
#   auth-reqwest: the async Client against raw reqwest, against the Node SDK, and 10,000
#               in-app validations held at once (about 15 s of it);
#   auth-sim:   the simulator under load (64 clients; 1,000 and 100,000 pending intents);
#   auth-web:   64 users through the form's pages, SQLite and Redis stores, beside the bare
#               async client (needs redis-server).
# The full output of each step is kept in a temporary directory, named at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp -d "${TMPDIR:-/tmp}/bench-all.XXXXXX")
rows="$out/rows"
: >"$rows"

step() { printf '\n== %s\n' "$1"; }
# row FIGURE VALUE BASELINE RATIO GOAL MET
row() { printf 'row: %s | %s | %s | %s | %s | %s\n' "$@" >>"$rows"; }

step "machine"
{
  printf 'cpus: %s, %s\n' "$(nproc)" "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  printf 'memory: %s MiB\n' "$(awk '/^MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)"
  printf 'load average at start: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'rustc: %s; node: %s\n' "$(rustc --version)" "$(node --version 2>/dev/null || echo 'not installed')"
} | tee "$out/machine"

step "build (not timed)"
cargo bench -p auth-core -p auth-ureq -p auth-reqwest -p auth-sim -p auth-web --no-run 2>&1 | tail -n 3

step "auth-core: heap allocations per 2FA flow"
cargo bench -q -p auth-core --bench allocations | tee "$out/allocations"
awk '/serde_json baseline:/ { b = $NF } /auth-core flow:/ { m = $NF }
     END { if (b > 0) printf "row: core heap allocations per flow | %s | %s | %.2f | - | -\n", m, b, m / b }' \
  "$out/allocations" >>"$rows"

step "auth-core: instructions per 2FA flow (callgrind)"
if command -v valgrind >/dev/null; then
  scripts/bench-core-instructions.sh | tee "$out/instructions"
  awk '/serde_json baseline:/ { b = $NF } /auth-core flow:/ { m = $NF }
       END { if (b > 0) printf "row: core instructions per flow | %s | %s | %.2f | <= 1.50 | %s\n",
             m, b, m / b, (m / b <= 1.5 ? "yes" : "NO") }' "$out/instructions" >>"$rows"
else
  echo "SKIPPED: valgrind is not installed"
  row "core instructions per flow" "-" "-" "-" "<= 1.50" "skipped: no valgrind"
fi

step "auth-core: time per 2FA flow (criterion, --quick)"
cargo bench -q -p auth-core --bench flow -- --quick 2>/dev/null | tee "$out/flow"
# `2fa_flow/NAME  time:   [low unit middle unit high unit]`: the middle estimate, in ns.
awk 'function ns(v, u) { return u == "ps" ? v / 1000 : u == "ns" ? v : u ~ /^(µs|us)$/ ? v * 1000 : u == "ms" ? v * 1e6 : v * 1e9 }
     /^2fa_flow\// { name = $1 }
     /time:/ { sub(/.*\[/, ""); t = ns($3, $4)
               if (name ~ /baseline/) b = t; else if (name ~ /auth_core/) m = t }
     END { if (b > 0) printf "row: core time per flow | %.0f ns | %.0f ns | %.2f | <= 1.50 | %s\n",
           m, b, m / b, (m / b <= 1.5 ? "yes" : "NO") }' "$out/flow" >>"$rows"

step "auth-ureq: the Client against raw ureq"
cargo bench -q -p auth-ureq --bench client_vs_ureq | tee "$out/client_vs_ureq"
grep '^row: ' "$out/client_vs_ureq" >>"$rows" || true

step "auth-ureq: the Client against the official Node SDK"
cargo bench -q -p auth-ureq --bench client_vs_node | tee "$out/client_vs_node"
grep '^row: ' "$out/client_vs_node" >>"$rows" || true

step "auth-reqwest: the async Client against raw reqwest"
cargo bench -q -p auth-reqwest --bench client_vs_reqwest | tee "$out/reqwest_client_vs_reqwest"
grep '^row: ' "$out/reqwest_client_vs_reqwest" >>"$rows" || true

step "auth-reqwest: the async Client against the official Node SDK"
cargo bench -q -p auth-reqwest --bench client_vs_node | tee "$out/reqwest_client_vs_node"
grep '^row: ' "$out/reqwest_client_vs_node" >>"$rows" || true

step "auth-reqwest: 10,000 in-app validations held at once"
cargo bench -q -p auth-reqwest --bench held_flows | tee "$out/reqwest_held_flows"
grep '^row: ' "$out/reqwest_held_flows" >>"$rows" || true

step "auth-sim: the simulator under load"
cargo bench -q -p auth-sim --bench load | tee "$out/load"
grep '^row: ' "$out/load" >>"$rows" || true

step "auth-web: 64 users through the form's pages"
cargo bench -q -p auth-web --bench form | tee "$out/form"
grep '^row: ' "$out/form" >>"$rows" || true

step "summary (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
awk -F' [|] ' '
  # Display width: "µ" and "×" are two bytes, one column.
  function width(text) { gsub(/µ|×/, "u", text); return length(text) }
  function cellout(text, i) { printf "%s%*s%s", text, w[i] - width(text), "", (i < 6 ? " | " : "\n") }
  { sub(/^row: /, ""); n++; for (i = 1; i <= NF; i++) { cell[n, i] = $i; if (width($i) > w[i]) w[i] = width($i) } }
  END {
    split("figure|value|baseline|ratio|goal|met?", head, "|")
    for (i = 1; i <= 6; i++) if (length(head[i]) > w[i]) w[i] = length(head[i])
    for (i = 1; i <= 6; i++) cellout(head[i], i)
    for (i = 1; i <= 6; i++) { s = sprintf("%*s", w[i], ""); gsub(/ /, "-", s); printf "%s%s", s, (i < 6 ? "-|-" : "\n") }
    for (r = 1; r <= n; r++) for (i = 1; i <= 6; i++) cellout(cell[r, i], i)
  }' "$rows"
printf '\nfull output: %s\n' "$out"
