#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stock against patched on one machine, in one command: build what is
# missing, boot both kernels under QEMU (AB under icount, which is
# deterministic; ABBA otherwise), merge each kernel's boots, take the A/A
# noise from the two stock boots, compare, gate with the default (or a
# given) policy, fit the cost model, render plots and the report.  Exits
# with the gate's code.
#
#   kernels/ab.sh --stock IMAGE|build --patched IMAGE|build [options] [run options]
#   kernels/ab.sh --tree DIR --base REV --series PATH [options] [run options]
#   kernels/ab.sh --from-boots A1 B1 [B2 A2] [options]
set -euo pipefail

PROG=ab.sh
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PMB_TOP=$TOP
# shellcheck source=../lib/common.sh
. "$TOP/lib/common.sh"
BIN=${PMB_BIN:-$TOP/build/bin}
RESULTS=${PMB_RESULTS:-$TOP/results}
USAGE_LINE="usage: ./run.sh ab --stock IMAGE|build --patched IMAGE|build [options] [run options]"

# The default A/B matrix: small enough for icount, wide enough to show the
# patch's effect and its limits: shmem, private memory, 64 KiB shmem folios
# swapped out whole (6.11 and later; skipped with the reason before), holes (50% dirty,
# random layout), a second mapper (pagemap_pte_hole), the fault/pageout/remove
# sequence, dense, batched and sparse reads, PAGEMAP_SCAN (6.7 and later; a
# kernel without it skips the method with the reason), and swap-in.
DEFAULT_RUN=(--kinds memfd,shared-anon,private-anon,mthp-shmem --swapout pageout --size 16M --dirty 100,50
	--swapped 50 --views self,second-mapper --sequence --methods dense,sparse,batched,scan-ioctl
	--batches 1,8,64,512 --rounds 10 --warmup 2 --series 2 --sparse-reads 64 --swapin-rounds 5)

usage() {
	cat <<USAGE
$USAGE_LINE
       ./run.sh ab [--tree DIR] [--base REV] --series PATH [options] [run options]
       ./run.sh ab --from-boots A1 B1 [B2 A2] [options]

Boots the stock and the patched kernel under QEMU, runs the same matrix in
each boot, merges each kernel's boots, then compares, gates, fits the cost
model and renders plots.  'build' builds the image: stock from the source
as it is, patched with the series (--series) or the project's port
(kernels/patches/<version>/).

  --stock IMAGE|build     the baseline kernel (default with --series or --tree: build)
  --patched IMAGE|build   the candidate kernel (default with --series or --tree: build)
  --kernel VERSION        6.12 (default) or 6.1: Debian's source 'build' uses; with
                          --tree, the version the tree must have
  --tree DIR              build from a git tree (a clean copy of --base, never the
                          checkout) instead of Debian's source
  --base REV              the revision of --tree both kernels start from (default HEAD)
  --series PATH           the candidate is the base plus this series: a git
                          format-patch directory or an mbox, as git am reads it
                          (a patch that does not apply is a usage error, exit 64);
                          a number is the run option --series N (states per case)
  --mode MODE             auto (default: kvm where it really works, else icount),
                          kvm, icount (instructions: deterministic), or tcg (wall
                          time under emulation, noisy: only on request)
  --order ORDER           auto (default: AB under icount, ABBA otherwise), ABBA or AB
  --threshold PCT         gate threshold (default: the policy's)
  --policy FILE           gate policy (default: the built-in one)
  --timeout SEC           per boot (default 900)
  --mem MIB               guest memory (default 1024)
  --out DIR               write into DIR (created if missing; not one that holds
                          an A/B already) instead of a new results/ab-<stamp>/
  --from-boots A1 B1 [B2 A2]
                          run directories of boots made elsewhere (LAVA, another
                          machine), in boot order: merge, compare and gate them
  run options             appended to the default A/B matrix, so they override it:
                          ${DEFAULT_RUN[*]}

Writes results/ab-<stamp>/ (boots/, stock/, patched/, aa/, gate/ with report.md
and reply.txt for the mailing list, model files) and exits with the gate's code: 0 pass, 1 performance regression, 2 incorrect
kernel behaviour, 3 harness or VM failure, 4 inconclusive, 64 usage error,
77 cannot run here.
USAGE
}

REPRODUCE="./run.sh ab $(quote_cmd "$@")"

STOCK="" PATCHED="" VERSION="" MODE=auto ORDER=auto THRESHOLD="" POLICY="" TIMEOUT=900 MEM=1024
TREE="" BASE="" SERIES="" OUT=""
RUN_ARGS=() FROM_BOOTS=()
while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help) usage; exit 0 ;;
	--series)
		# A number is the run's own --series N (states per case), passed on;
		# anything else is the patch series.
		need_arg "$1" $#
		if [[ "$2" =~ ^[0-9]+$ ]] && [ ! -e "$2" ]; then RUN_ARGS+=("$1" "$2"); else SERIES=$2; fi
		shift 2 ;;
	--stock|--patched|--kernel|--mode|--order|--threshold|--policy|--timeout|--mem|--tree|--base|--out)
		need_arg "$1" $#
		case "$1" in
		--stock) STOCK=$2 ;; --patched) PATCHED=$2 ;; --kernel) VERSION=$2 ;; --mode) MODE=$2 ;;
		--order) ORDER=$2 ;; --threshold) THRESHOLD=$2 ;; --policy) POLICY=$2 ;;
		--timeout) TIMEOUT=$2 ;; --mem) MEM=$2 ;; --tree) TREE=$2 ;; --base) BASE=$2 ;;
		--series) SERIES=$2 ;; --out) OUT=$2 ;;
		esac
		shift 2 ;;
	--from-boots)
		shift
		while [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; do FROM_BOOTS+=("$1"); shift; done ;;
	*) RUN_ARGS+=("$1"); shift ;;
	esac
done
case "$ORDER" in auto|ABBA|AB) ;; *) usage_err "--order: '$ORDER' is not auto, ABBA or AB" ;; esac
case "$MODE" in auto|kvm|tcg|icount) ;; *) usage_err "--mode: '$MODE' is not auto, kvm, tcg or icount" ;; esac
[ -z "$POLICY" ] || [ -f "$POLICY" ] || usage_err "--policy: no file $POLICY"
is_uint "$TIMEOUT" && [ "$TIMEOUT" -gt 0 ] || usage_err "--timeout: '$TIMEOUT' is not a number of seconds"
is_uint "$MEM" && [ "$MEM" -ge 256 ] || usage_err "--mem: '$MEM' is not a size in MiB of at least 256"
[ -z "$BASE" ] || [ -n "$TREE" ] || usage_err "--base REV needs --tree DIR (the git tree it is a revision of)"
[ -z "$TREE" ] || [ -d "$TREE" ] || usage_err "--tree: no directory $TREE"
[ -z "$SERIES" ] || [ -e "$SERIES" ] || usage_err "--series: no file or directory $SERIES"
# Without --tree the source is Debian's tarball of --kernel (6.12, today's LTS, by default).
[ -n "$TREE" ] || VERSION=${VERSION:-6.12}
[ -z "$VERSION" ] || [ -n "$SERIES" ] || [ -d "$TOP/kernels/patches/$VERSION" ] ||
	usage_err "--kernel: no kernels/patches/$VERSION (6.1 or 6.12)"

new_ab_dir() {
	local base n=2
	if [ -n "$OUT" ]; then
		AB=$OUT
		mkdir -p "$AB" || die "cannot create $AB"
		[ ! -e "$AB/gate" ] || usage_err "--out: $AB already holds an A/B (gate/)"
	else
		mkdir -p "$RESULTS"
		base="$RESULTS/ab-$(date -u +%Y%m%dT%H%M%SZ)"
		AB=$base
		while ! mkdir "$AB" 2> /dev/null; do AB="$base-$n"; n=$((n + 1)); done
	fi
	mkdir -p "$AB/boots"
	say "results in $AB"
}

# After the boots: merge each kernel's boots, the A/A noise, gate, plot, model.
# A1 B1 [B2 A2] are run directories in boot order.
finish() {
	local rc=0 floor=()
	if [ $# -eq 4 ]; then
		"$BIN/pmbench" merge --out "$AB/stock" "$1" "$4" > /dev/null || die "merging the stock boots failed"
		"$BIN/pmbench" merge --out "$AB/patched" "$2" "$3" > /dev/null || die "merging the patched boots failed"
		# A/A: the same stock kernel in two boots; its spread, pooled per method, is the gate's noise.
		"$BIN/pmbench" compare "$1" "$4" --out "$AB/aa" --no-plots > "$AB/aa.txt" ||
			die "the A/A comparison failed"
		floor=(--noise-floor "$AB/aa")
	else
		"$BIN/pmbench" merge --out "$AB/stock" "$1" > /dev/null || die "merging the stock boot failed"
		"$BIN/pmbench" merge --out "$AB/patched" "$2" > /dev/null || die "merging the patched boot failed"
	fi
	local gate=("$BIN/pmbench" gate "$AB/stock" "$AB/patched" --out "$AB/gate" --reproduce "$REPRODUCE"
		${floor[@]+"${floor[@]}"})
	[ -z "$THRESHOLD" ] || gate+=(--threshold "$THRESHOLD")
	[ -z "$POLICY" ] || gate+=(--policy "$POLICY")
	"${gate[@]}" || rc=$?
	if command -v gnuplot > /dev/null; then
		"$BIN/pmbench" plot "$AB/gate" > /dev/null || warn "plotting $AB/gate failed"
	else
		warn "gnuplot not installed; no plots"
	fi
	"$BIN/pmbench" model "$AB/stock" "$AB/patched" > "$AB/model.txt" 2>&1 ||
		warn "the cost model could not be fitted (see $AB/model.txt)"
	say "report: $AB/gate/report.md; for the list: $AB/gate/reply.txt"
	echo "$AB"
	exit "$rc"
}

if [ ${#FROM_BOOTS[@]} -gt 0 ]; then
	[ ${#FROM_BOOTS[@]} -eq 2 ] || [ ${#FROM_BOOTS[@]} -eq 4 ] ||
		usage_err "--from-boots takes A1 B1 or A1 B1 B2 A2, not ${#FROM_BOOTS[@]} directories"
	[ -z "$STOCK$PATCHED" ] || usage_err "--from-boots replaces --stock and --patched"
	for d in "${FROM_BOOTS[@]}"; do [ -d "$d" ] || usage_err "--from-boots: no run directory $d"; done
	[ -z "$TREE$SERIES$BASE" ] || usage_err "--from-boots takes run directories, not --tree, --base or --series"
	new_ab_dir
	echo "from boots: ${FROM_BOOTS[*]}" >> "$AB/ab.txt"
	finish "${FROM_BOOTS[@]}"
fi

if [ -n "$SERIES$TREE" ]; then
	STOCK=${STOCK:-build}
	PATCHED=${PATCHED:-build}
fi
if [ -n "$SERIES" ]; then
	[ "$PATCHED" = build ] || usage_err "--series makes the candidate: it needs --patched build, not an image"
	# A series that holds no patch, or no mail, fails here, before anything is built.
	"$TOP/kernels/build.sh" --list-series "$SERIES" > /dev/null || exit $?
fi
[ -n "$STOCK" ] || usage_err "--stock IMAGE|build is required"
[ -n "$PATCHED" ] || usage_err "--patched IMAGE|build is required"
# Check the run options before building or booting anything: the host's pmbench parses the same.
check_run_options "$BIN/pmbench" "${DEFAULT_RUN[@]}" ${RUN_ARGS[@]+"${RUN_ARGS[@]}"}

# The source both builds start from: Debian's tarball, or a clean copy of a tree's revision.
SOURCE_ARGS=()
[ -z "$VERSION" ] || SOURCE_ARGS+=(--kernel "$VERSION")
[ -z "$TREE" ] || SOURCE_ARGS+=(--tree "$TREE" --rev "${BASE:-HEAD}")

resolve() {	# IMAGE|build, what build.sh applies... -> image path
	local what=$1 rc=0
	shift
	if [ "$what" = build ]; then
		"$TOP/kernels/build.sh" "${SOURCE_ARGS[@]}" "$@" || rc=$?
		# A series that does not apply is the user's input, not a harness failure.
		[ "$rc" -eq 0 ] || { [ "$rc" -eq "$PMB_EX_USAGE" ] && exit "$PMB_EX_USAGE"; die "building the kernel ($*) failed"; }
	else
		[ -f "$what" ] || usage_err "no kernel image at $what"
		readlink -f "$what"
	fi
}
STOCK_IMG=$(resolve "$STOCK" --patches none) || exit $?
if [ -n "$SERIES" ]; then
	PATCHED_IMG=$(resolve "$PATCHED" --patches none --series "$SERIES") || exit $?
else
	PATCHED_IMG=$(resolve "$PATCHED" --patches "$TOP/kernels/patches") || exit $?
fi
[ "$(sha256sum < "$STOCK_IMG")" != "$(sha256sum < "$PATCHED_IMG")" ] ||
	warn "stock and patched are the same image; this is an A/A run"

# The mode decides the order: instructions do not drift between boots, wall time does.
MODE=$("$TOP/kernels/vm.sh" --kernel "$STOCK_IMG" --mode "$MODE" --print-mode) || exit $?
if [ "$ORDER" = auto ]; then
	if [ "$MODE" = icount ]; then ORDER=AB; else ORDER=ABBA; fi
fi
[ "$MODE" != tcg ] || warn "--mode tcg: wall time under emulation measures the host as much as the kernel"

new_ab_dir
export_tsc_khz
{
	echo "stock: $STOCK_IMG"
	echo "patched: $PATCHED_IMG"
	echo "source: ${SOURCE_ARGS[*]}${SERIES:+  series: $SERIES}  order: $ORDER  mode: $MODE"
	echo "run: ${DEFAULT_RUN[*]} ${RUN_ARGS[*]-}"
} > "$AB/ab.txt"

NBOOTS=2
[ "$ORDER" = AB ] || NBOOTS=4
BOOT_START=$(date +%s)
BOOTS_DONE=0

boot() {	# label image -> prints the run directory
	local label=$1 image=$2 out rc=0
	progress "$BOOTS_DONE" "$NBOOTS" "$BOOT_START" "boot $label ($MODE): $(basename "$(dirname "$image")")"
	out=$(PMB_KERNEL_IMAGE=$image "$TOP/kernels/vm.sh" --kernel "$image" --bin "$BIN" \
		--out "$AB/boots" --mode "$MODE" --timeout "$TIMEOUT" --mem "$MEM" \
		-- run "${DEFAULT_RUN[@]}" ${RUN_ARGS[@]+"${RUN_ARGS[@]}"}) || rc=$?
	# The guest's run exits 0 when it completed, whatever the verdicts; usage and
	# cannot-run answers (64, 77) are passed on as they are.
	case "$rc" in
	0) ;;
	64|77) say "boot $label: exit $rc"; exit "$rc" ;;
	*) die "boot $label failed (exit $rc); see the console log named above" ;;
	esac
	[ -d "$out" ] || die "boot $label brought no run directory back"
	echo "$out"
}

A1=$(boot A1 "$STOCK_IMG"); BOOTS_DONE=1
B1=$(boot B1 "$PATCHED_IMG"); BOOTS_DONE=2
if [ "$ORDER" = ABBA ]; then
	B2=$(boot B2 "$PATCHED_IMG"); BOOTS_DONE=3
	A2=$(boot A2 "$STOCK_IMG"); BOOTS_DONE=4
	progress 4 4 "$BOOT_START" "boots done"
	finish "$A1" "$B1" "$B2" "$A2"
fi
progress 2 2 "$BOOT_START" "boots done"
finish "$A1" "$B1"
