#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stock against patched on one machine, in one command: build what is
# missing, boot both kernels under QEMU in ABBA order, merge each kernel's two
# boots, measure the noise floor from the stock pair (A/A), compare, gate with
# the default (or a given) policy, fit the cost model, render plots and the
# report.  Exits with the gate's code.
#
#   kernels/ab.sh --stock IMAGE|build --patched IMAGE|build [options] [run options]
set -euo pipefail

PROG=ab.sh
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${PMB_BIN:-$TOP/build/bin}
RESULTS=${PMB_RESULTS:-$TOP/results}

# The default A/B matrix: small enough for TCG, wide enough to show the patch's
# effect and its limits: every kind, shmem with holes (50% dirty, random
# layout), a second mapper (pagemap_pte_hole), the fault/pageout/remove
# sequence, dense, batched and sparse reads, and swap-in.
DEFAULT_RUN=(--kinds memfd,shared-anon,private-anon --swapout pageout --size 16M --dirty 100,50
	--swapped 50 --views self,second-mapper --sequence --methods dense,sparse,batched
	--batches 1,8,64,512 --rounds 10 --warmup 2 --series 2 --sparse-reads 64 --swapin-rounds 5)

die() { echo "$PROG: $*" >&2; exit 3; }
usage_err() { echo "$PROG: $*" >&2; exit 64; }

usage() {
	cat <<USAGE
usage: ./run.sh ab --stock IMAGE|build --patched IMAGE|build [options] [run options]

Boots the stock and the patched kernel under QEMU in ABBA order (A B B A),
runs the same matrix in each boot, merges each kernel's two boots, measures
the noise floor from the two stock boots (A/A), then compares, gates, fits the
cost model and renders plots.  'build' builds the image from Debian's 6.1
source: stock as is, patched with kernels/patches/.

  --stock IMAGE|build     the baseline kernel
  --patched IMAGE|build   the candidate kernel
  --mode MODE             auto (default), kvm, tcg, icount (see docs/kernels.md)
  --order ORDER           ABBA (default) or AB (one boot each, no noise floor)
  --threshold PCT         gate threshold (default: the policy's)
  --policy FILE           gate policy (default: the built-in one)
  --timeout SEC           per boot (default 900)
  --mem MIB               guest memory (default 1024)
  run options             appended to the default A/B matrix, so they override it:
                          ${DEFAULT_RUN[*]}

Writes results/ab-<stamp>/ (boots/, stock/, patched/, aa/, gate/, model files)
and exits with the gate's code: 0 pass, 1 performance regression, 2 incorrect
kernel behaviour, 3 harness or VM failure, 64 usage error, 77 cannot run here.
USAGE
}

STOCK="" PATCHED="" MODE=auto ORDER=ABBA THRESHOLD="" POLICY="" TIMEOUT=900 MEM=1024
RUN_ARGS=()
while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help) usage; exit 0 ;;
	--stock|--patched|--mode|--order|--threshold|--policy|--timeout|--mem)
		[ $# -ge 2 ] || usage_err "$1 needs a value"
		case "$1" in
		--stock) STOCK=$2 ;; --patched) PATCHED=$2 ;; --mode) MODE=$2 ;; --order) ORDER=$2 ;;
		--threshold) THRESHOLD=$2 ;; --policy) POLICY=$2 ;; --timeout) TIMEOUT=$2 ;; --mem) MEM=$2 ;;
		esac
		shift 2 ;;
	*) RUN_ARGS+=("$1"); shift ;;
	esac
done
[ -n "$STOCK" ] || usage_err "--stock IMAGE|build is required"
[ -n "$PATCHED" ] || usage_err "--patched IMAGE|build is required"
case "$ORDER" in ABBA|AB) ;; *) usage_err "--order: '$ORDER' is not ABBA or AB" ;; esac
[ -z "$POLICY" ] || [ -f "$POLICY" ] || usage_err "--policy: no file $POLICY"
case "$MODE" in auto|kvm|tcg|icount) ;; *) usage_err "--mode: '$MODE' is not auto, kvm, tcg or icount" ;; esac
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] && [ "$TIMEOUT" -gt 0 ] || usage_err "--timeout: '$TIMEOUT' is not a number of seconds"
[[ "$MEM" =~ ^[0-9]+$ ]] && [ "$MEM" -ge 256 ] || usage_err "--mem: '$MEM' is not a size in MiB of at least 256"
# Check the run options before building or booting anything: the host's pmbench parses the same.
if ! "$BIN/pmbench" run "${DEFAULT_RUN[@]}" ${RUN_ARGS[@]+"${RUN_ARGS[@]}"} --help > /dev/null 2>&1; then
	"$BIN/pmbench" run "${DEFAULT_RUN[@]}" ${RUN_ARGS[@]+"${RUN_ARGS[@]}"} --help > /dev/null || true
	exit 64
fi

resolve() {	# IMAGE|build, patches -> image path
	local what=$1 patches=$2
	if [ "$what" = build ]; then
		"$TOP/kernels/build.sh" --patches "$patches" || die "building the ${patches##*/} kernel failed"
	else
		[ -f "$what" ] || usage_err "no kernel image at $what"
		readlink -f "$what"
	fi
}
STOCK_IMG=$(resolve "$STOCK" none)
PATCHED_IMG=$(resolve "$PATCHED" "$TOP/kernels/patches")
[ "$(sha256sum < "$STOCK_IMG")" != "$(sha256sum < "$PATCHED_IMG")" ] ||
	echo "$PROG: warning: stock and patched are the same image; this is an A/A run" >&2

mkdir -p "$RESULTS"
BASE="$RESULTS/ab-$(date -u +%Y%m%dT%H%M%SZ)"
AB=$BASE
n=2
while ! mkdir "$AB" 2> /dev/null; do AB="$BASE-$n"; n=$((n + 1)); done
# One clock rate for every boot (vm.sh: why the guest needs to be told it).
if [ -z "${PMB_TSC_KHZ:-}" ]; then
	PMB_TSC_KHZ=$("$TOP/kernels/vm.sh" --print-tsc-khz)
	export PMB_TSC_KHZ
fi
mkdir "$AB/boots"
{
	echo "stock: $STOCK_IMG"
	echo "patched: $PATCHED_IMG"
	echo "order: $ORDER  mode: $MODE"
	echo "run: ${DEFAULT_RUN[*]} ${RUN_ARGS[*]-}"
} > "$AB/ab.txt"
echo "$PROG: results in $AB" >&2

boot() {	# label image -> prints the run directory
	local label=$1 image=$2 out rc=0
	echo "$PROG: boot $label: $(basename "$(dirname "$image")")" >&2
	out=$(PMB_KERNEL_IMAGE=$image "$TOP/kernels/vm.sh" --kernel "$image" --bin "$BIN" \
		--out "$AB/boots" --mode "$MODE" --timeout "$TIMEOUT" --mem "$MEM" \
		-- run "${DEFAULT_RUN[@]}" ${RUN_ARGS[@]+"${RUN_ARGS[@]}"}) || rc=$?
	# The guest's run exits 0 when it completed, whatever the verdicts; usage and
	# cannot-run answers (64, 77) are passed on as they are.
	case "$rc" in
	0) ;;
	64|77) echo "$PROG: boot $label: exit $rc" >&2; exit "$rc" ;;
	*) die "boot $label failed (exit $rc); see the console log named above" ;;
	esac
	[ -d "$out" ] || die "boot $label brought no run directory back"
	echo "$out"
}

A1=$(boot A1 "$STOCK_IMG")
B1=$(boot B1 "$PATCHED_IMG")
if [ "$ORDER" = ABBA ]; then
	B2=$(boot B2 "$PATCHED_IMG")
	A2=$(boot A2 "$STOCK_IMG")
	"$BIN/pmbench" merge --out "$AB/stock" "$A1" "$A2" > /dev/null
	"$BIN/pmbench" merge --out "$AB/patched" "$B1" "$B2" > /dev/null
	# A/A: the same stock kernel in two boots; its spread is the gate's floor.
	"$BIN/pmbench" compare "$A1" "$A2" --out "$AB/aa" --no-plots > "$AB/aa.txt" ||
		die "the A/A comparison failed"
	FLOOR=(--noise-floor "$AB/aa")
else
	"$BIN/pmbench" merge --out "$AB/stock" "$A1" > /dev/null
	"$BIN/pmbench" merge --out "$AB/patched" "$B1" > /dev/null
	FLOOR=()
fi

GATE=("$BIN/pmbench" gate "$AB/stock" "$AB/patched" --out "$AB/gate" ${FLOOR[@]+"${FLOOR[@]}"})
[ -z "$THRESHOLD" ] || GATE+=(--threshold "$THRESHOLD")
[ -z "$POLICY" ] || GATE+=(--policy "$POLICY")
rc=0
"${GATE[@]}" || rc=$?
if command -v gnuplot > /dev/null; then
	"$BIN/pmbench" plot "$AB/gate" > /dev/null || echo "$PROG: plotting $AB/gate failed" >&2
else
	echo "$PROG: gnuplot not installed; no plots" >&2
fi
"$BIN/pmbench" model "$AB/stock" "$AB/patched" > "$AB/model.txt" 2>&1 ||
	echo "$PROG: the cost model could not be fitted (see $AB/model.txt)" >&2
echo "$PROG: report: $AB/gate/report.md" >&2
echo "$AB"
exit "$rc"
