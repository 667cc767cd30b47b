#!/usr/bin/env bash
# Digests of a perfsim build over every scenario x strategy x arch that `perfsim run` lists, at
# small sizes, on --threads 1 and 2. Speed work must move no simulated figure: record the digests
# of the commit you start from once, then check each change against them before committing.
#   scripts/digest-matrix.sh record BASE/perfsim.dll > base-digests.txt
#   scripts/digest-matrix.sh check NEW/perfsim.dll base-digests.txt
# A line is "scenario strategy arch: exit-code digest"; check prints the lines that differ (or
# whose two thread counts disagree) and exits 1 if there is any.
set -u
mode=${1:?record or check}; dll=${2:?perfsim.dll}
scenarios="guest-boot populate secretmem-touch vm-churn snapshot-restore tlb-flush2"
strategies="none per-folio per-folio-v12 filemap unmapped-alloc"
arches="x86_64 x86_64-invlpgb arm64 arm64-bbml2"
size=(--cpus 8 --vcpus 4 --ram 1G --guest-memory 128M --pages 2048 --passes 2 --loops 200 --vms 2)
digest() { # threads args... -> "rc digest"
  local t=$1; shift
  local out rc
  out=$(dotnet "$dll" run --no-report --format json --threads "$t" "$@" 2>/dev/null); rc=$?
  printf '%s %s' "$rc" "$(printf '%s' "$out" | grep -o '"digest": *"[0-9a-f]*"' | grep -o '[0-9a-f]\{8,\}')"
}
fail=0
for s in $scenarios; do for x in $strategies; do for a in $arches; do
  args=(--scenario "$s" --strategy "$x" --arch "$a" "${size[@]}")
  one=$(digest 1 "${args[@]}"); two=$(digest 2 "${args[@]}")
  line="$s $x $a: $one"
  [[ "$one" == "$two" ]] || { echo "THREADS $s $x $a: 1 thread $one, 2 threads $two"; fail=1; }
  if [[ $mode == record ]]; then echo "$line"
  elif ! grep -qxF "$line" "${3:?base digests}"; then echo "DIFF $line (base: $(grep -F "$s $x $a:" "$3"))"; fail=1; fi
done; done; done
[[ $mode == check ]] && echo "$(grep -c . "$3") cases: $([[ $fail == 0 ]] && echo 'all identical' || echo 'DIFFERENCES')"
exit $fail
