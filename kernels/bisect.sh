#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Per-patch bisection of a series: build and boot the base, then base + 1,
# base + 2, ... patches, all under the same deterministic clock (icount where
# KVM cannot run), run the same matrix in each, and gate every step against
# the one before.  Names the first patch that changes correctness and the
# first that regresses beyond the policy, by subject and Message-Id.
#
#   kernels/bisect.sh [--tree DIR [--base REV] | --kernel 6.1|6.12] --series PATH
#                     [options] [run options]
set -euo pipefail

PROG=bisect.sh
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PMB_TOP=$TOP
# shellcheck source=../lib/common.sh
. "$TOP/lib/common.sh"
BIN=${PMB_BIN:-$TOP/build/bin}
RESULTS=${PMB_RESULTS:-$TOP/results}
USAGE_LINE="usage: ./run.sh bisect [--tree DIR [--base REV] | --kernel VERSION] --series PATH [options] [run options]"

# Small enough for N+1 boots under icount; wide enough to see a change in
# what shmem and private memory read back as, and in what reading them costs.
DEFAULT_RUN=(--kinds memfd,shared-anon,private-anon --swapout pageout --size 8M --dirty 100
	--swapped 50 --methods dense,sparse,batched,scan-ioctl --batches 64 --rounds 10 --warmup 2
	--series 2 --sparse-reads 64 --no-sequence)

usage() {
	cat <<USAGE
$USAGE_LINE

Boots the base and then the base plus the first 1, 2, ... patches of the
series, each under QEMU with the same matrix and the same deterministic
clock (icount where KVM cannot run), and gates every step against the one
before.  Names the first patch that changes correctness and the first that
regresses beyond the policy.

  --series PATH       a git format-patch directory or an mbox, as git am reads it
                      (a number is the run option --series N, states per case)
  --tree DIR          a git tree; --base REV its revision (default HEAD)
  --kernel VERSION    without --tree: Debian's linux-source-VERSION (default 6.12)
  --mode MODE         auto (default: kvm where it really works, else icount),
                      kvm, icount or tcg (wall time, noisy: on request only)
  --policy FILE       gate policy (default: the built-in one)
  --threshold PCT     gate threshold (default: the policy's)
  --timeout SEC       per boot (default 900)
  --mem MIB           guest memory (default 1024)
  --out DIR           write into DIR (default: a new results/bisect-<stamp>/)
  run options         appended to the bisection matrix, so they override it:
                      ${DEFAULT_RUN[*]}

Writes boots/, step-K/ (the gate of patch K against K-1) and bisect.txt, a
plain-text account (lines of at most 72 columns) for the mailing list.
Exit: 0 no patch broke correctness or regressed, 1 a patch regressed, 2 a
patch made a correct case incorrect, 3 harness or VM failure, 64 usage
error (a series that does not apply included), 77 cannot run here.
USAGE
}

REPRODUCE="./run.sh bisect $(quote_cmd "$@")"

TREE="" BASE="" VERSION="" SERIES="" MODE=auto POLICY="" THRESHOLD="" TIMEOUT=900 MEM=1024 OUT=""
RUN_ARGS=()
while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help) usage; exit 0 ;;
	--series)
		# A number is the run's own --series N (states per case), passed on;
		# anything else is the patch series.
		need_arg "$1" $#
		if [[ "$2" =~ ^[0-9]+$ ]] && [ ! -e "$2" ]; then RUN_ARGS+=("$1" "$2"); else SERIES=$2; fi
		shift 2 ;;
	--tree|--base|--kernel|--mode|--policy|--threshold|--timeout|--mem|--out)
		need_arg "$1" $#
		case "$1" in
		--tree) TREE=$2 ;; --base) BASE=$2 ;; --kernel) VERSION=$2 ;; --series) SERIES=$2 ;;
		--mode) MODE=$2 ;; --policy) POLICY=$2 ;; --threshold) THRESHOLD=$2 ;;
		--timeout) TIMEOUT=$2 ;; --mem) MEM=$2 ;; --out) OUT=$2 ;;
		esac
		shift 2 ;;
	*) RUN_ARGS+=("$1"); shift ;;
	esac
done
[ -n "$SERIES" ] || usage_err "--series PATH is required"
[ -e "$SERIES" ] || usage_err "--series: no file or directory $SERIES"
[ -z "$BASE" ] || [ -n "$TREE" ] || usage_err "--base REV needs --tree DIR"
[ -z "$TREE" ] || [ -d "$TREE" ] || usage_err "--tree: no directory $TREE"
case "$MODE" in auto|kvm|tcg|icount) ;; *) usage_err "--mode: '$MODE' is not auto, kvm, tcg or icount" ;; esac
[ -z "$POLICY" ] || [ -f "$POLICY" ] || usage_err "--policy: no file $POLICY"
is_uint "$TIMEOUT" && [ "$TIMEOUT" -gt 0 ] || usage_err "--timeout: '$TIMEOUT' is not a number of seconds"
is_uint "$MEM" && [ "$MEM" -ge 256 ] || usage_err "--mem: '$MEM' is not a size in MiB of at least 256"
[ -n "$TREE" ] || VERSION=${VERSION:-6.12}
check_run_options "$BIN/pmbench" "${DEFAULT_RUN[@]}" ${RUN_ARGS[@]+"${RUN_ARGS[@]}"}

# The series, one line per patch: K, subject, Message-Id or -, file.
LIST=$("$TOP/kernels/build.sh" --list-series "$SERIES") || exit $?
N=$(printf '%s\n' "$LIST" | grep -c . || true)
[ "$N" -gt 0 ] || usage_err "--series $SERIES holds no patch"
field() { printf '%s\n' "$LIST" | awk -F'\t' -v k="$1" -v f="$2" '$1 == k { print $f }'; }

SOURCE_ARGS=()
[ -z "$VERSION" ] || SOURCE_ARGS+=(--kernel "$VERSION")
[ -z "$TREE" ] || SOURCE_ARGS+=(--tree "$TREE" --rev "${BASE:-HEAD}")

if [ -n "$OUT" ]; then
	[ ! -e "$OUT/bisect.txt" ] || usage_err "--out: $OUT holds a bisection already"
	mkdir -p "$OUT/boots" || die "cannot create $OUT"
else
	mkdir -p "$RESULTS"
	OUT="$RESULTS/bisect-$(date -u +%Y%m%dT%H%M%SZ)"
	n=2
	while ! mkdir "$OUT" 2> /dev/null; do OUT="$RESULTS/bisect-$(date -u +%Y%m%dT%H%M%SZ)-$n"; n=$((n + 1)); done
	mkdir "$OUT/boots"
fi
say "bisecting $N patch(es) of $SERIES; results in $OUT"

# Every image first: a patch that does not apply stops here, before any boot.
IMG=()
START=$(date +%s)
for k in $(seq 0 "$N"); do
	progress "$k" "$((N + 1))" "$START" "build base + $k patch(es)"
	rc=0
	if [ "$k" -eq 0 ]; then
		IMG[k]=$("$TOP/kernels/build.sh" "${SOURCE_ARGS[@]}" --patches none) || rc=$?
	else
		IMG[k]=$("$TOP/kernels/build.sh" "${SOURCE_ARGS[@]}" --patches none --series "$SERIES" --upto "$k") || rc=$?
	fi
	case "$rc" in
	0) ;;
	"$PMB_EX_USAGE") exit "$PMB_EX_USAGE" ;;	# build.sh named the patch and the file
	*) die "building base + $k patch(es) failed" ;;
	esac
done

MODE=$("$TOP/kernels/vm.sh" --kernel "${IMG[0]}" --mode "$MODE" --print-mode) || exit $?
[ "$MODE" != tcg ] || warn "--mode tcg: wall time under emulation measures the host as much as the kernel"
export_tsc_khz
{
	echo "series: $SERIES ($N patches)"
	echo "source: ${SOURCE_ARGS[*]}  mode: $MODE"
	echo "run: ${DEFAULT_RUN[*]} ${RUN_ARGS[*]-}"
} > "$OUT/bisect-params.txt"

DIRS=()
START=$(date +%s)
for k in $(seq 0 "$N"); do
	progress "$k" "$((N + 1))" "$START" "boot base + $k patch(es) ($MODE)"
	rc=0
	out=$(PMB_KERNEL_IMAGE=${IMG[k]} "$TOP/kernels/vm.sh" --kernel "${IMG[k]}" --bin "$BIN" \
		--out "$OUT/boots" --mode "$MODE" --timeout "$TIMEOUT" --mem "$MEM" \
		-- run "${DEFAULT_RUN[@]}" ${RUN_ARGS[@]+"${RUN_ARGS[@]}"}) || rc=$?
	case "$rc" in
	0) ;;
	64|77) say "boot of base + $k: exit $rc"; exit "$rc" ;;
	*) die "the boot of base + $k patch(es) failed (exit $rc); see the console log named above" ;;
	esac
	[ -d "$out" ] || die "the boot of base + $k patch(es) brought no run directory back"
	DIRS[k]=$out
done
progress "$((N + 1))" "$((N + 1))" "$START" "boots done"

# What one step changed: correctness (cases whose verdict or wrong methods
# differ, from compare.json) and performance (series the gate failed).
step_summary() {	# step dir -> "fixed broke changed regressed" and the names
	/usr/bin/python3 - "$1" <<'PY'
import json, sys
d = sys.argv[1]
try:
    cmp = json.load(open(d + "/compare.json"))
except (OSError, ValueError) as e:
    print("ERROR", str(e)[:200])
    sys.exit(0)
fixed, broke, changed = [], [], []
for c in cmp.get("correctness", []):
    if not c.get("differs"):
        continue
    vb, vc = c.get("verdict_base"), c.get("verdict_cand")
    wb, wc = c.get("methods_wrong_base", "none"), c.get("methods_wrong_cand", "none")
    if vb == "correct" and vc == "incorrect":
        broke.append(c["case"])
    elif vb == "incorrect" and vc == "correct":
        fixed.append(c["case"])
    elif wb != wc or vb != vc:
        changed.append(c["case"])
regressed = []
try:
    for line in open(d + "/lava.txt"):
        if "RESULT=fail" in line and ".correctness " not in line and "kernel-log" not in line:
            regressed.append(line.split("TEST_CASE_ID=")[1].split()[0])
except OSError:
    pass
print(len(fixed), len(broke), len(changed), len(regressed))
for name, l in (("fixed", fixed), ("broke", broke), ("changed", changed), ("regressed", regressed)):
    print(name, ", ".join(l[:6]) + (", ..." if len(l) > 6 else ""))
PY
}

# Lines of at most 72 columns for a mail: words are never broken, so a
# Message-Id or a path longer than a line stands whole on a line of its own.
# "wrap INDENT" fills each paragraph of stdin (one per line) with INDENT on
# its continuation lines; "wrap cmd" continues a command with backslashes.
wrap() {
	/usr/bin/python3 -c '
import sys, textwrap
indent = sys.argv[1]
for para in sys.stdin.read().splitlines():
    if sys.argv[1] == "cmd":
        lines = textwrap.wrap(para, 70, initial_indent="  ", subsequent_indent="    ",
                              break_long_words=False, break_on_hyphens=False)
        print(" \\\n".join(lines))
        continue
    lead = para[:len(para) - len(para.lstrip())]
    print("\n".join(textwrap.wrap(para, 72, initial_indent="", subsequent_indent=lead + indent,
                                   break_long_words=False, break_on_hyphens=False)) or "")
' "$1"
}

FIRST_CORR="" FIRST_REGR="" ANY_BROKE=0 ANY_REGR=0
REPORT="$OUT/bisect.txt.tmp"
{
	echo "pagemap-bench bisect: $N patch(es), base $(basename "${TREE:-linux-source-$VERSION}")${BASE:+ at $BASE}"
	echo "Timing: $MODE; every step gated against the one before it."
	echo
} > "$REPORT"
for k in $(seq 1 "$N"); do
	gate=("$BIN/pmbench" gate "${DIRS[k - 1]}" "${DIRS[k]}" --out "$OUT/step-$k" --reproduce "$REPRODUCE")
	[ -z "$THRESHOLD" ] || gate+=(--threshold "$THRESHOLD")
	[ -z "$POLICY" ] || gate+=(--policy "$POLICY")
	grc=0
	"${gate[@]}" > "$OUT/step-$k.txt" 2>&1 || grc=$?
	case "$grc" in 0|1|2|4) ;; *) die "gating patch $k against $((k - 1)) failed (exit $grc; $OUT/step-$k.txt)" ;; esac
	mapfile -t S < <(step_summary "$OUT/step-$k")
	[ "${S[0]%% *}" != ERROR ] || die "step $k: ${S[0]}"
	read -r nfix nbroke nchg nregr <<< "${S[0]}"
	subject=$(field "$k" 2) msgid=$(field "$k" 3)
	what=()
	[ "$nfix" -eq 0 ] || what+=("fixes $nfix case(s): ${S[1]#fixed }")
	[ "$nbroke" -eq 0 ] || what+=("BREAKS $nbroke case(s): ${S[2]#broke }")
	[ "$nchg" -eq 0 ] || what+=("changes what $nchg case(s) read back: ${S[3]#changed }")
	[ "$nregr" -eq 0 ] || what+=("REGRESSES $nregr series beyond the policy: ${S[4]#regressed }")
	[ ${#what[@]} -gt 0 ] || what=("no change in correctness; no regression (gate exit $grc)")
	if [ $((nfix + nbroke + nchg)) -gt 0 ] && [ -z "$FIRST_CORR" ]; then FIRST_CORR=$k; fi
	if [ "$nregr" -gt 0 ] && [ -z "$FIRST_REGR" ]; then FIRST_REGR=$k; fi
	[ "$nbroke" -eq 0 ] || ANY_BROKE=1
	[ "$nregr" -eq 0 ] || ANY_REGR=1
	{
		echo "[$k/$N] $subject"
		[ "$msgid" = - ] || echo "      $msgid"
		for w in "${what[@]}"; do echo "      $w"; done
	} | wrap "  " >> "$REPORT"
done
name_patch() {	# k -> one line
	local m
	m=$(field "$1" 3)
	printf '%s: "%s"%s' "$1" "$(field "$1" 2)" "$([ "$m" = - ] || printf ' %s' "$m")"
}
{
	echo
	if [ -n "$FIRST_CORR" ]; then
		echo "First patch that changes correctness: $(name_patch "$FIRST_CORR")"
	else
		echo "No patch changes correctness."
	fi
	if [ -n "$FIRST_REGR" ]; then
		echo "First patch that regresses: $(name_patch "$FIRST_REGR")"
	else
		echo "No patch regresses beyond the policy."
	fi
	echo
	echo "Per step: $OUT/step-K/report.md"
} | wrap "  " >> "$REPORT"
{
	echo "Reproduce:"
	printf '%s\n' "$REPRODUCE" | wrap cmd
} >> "$REPORT"
mv "$REPORT" "$OUT/bisect.txt"
cat "$OUT/bisect.txt"
echo "$OUT"
if [ "$ANY_BROKE" = 1 ]; then exit "$PMB_EX_INCORRECT"; fi
if [ "$ANY_REGR" = 1 ]; then exit "$PMB_EX_REGRESSION"; fi
exit 0
