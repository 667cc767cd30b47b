#!/usr/bin/env python3
"""Host time per simulated fault spent in the lanes (CpuLane.RunLocal and all it calls), for two
perfsim builds run interleaved, from perf samples (docs/engine.md, "The lane's fault path").

    scripts/lane-ns.py OLD_DIR NEW_DIR RUNS STRATEGY THREADS [extra perfsim run options...]

OLD_DIR and NEW_DIR hold perfsim.dll (a build's bin/Release/net10.0). Each run is issue 19's
guest boot (16 GiB guest, 32 GiB RAM, 32 vCPUs, 64 CPUs, nothing populated) under
`perf record -F 1000 -g`; the lane's share is CpuLane.RunLocal's inclusive share of the samples
times perf's event count (cpu-clock, ns of CPU time on every thread), divided by the faults.
CPU time, not wall time: it counts only while a thread runs, so it moves far less with the
machine's load than faults per wall second do (perf's own unwinding adds ~10%, to both builds).
Prints medians and ranges per build, the digests (which must agree) and the load.
"""
import json
import os
import re
import statistics
import subprocess
import sys


def run(dll, strategy, threads, extra):
    env = dict(os.environ, DOTNET_PerfMapEnabled="1", DOTNET_EnableWriteXorExecute="0")
    data = "/tmp/lane-ns.%d.data" % os.getpid()
    cmd = ["perf", "record", "-q", "-F", "1000", "-g", "-o", data, "dotnet", dll, "run", "--no-report",
           "--format", "json", "--strategy", strategy, "--guest-memory", "16G", "--ram", "32G",
           "--vcpus", "32", "--cpus", "64", "--populate-fraction", "0", "--threads", threads] + extra
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode not in (0, 1):  # 1: the run found invariant violations; its report stands
        sys.exit(f"perfsim exited {done.returncode}: {done.stderr.strip()}")
    out = done.stdout
    report = json.loads(out)
    faults = report["wall"]["faults_per_wall_second"] * report["wall"]["seconds"]
    text = subprocess.run(["perf", "report", "-i", data, "--children", "--sort", "symbol", "-g", "none"],
                          capture_output=True, text=True, check=True).stdout
    os.remove(data)
    events = float(re.search(r"Event count \(approx.\): (\d+)", text).group(1))
    share = max((float(m.group(1)) for line in text.splitlines() if "CpuLane::RunLocal" in line
                 for m in [re.match(r"\s*([\d.]+)%", line)] if m), default=0.0)
    return share / 100 * events / faults, report["wall"]["faults_per_wall_second"] / 1e6, report["digest"]


def main():
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    builds = {"old": sys.argv[1] + "/perfsim.dll", "new": sys.argv[2] + "/perfsim.dll"}
    runs, strategy, threads, extra = int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6:]
    lane = {k: [] for k in builds}
    wall = {k: [] for k in builds}
    digests = {k: set() for k in builds}
    loads = []
    for i in range(runs):
        order = list(builds.items()) if i % 2 == 0 else list(builds.items())[::-1]
        for name, dll in order:
            ns, mps, digest = run(dll, strategy, threads, extra)
            lane[name].append(ns)
            wall[name].append(mps)
            digests[name].add(digest)
            loads.append(os.getloadavg()[0])
    for name in builds:
        ln, w = lane[name], wall[name]
        print(f"{name}: lane {statistics.median(ln):.0f} ns/fault ({min(ln):.0f}-{max(ln):.0f}), "
              f"{statistics.median(w):.3f} M faults/wall s ({min(w):.3f}-{max(w):.3f}), digest {' '.join(sorted(digests[name]))}")
    print(f"lane new/old {statistics.median(lane['new']) / statistics.median(lane['old']):.3f}, "
          f"load {min(loads):.1f}-{max(loads):.1f}, {strategy}, --threads {threads}")
    sys.exit(0 if digests["old"] == digests["new"] and len(digests["old"]) == 1 else 1)


if __name__ == "__main__":
    main()
