#!/usr/bin/env bash
# One-thread A/B of two perfsim builds run at the same time, one per core, the cores swapped every
# half round: both builds see the same minutes, and a core the host slows down slows each of them
# once per round. A round's ratio is the geometric mean of its two placements' B/A.
#   scripts/pair-ab.sh ROUNDS A/perfsim.dll B/perfsim.dll [perfsim run options]
# Default options: issue 19's configuration (x86 per-folio guest boot, 16 GiB guest, 32 vCPUs,
# 64 CPUs). Needs two cores and taskset. Prints each round (M faults per wall second, digests) and
# the median and range of the ratios (docs/engine.md, "Speed", twelfth session).
set -euo pipefail
rounds=${1:?rounds}; a=${2:?A perfsim.dll}; b=${3:?B perfsim.dll}; shift 3
options=("$@")
if [[ ${#options[@]} == 0 ]]; then
  options=(--strategy per-folio --guest-memory 16G --ram 32G --vcpus 32 --cpus 64 --populate-fraction 0)
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
one() { # core dll out
  taskset -c "$1" dotnet "$2" run --no-report --format json --threads 1 "${options[@]}" |
    python3 -c "import json,sys; d=json.load(sys.stdin); print(d['wall']['faults_per_wall_second'] / 1e6, d['digest'])" > "$3"
}
for r in $(seq "$rounds"); do
  one 0 "$a" "$work/a0" & one 1 "$b" "$work/b1" & wait
  one 1 "$a" "$work/a1" & one 0 "$b" "$work/b0" & wait
  python3 - "$work" "$r" <<'PY' | tee -a "$work/ratios"
import sys
w, r = sys.argv[1], sys.argv[2]
(a0, da), (a1, _), (b0, db), (b1, _) = [open(f'{w}/{n}').read().split() for n in ('a0', 'a1', 'b0', 'b1')]
a0, a1, b0, b1 = map(float, (a0, a1, b0, b1))
print(f'round {r}: A {a0:.3f} {a1:.3f}  B {b0:.3f} {b1:.3f}  B/A {((b0 / a0) * (b1 / a1)) ** 0.5:.4f}  digests {da} {db}')
PY
done
python3 - "$work/ratios" <<'PY'
import statistics, sys
ratios = [float(line.split('B/A ')[1].split()[0]) for line in open(sys.argv[1])]
print(f'B/A median {statistics.median(ratios):.4f} (range {min(ratios):.4f}-{max(ratios):.4f}, {len(ratios)} rounds)')
PY
