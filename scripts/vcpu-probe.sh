#!/usr/bin/env bash
# Is one of this machine's CPUs slowed by the host? Runs the same one-thread 4 GiB per-folio guest
# boot pinned to each online CPU and prints M simulated faults per wall second for each. On a
# shared VM one vCPU can run ~1.5x slower than the other for minutes (docs/engine.md, sixth
# session); a two-thread run then always has a thread there, so take wall-clock A/B figures only
# in paired rounds, each after this probe.
#   scripts/vcpu-probe.sh path/to/perfsim.dll
set -euo pipefail
dll=${1:?path to perfsim.dll}
for cpu in $(seq 0 $(($(nproc) - 1))); do
  rate=$(taskset -c "$cpu" dotnet "$dll" run --no-report --format json --strategy per-folio \
      --guest-memory 4G --ram 32G --vcpus 32 --cpus 64 --populate-fraction 0 --threads 1 |
    python3 -c "import json, sys; print('%.3f' % (json.load(sys.stdin)['wall']['faults_per_wall_second'] / 1e6))")
  printf 'cpu%s=%s ' "$cpu" "$rate"
done
echo
