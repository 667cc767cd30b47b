#!/usr/bin/env bash
# Host time per simulated fault against the vCPU count: one-thread x86 per-folio guest boots,
# 4 GiB guest, 32 GiB RAM, CPUs = max(64, 2 x vCPUs), RUNS runs per count, each count's runs one
# after another. Prints each count's median ns per fault (1e9 / faults per wall second) and the
# least-squares line through the medians: the intercept is the host work a fault costs whatever
# the vCPU count (lanes, log and weave entries), the slope what each vCPU adds to every fault (the
# call queue's pricing of each target and the weave's per-CPU scans and delays; docs/engine.md,
# "Speed", fourteenth session).
#   scripts/vcpu-scaling.sh path/to/perfsim.dll [RUNS] [VCPU COUNTS...]
set -euo pipefail
dll=${1:?path to perfsim.dll}; runs=${2:-3}; shift $(($# < 2 ? $# : 2))
counts=("$@")
if [[ ${#counts[@]} == 0 ]]; then
  counts=(8 16 32 64 128 256)
fi
for v in "${counts[@]}"; do
  cpus=$((2 * v > 64 ? 2 * v : 64))
  for _ in $(seq "$runs"); do
    dotnet "$dll" run --no-report --format json --threads 1 --strategy per-folio --guest-memory 4G \
        --ram 32G --vcpus "$v" --cpus "$cpus" --populate-fraction 0 |
      python3 -c "import json, sys; print($v, 1e9 / json.load(sys.stdin)['wall']['faults_per_wall_second'])"
  done
done | python3 -c '
import statistics, sys
runs = {}
for line in sys.stdin:
    v, ns = line.split()
    runs.setdefault(int(v), []).append(float(ns))
xs, ys = list(runs), [statistics.median(r) for r in runs.values()]
for v, r, m in zip(xs, runs.values(), ys):
    print(f"vcpus {v:4d}: {m:7.0f} ns per fault (median of {len(r)}, {min(r):.0f}-{max(r):.0f})")
if len(xs) > 1:
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    print(f"fit: {my - slope * mx:.0f} ns + {slope:.2f} ns x vCPUs")
'
