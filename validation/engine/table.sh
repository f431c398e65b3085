#!/usr/bin/env bash
# table.sh — the step-time table of docs/validation/gpu_engine.md: every run of validation/engine
# (run_matrix.sh) against the planner's prediction from calibration/h100.json (calibrate.sh),
# recomputed by the same Catch2 check CI runs, printed in markdown.
# Usage: validation/engine/table.sh [build dir, default build]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-build}/tests/llmplan_unit_tests
[ -x "$bin" ] || { echo "table.sh: $bin not built (scripts/test.sh builds it)" >&2; exit 1; }
LLMPLAN_PRINT_TABLE=1 "$bin" "engine time: predicted step time of the H100 matrix within 10% of measured" | sed -n '/^|/,/^worst/p'
