#!/usr/bin/env bash
# The one per-shard command every recipe runs: shard INDEX (0-based, as the scheduler numbers its
# tasks: GitHub strategy.job-index, SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX) of COUNT, written
# as a sweep bundle into OUT_DIR. `perfsim sweep --shard` counts from 1, hence the + 1.
#
# Usage: sweep-shard.sh INDEX COUNT OUT_DIR
# Environment:
#   MATRIX   the matrix file (default: perf-reports/design-comparison/matrix.json)
#   PERFSIM  the perfsim command (default: perfsim, as `dotnet tool install` puts it on PATH)
# Bad input: one line on stderr, exit 2, nothing written. Otherwise perfsim's exit code
# (0 ok, 1 an invariant violation in a run, 2 unusable input).
set -euo pipefail

usage='usage: sweep-shard.sh INDEX COUNT OUT_DIR (INDEX 0..COUNT-1, COUNT >= 1)'
if [ "$#" -ne 3 ]; then
    echo "sweep-shard.sh: expected 3 arguments, got $#; $usage" >&2
    exit 2
fi
index=$1 count=$2 out=$3
# Digits only, at most 9 of them: no sign, no leading +, no octal surprise in $(( )).
if ! [[ "$count" =~ ^[0-9]{1,9}$ ]] || [ "$((10#$count))" -lt 1 ]; then
    echo "sweep-shard.sh: COUNT must be an integer >= 1, got '$count'; $usage" >&2
    exit 2
fi
if ! [[ "$index" =~ ^[0-9]{1,9}$ ]] || [ "$((10#$index))" -ge "$((10#$count))" ]; then
    echo "sweep-shard.sh: INDEX must be an integer in 0..$((10#$count - 1)), got '$index'; $usage" >&2
    exit 2
fi
if [ -z "$out" ]; then
    echo "sweep-shard.sh: OUT_DIR must not be empty; $usage" >&2
    exit 2
fi

# PERFSIM may be a command with arguments (e.g. "dotnet /path/perfsim.dll"): split on spaces.
read -r -a perfsim <<< "${PERFSIM:-perfsim}"
exec "${perfsim[@]}" sweep --matrix "${MATRIX:-perf-reports/design-comparison/matrix.json}" \
    --shard "$((10#$index + 1))/$((10#$count))" --out "$out"
