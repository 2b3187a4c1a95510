#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the libFuzzer targets (tests/fuzz/README.md), each in turn for SECONDS
# on a scratch copy of its seed corpus, with its dictionary, under ASan and
# UBSan: -timeout=10 (a hang is a failure), -rss_limit_mb=2048,
# -detect_leaks=1.  `make fuzz` calls it; called alone it builds first.
#
#   tests/fuzz/run.sh [--bin DIR] [--seconds N] [--out DIR] [--keep-corpus DIR] [TARGET...]
#
# A crash, hang, leak or OOM leaves its reproducer in OUT/artifacts/<target>/
# (OUT is build/fuzz by default; the path is printed, and `build/fuzz/<target>
# FILE` replays it) and makes the exit code 3.  A target that leaves files in
# its $TMPDIR fails too.  Each target's libFuzzer output is in
# OUT/logs/<target>.log, and one line per target sums it up: seconds,
# executions, exec/s, cov, ft, corpus.  --keep-corpus copies the grown corpus.
# Exit: 0 every target ran clean, 3 a finding (or the run failed), 64 usage,
# 77 no clang with libFuzzer here.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
PROG=fuzz
USAGE_LINE="usage: tests/fuzz/run.sh [--bin DIR] [--seconds N] [--out DIR] [--keep-corpus DIR] [TARGET...]"
# shellcheck source=../../lib/common.sh
. "$TOP/lib/common.sh"

ALL=(rundir compare_gate merge model policy wire)
# The longest input per target: its largest seed, with room to grow.
declare -A MAX_LEN=([rundir]=16384 [compare_gate]=32768 [merge]=32768 [model]=32768 [policy]=8192 [wire]=4096)

bin="" secs=60 out=$TOP/build/fuzz keep="" targets=()
while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help) sed -n '4,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	--bin) need_arg "$1" $#; bin=$2; shift 2 ;;
	--seconds) need_arg "$1" $#
		if ! is_uint "$2" || [ "$2" -eq 0 ]; then usage_err "--seconds '$2': a whole number of seconds"; fi
		secs=$2; shift 2 ;;
	--out) need_arg "$1" $#; out=$2; shift 2 ;;
	--keep-corpus) need_arg "$1" $#; keep=$2; shift 2 ;;
	-*) usage_err "unknown option '$1'" ;;
	*) [[ " ${ALL[*]} " == *" $1 "* ]] || usage_err "unknown target '$1' (${ALL[*]})"
		targets+=("$1"); shift ;;
	esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL[@]}")

if [ -z "$bin" ]; then
	command -v clang >/dev/null || skip "no clang (apt-get install clang libclang-rt-14-dev)"
	make -C "$TOP" -s fuzz-build >&2 || die "make fuzz-build failed"
	bin=$TOP/build/fuzz
fi
bin=$(cd "$bin" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
art_root=$out/artifacts
log_root=$out/logs
mkdir -p "$art_root" "$log_root"

# The scratch directory: tmpfs when there is one (the targets make and remove a
# directory per input), else $TMPDIR.
scratch_parent=${PMB_FUZZ_TMP:-}
if [ -z "$scratch_parent" ]; then
	if [ -d /dev/shm ] && [ -w /dev/shm ]; then scratch_parent=/dev/shm; else scratch_parent=${TMPDIR:-/tmp}; fi
fi
scratch=$(mktemp -d "$scratch_parent/pmb-fuzz-run.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# "#123 DONE cov: 1 ft: 2 corp: 3/4Kb ..." -> the value after a key, from a log's last such line.
final_field() { grep -E '^#[0-9]+[[:space:]]+DONE' "$1" | tail -n 1 | sed -E "s/.*[[:space:]]$2: ([^ ]+).*/\\1/"; }
stat_field() { sed -nE "s/^stat::$2:[[:space:]]+([0-9]+).*/\\1/p" "$1" | tail -n 1; }

failed=0
printf '%-13s %8s %12s %8s %7s %7s %12s  %s\n' target seconds executions exec/s cov ft corpus result >&2
for t in "${targets[@]}"; do
	exe=$bin/$t
	[ -x "$exe" ] || die "$exe: not built (make fuzz-build)"
	work=$scratch/$t
	mkdir -p "$work/corpus" "$work/tmp" "$art_root/$t"
	cp "$TOP/tests/fuzz/corpus/$t"/* "$work/corpus/"
	log=$log_root/$t.log
	before=$(find "$art_root/$t" -type f | sort)
	start=$(date +%s)
	rc=0
	# The whole run is bounded too, in case libFuzzer itself stops answering.
	TMPDIR=$work/tmp UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		timeout --signal=KILL $((secs + 300)) "$exe" -max_total_time="$secs" -max_len="${MAX_LEN[$t]}" \
		-timeout=10 -rss_limit_mb=2048 -detect_leaks=1 -print_final_stats=1 \
		-dict="$TOP/tests/fuzz/dict/$t.dict" -artifact_prefix="$art_root/$t/" \
		"$work/corpus" > "$log" 2>&1 || rc=$?
	took=$(( $(date +%s) - start ))
	result=ok
	new=$(comm -13 <(echo "$before") <(find "$art_root/$t" -type f | sort) | sed '/^$/d')
	left=$(find "$work/tmp" -mindepth 1 | head -n 3)
	if [ "$rc" -ne 0 ] || [ -n "$new" ]; then
		result="FAILED (exit $rc)"
		failed=1
	elif [ -n "$left" ]; then
		result="FAILED (left files in its TMPDIR: $left)"
		failed=1
	fi
	corp=$(final_field "$log" corp || true)
	printf '%-13s %8s %12s %8s %7s %7s %12s  %s\n' "$t" "$took" "$(stat_field "$log" number_of_executed_units)" \
		"$(stat_field "$log" average_exec_per_sec)" "$(final_field "$log" cov)" "$(final_field "$log" ft)" \
		"${corp:-?}" "$result" >&2
	if [ "$result" != ok ]; then
		grep -E 'ERROR: |SUMMARY: |pmb-fuzz: property|Test unit written to|runtime error' "$log" | head -n 8 | sed 's/^/    /' >&2
		for f in $new; do
			say "$t: reproducer $f (replay: $exe $f; then copy it to tests/fuzz/crashes/$t/)"
		done
		say "$t: log $log"
	fi
	if [ -n "$keep" ]; then
		mkdir -p "$keep/$t"
		cp "$work/corpus"/* "$keep/$t/"
	fi
	rm -rf "$work"
done
[ "$failed" -eq 0 ] || exit "$PMB_EX_ERROR"
exit 0
