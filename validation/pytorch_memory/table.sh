#!/usr/bin/env bash
# table.sh — the accuracy table of `--framework pytorch` against every measured run, in markdown
# (docs/validation/pytorch_memory.md). It runs the same Catch2 check CI runs, with the table
# printed. Usage: validation/pytorch_memory/table.sh [build dir, default build]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-build}/tests/llmplan_unit_tests
[ -x "$bin" ] || { echo "table.sh: $bin not built (scripts/test.sh builds it)" >&2; exit 1; }
LLMPLAN_PRINT_TABLE=1 "$bin" "pytorch profile: every measured run within its tolerance (held out 3% peak and 5% reserved)" | grep -E '^\||^$' | cat -s
