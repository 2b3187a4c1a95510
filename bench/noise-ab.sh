#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The A/B of the project's own stock and patched kernels twice: once on an
# idle host, once with both CPUs kept busy by CPU hogs, verdicts side by
# side.  The gate may say "regression" in neither (the patch leaves every
# bystander unchanged).  In the default mode (icount where KVM cannot run)
# the two runs must agree exactly; under --mode tcg the loaded run may say
# "inconclusive", never "regression".  A benchmark, not a test: run it as
# root, it takes two A/Bs.
#
#   bench/noise-ab.sh [ab options]        e.g. --mode tcg, --kernel 6.12
#
# Exits 1 if either A/B exits 1.
set -euo pipefail

PROG=noise-ab.sh
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PMB_TOP=$TOP
# shellcheck source=../lib/common.sh
. "$TOP/lib/common.sh"
[ "$(id -u)" = 0 ] || skip "needs root, as ./run.sh ab does"

HOGS=()
stop_hogs() {
	local p
	for p in ${HOGS[@]+"${HOGS[@]}"}; do kill "$p" 2> /dev/null || true; done
	for p in ${HOGS[@]+"${HOGS[@]}"}; do wait "$p" 2> /dev/null || true; done
	HOGS=()
}
trap stop_hogs EXIT INT TERM

ab() {	# label -> "exit dir"
	local out rc=0
	out=$("$TOP/run.sh" ab --stock build --patched build "$@" 2> "$LOG.$LABEL") || rc=$?
	echo "$rc $(echo "$out" | tail -n1)"
}

LOG=$(mktemp "${TMPDIR:-/tmp}/noise-ab.XXXXXX")
LABEL=idle
read -r rc_idle dir_idle < <(ab "$@")
say "idle: exit $rc_idle, $dir_idle"
LABEL=loaded
for _ in $(seq 1 "$(nproc)"); do
	sh -c 'while :; do :; done' &
	HOGS+=($!)
done
read -r rc_load dir_load < <(ab "$@")
stop_hogs
say "loaded ($(nproc) CPU hogs): exit $rc_load, $dir_load"

# The verdicts side by side: one line per series, from each gate's compare.json.
/usr/bin/python3 - "$dir_idle/gate/report.md" "$dir_load/gate/report.md" "$rc_idle" "$rc_load" <<'PY'
import re, sys
def statuses(path):
    # The gate's "Per series: limit applied" lines: "- STATUS case:method:bB:qdQ: ratio R ..."
    out = {}
    for m in re.finditer(r"^- (PASS|FAIL|SKIP|INCONCLUSIVE) (\S+): (?:regression: )?ratio ([0-9.]+)", open(path).read(), re.M):
        out[m.group(2)] = f"{m.group(3)} {m.group(1)}"
    return out
idle, load = statuses(sys.argv[1]), statuses(sys.argv[2])
print(f'{"series":64} {"idle":20} {"2 CPU hogs":20}')
for k in idle:
    print(f'{k:64} {idle[k]:20} {load.get(k, "-"):20}')
print(f'gate exit: idle {sys.argv[3]}, loaded {sys.argv[4]}')
PY
rm -f "$LOG"*
[ "$rc_idle" != 1 ] && [ "$rc_load" != 1 ]
