#!/usr/bin/env bash
# Runs a PerfSim sweep on the current kubectl context: the matrix as a ConfigMap, the Indexed Job
# of shards, then (once every index succeeded) the merge Job, then copies the merged bundle out
# of the shared volume into OUT_DIR through a short-lived helper pod.
#
# Usage: recipes/kubernetes/run.sh OUT_DIR
# Environment: MATRIX (default perf-reports/design-comparison/matrix.json), NAMESPACE (default:
# the context's), TIMEOUT seconds per Job (default 7200). Build and push the image first
# (Dockerfile) and set `image:` in both manifests to it.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$#" -ne 1 ]; then
    echo "run.sh: expected OUT_DIR (where the merged bundle is copied)" >&2
    exit 2
fi
out=$1
here=recipes/kubernetes
kc=(kubectl ${NAMESPACE:+--namespace "$NAMESPACE"})
timeout=${TIMEOUT:-7200}

# Waits until job/$1 is Complete (0) or Failed (1): `kubectl wait --for=condition=complete`
# alone would sit until its timeout on a failed Job.
await() {
    local deadline=$((SECONDS + timeout)) state
    while [ "$SECONDS" -lt "$deadline" ]; do
        state=$("${kc[@]}" get "job/$1" -o jsonpath='{.status.conditions[?(@.status=="True")].type}')
        case " $state " in
            *" Failed "*) echo "run.sh: job/$1 failed; see kubectl logs -l job-name=$1" >&2; return 1 ;;
            *" Complete "*) return 0 ;;
        esac
        sleep 10
    done
    echo "run.sh: job/$1 not finished after ${timeout}s" >&2
    return 1
}

# A Job's pod template is immutable: earlier runs' Jobs go first (the volume is kept).
"${kc[@]}" delete job perfsim-shards perfsim-merge --ignore-not-found
"${kc[@]}" create configmap perfsim-matrix \
    --from-file=matrix.json="${MATRIX:-perf-reports/design-comparison/matrix.json}" \
    --dry-run=client -o yaml | "${kc[@]}" apply -f -
"${kc[@]}" apply -f "$here/shards-job.yaml"
await perfsim-shards
"${kc[@]}" apply -f "$here/merge-job.yaml"
await perfsim-merge

# Copy the bundle out: kubectl cp needs a running pod with tar that mounts the volume.
"${kc[@]}" run perfsim-fetch --image=busybox:1.36 --restart=Never \
    --overrides='{"spec":{"volumes":[{"name":"sweep","persistentVolumeClaim":{"claimName":"perfsim-sweep"}}],
      "containers":[{"name":"perfsim-fetch","image":"busybox:1.36","command":["sleep","600"],
      "volumeMounts":[{"name":"sweep","mountPath":"/sweep"}]}]}}'
"${kc[@]}" wait --for=condition=Ready pod/perfsim-fetch --timeout=300s
"${kc[@]}" cp perfsim-fetch:/sweep/merged "$out"
"${kc[@]}" delete pod perfsim-fetch --wait=false
echo "run.sh: merged sweep in $out (sweep.json, report.md, report.csv, charts)"
