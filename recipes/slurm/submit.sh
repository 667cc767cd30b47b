#!/usr/bin/env bash
# Submits a PerfSim sweep as a Slurm job array plus a merge job that starts when every shard
# succeeded. Run it on a login node, from anywhere; SWEEP_DIR must be on a filesystem the compute
# nodes share (it receives the package, the tool, the shards, the logs and the merged bundle).
#
# Usage: recipes/slurm/submit.sh SWEEP_DIR
# Environment (all optional):
#   SHARDS=4      number of array tasks (0..SHARDS-1), one shard each
#   MATRIX=...    matrix file (default: perf-reports/design-comparison/matrix.json)
#   SBATCH_ARGS   extra sbatch options for both jobs, e.g. "--partition=short --account=me"
# The compute nodes need a .NET 10 runtime: on PATH or in DOTNET_ROOT (exported to the jobs).
set -euo pipefail
cd "$(dirname "$0")/../.."   # the repository root: the jobs' submit directory

if [ "$#" -ne 1 ]; then
    echo "submit.sh: expected SWEEP_DIR (a new directory on a shared filesystem)" >&2
    exit 2
fi
SWEEP_DIR=$(realpath -m "$1")
SHARDS=${SHARDS:-4}
MATRIX=$(realpath "${MATRIX:-perf-reports/design-comparison/matrix.json}")
if ! [[ "$SHARDS" =~ ^[1-9][0-9]{0,8}$ ]]; then
    echo "submit.sh: SHARDS must be an integer >= 1, got '$SHARDS'" >&2
    exit 2
fi
# A fresh directory: stale shards of an earlier sweep would be merged (or refused) otherwise,
# and the tool is installed from the package packed now, not an older one.
if [ -e "$SWEEP_DIR" ] && [ -n "$(ls -A "$SWEEP_DIR")" ]; then
    echo "submit.sh: SWEEP_DIR '$SWEEP_DIR' is not empty; give a new directory" >&2
    exit 2
fi
mkdir -p "$SWEEP_DIR/logs"

# The README's install path, once, into the shared directory: every task runs the same build.
dotnet pack src/PerfSim.Cli -c Release -o "$SWEEP_DIR/package" -v q -nologo
dotnet tool install PerfSim.Cli --tool-path "$SWEEP_DIR/tools" --add-source "$SWEEP_DIR/package"
export PATH="$SWEEP_DIR/tools:$PATH" SWEEP_DIR SHARDS MATRIX

read -r -a extra <<< "${SBATCH_ARGS:-}"
shards=$(sbatch --parsable "${extra[@]}" --array="0-$((SHARDS - 1))" \
    --output="$SWEEP_DIR/logs/shard-%a.out" recipes/slurm/shard.sbatch)
shards=${shards%%;*}   # --parsable prints "jobid[;cluster]"
merge=$(sbatch --parsable "${extra[@]}" --dependency="afterok:$shards" \
    --output="$SWEEP_DIR/logs/merge.out" recipes/slurm/merge.sbatch)
merge=${merge%%;*}
echo "submitted: shards job $shards (array 0-$((SHARDS - 1))), merge job $merge after it;" \
    "bundle in $SWEEP_DIR/merged"
