#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A/A on the host: N pairs of runs of the same kernel, each pair gated at the
# default policy, then the same statistics shown a real effect.  The gate may
# never say "regression" (or "improvement") for an A/A pair; it must still
# flag a known extra cost: a run whose passes read 5% (10%) of their range
# again (--extra-work), and, for comparison, a copy of a run with every
# sample made 5% (10%) longer.  With --abba N, also N quartets of runs in
# the order A B B A, each kernel's two runs merged (pmbench merge) and gated:
# A/A (all four the same) and A/B (B with 5% extra work, threshold 2%).  A
# benchmark, not a test: it takes a while and reads the host's clock.  Run it
# as root:
#
#   bench/aa-pairs.sh [--pairs N] [--abba N] [--out DIR] [run options]
#
# Prints one line per pair (the gate's exit code, its performance regressions
# and inconclusive series, the interval's own regression and improvement
# verdicts from compare.json, the largest ratio and its CI) and the
# sensitivity lines; exits 1 if any A/A pair has a performance regression.
set -euo pipefail

PROG=aa-pairs.sh
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PMB_TOP=$TOP
# shellcheck source=../lib/common.sh
. "$TOP/lib/common.sh"
PMBENCH=$TOP/build/bin/pmbench
USAGE_LINE="usage: bench/aa-pairs.sh [--pairs N] [--abba N] [--out DIR] [run options]"

PAIRS=10 ABBA=0 OUT="" RUN_ARGS=()
while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help) echo "$USAGE_LINE"; exit 0 ;;
	--pairs) need_arg "$1" $#; PAIRS=$2; shift 2 ;;
	--abba) need_arg "$1" $#; ABBA=$2; shift 2 ;;
	--out) need_arg "$1" $#; OUT=$2; shift 2 ;;
	*) RUN_ARGS+=("$1"); shift ;;
	esac
done
is_uint "$PAIRS" || usage_err "--pairs: '$PAIRS' is not a count"
is_uint "$ABBA" || usage_err "--abba: '$ABBA' is not a count"
[ "$PAIRS" -ge 1 ] || [ "$ABBA" -ge 1 ] || usage_err "nothing to run: --pairs 0 and no --abba"
[ "$(id -u)" = 0 ] || skip "needs root, as every run does"
[ -x "$PMBENCH" ] || die "build first: make"
[ ${#RUN_ARGS[@]} -gt 0 ] || RUN_ARGS=(--kinds memfd,private-anon --swapout pageout --size 64M)
[ -n "$OUT" ] || OUT=$TOP/results/aa-pairs-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT/runs"

run() {	# [extra run options] -> the new run directory
	local before after
	before=$(ls "$OUT/runs" | sort)
	"$PMBENCH" run --results "$OUT/runs" "${RUN_ARGS[@]}" "$@" > /dev/null 2>&1 || die "a run failed"
	after=$(ls "$OUT/runs" | sort)
	echo "$OUT/runs/$(comm -13 <(echo "$before") <(echo "$after") | grep -v '^latest$' | head -n1)"
}

# The widest ratio of a gate's compare.json: "ratio [lo, hi] case:method:bB".
widest() {
	/usr/bin/python3 - "$1/compare.json" <<'PY'
import json, math, sys
rows = [r for r in json.load(open(sys.argv[1]))["rows"]
        if isinstance(r.get("ratio"), float) and r["method"] != "probe"]
r = max(rows, key=lambda r: abs(math.log(r["ratio"])))
print(f'{r["ratio"]:.3f} [{r["ci_lo"]:.3f}, {r["ci_hi"]:.3f}] {r["case"]}:{r["method"]}:b{r["batch"]}')
PY
}

# The interval's own verdicts in a gate's compare.json, before the policy and the
# busy rule: "regressions/improvements", and the median ratio of the pass-timed series.
verdicts() {
	/usr/bin/python3 - "$1/compare.json" <<'PY'
import json, statistics, sys
rows = json.load(open(sys.argv[1]))["rows"]
rows = [r for r in rows if r["method"] != "probe"]  # the host's speed, not the kernel's
n = lambda v: sum(r.get("verdict") == v for r in rows)
passes = [r["ratio"] for r in rows if isinstance(r.get("ratio"), float) and r["method"] not in ("sparse", "swapin")]
print(f'{n("regression")}/{n("improvement")} {statistics.median(passes):.3f}' if passes else
      f'{n("regression")}/{n("improvement")} -')
PY
}

# A copy of run dir $1 whose samples take $2 times as long: a known effect in real noise.
slower() {
	local src=$1 factor=$2 dst=$1-x$2
	rm -rf "$dst"
	mkdir "$dst"
	cp "$src/cases.tsv" "$dst/"
	sed "s/\"run_id\": \"[^\"]*\"/\"run_id\": \"$(basename "$dst")\"/" "$src/meta.json" > "$dst/meta.json"
	awk -F'\t' -v OFS='\t' -v f="$factor" \
		'NR <= 2 { print; next } { $11 = sprintf("%.0f", $11 * f); print }' "$src/samples.tsv" > "$dst/samples.tsv"
	echo "$dst"
}

# Performance verdicts are counted from the gate's lines, not its exit code:
# on a kernel without the patch the memfd cases are incorrect, exit 2 wins
# over exit 1, and a regression would go unseen behind it.
perf() {	# gate output -> "regressions inconclusive"
	printf '%s %s' "$(grep -c '^  FAIL .*: regression: ratio' "$1" || true)" \
		"$(grep -c '^  INCONCLUSIVE ' "$1" || true)"
}

# One line: candidate-dir gated against $a at a threshold (sets nreg).
sens() {	# name candidate-dir threshold
	local rc=0 ninc cmp med
	"$PMBENCH" gate "$a" "$2" --threshold "$3" --out "$OUT/gate-$1" > "$OUT/gate-$1.txt" 2>&1 || rc=$?
	read -r nreg ninc <<< "$(perf "$OUT/gate-$1.txt")"
	read -r cmp med <<< "$(verdicts "$OUT/gate-$1")"
	printf '%-34s %-5s %-5s %-7s %-8s %-8s %s\n' "$1 (threshold $3%)" "$rc" "$nreg" "$ninc" "$cmp" "$med" \
		"$(grep -m1 '^VERDICT' "$OUT/gate-$1.txt" | cut -c10-90)"
}

bad=0
if [ "$PAIRS" -ge 1 ]; then
	printf '%-5s %-5s %-5s %-7s %-8s %-40s %s\n' pair exit regr inconcl "cmp r/i" "widest ratio [95% CI]" series
	for i in $(seq 1 "$PAIRS"); do
		a=$(run)
		b=$(run)
		rc=0
		"$PMBENCH" gate "$a" "$b" --out "$OUT/gate-$i" > "$OUT/gate-$i.txt" 2>&1 || rc=$?
		read -r nreg ninc <<< "$(perf "$OUT/gate-$i.txt")"
		read -r cmp _ <<< "$(verdicts "$OUT/gate-$i")"
		[ "$nreg" = 0 ] || bad=1
		printf '%-5s %-5s %-5s %-7s %-8s %s\n' "$i" "$rc" "$nreg" "$ninc" "$cmp" "$(widest "$OUT/gate-$i")"
	done

	# Sensitivity: real extra work in a run of its own, then the last pair's CAND made
	# slower by a known factor; each judged against the last pair's BASE the same way.
	echo
	printf '%-34s %-5s %-5s %-7s %-8s %-8s %s\n' "known extra cost" exit regr inconcl "cmp r/i" "passes" verdict
	for spec in "5 2" "10 5"; do
		set -- $spec
		sens "extra-work-$1" "$(run --extra-work "$1")" "$2"
	done
	for spec in "1.05 2" "1.10 5"; do
		set -- $spec
		sens "x$1" "$(slower "$b" "$1")" "$2"
	done
fi

# ABBA: runs A B B A, each kernel's two merged; the gate then also asks that an
# effect show in both halves (B1 against A1, B2 against A2: each pair adjacent).
abba() {	# name extra-work-pct threshold
	local x=() r1 r2 r3 r4
	[ "$2" = 0 ] || x=(--extra-work "$2")
	r1=$(run); r2=$(run "${x[@]}"); r3=$(run "${x[@]}"); r4=$(run)
	"$PMBENCH" merge --out "$OUT/$1-A" "$r1" "$r4" > /dev/null || die "merge failed"
	"$PMBENCH" merge --out "$OUT/$1-B" "$r2" "$r3" > /dev/null || die "merge failed"
	a=$OUT/$1-A
	sens "$1" "$OUT/$1-B" "$3"
	[ "$2" != 0 ] || [ "$nreg" = 0 ] || bad=1
}
if [ "$ABBA" -ge 1 ]; then
	echo
	printf '%-34s %-5s %-5s %-7s %-8s %-8s %s\n' "ABBA, merged" exit regr inconcl "cmp r/i" "passes" verdict
	for i in $(seq 1 "$ABBA"); do
		abba "abba-aa-$i" 0 5
		abba "abba-extra5-$i" 5 2
	done
fi
say "everything is under $OUT"
exit "$bad"
