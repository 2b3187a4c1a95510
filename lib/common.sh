# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# What every pagemap-bench shell script shares: messages with the script's
# name, the exit codes (README.md), argument checks, and the kernel cache.
# Source it after setting PROG:   PROG=vm.sh; . "$TOP/lib/common.sh"

PMB_EX_PASS=0
PMB_EX_REGRESSION=1
PMB_EX_INCORRECT=2
PMB_EX_ERROR=3
PMB_EX_INCONCLUSIVE=4
PMB_EX_USAGE=64
PMB_EX_SKIP=77

# A host is busy when other processes used more of its CPU time than this,
# or steal was above this (harness/live/noise.h says the same to the C side).
PMB_BUSY_OTHER_PCT=10
PMB_BUSY_STEAL_PCT=5

: "${PROG:=pagemap-bench}"

say() { echo "$PROG: $*" >&2; }
warn() { echo "$PROG: warning: $*" >&2; }
# A harness failure: one line, exit 3.
die() { echo "$PROG: $*" >&2; exit "$PMB_EX_ERROR"; }
# Cannot run here: the reason, exit 77.
skip() { echo "$PROG: skip: $*" >&2; exit "$PMB_EX_SKIP"; }
# A usage error: the message, then the script's usage line if it set USAGE_LINE, exit 64.
usage_err() {
	echo "$PROG: $*" >&2
	[ -z "${USAGE_LINE:-}" ] || echo "$USAGE_LINE" >&2
	exit "$PMB_EX_USAGE"
}
# need_arg OPTION $#: the option must be followed by a value.
need_arg() { [ "$2" -ge 2 ] || usage_err "option $1 needs an argument"; }
# A whole number of at most 9 digits (no sign, no spaces).
is_uint() { [[ "$1" =~ ^[0-9]+$ ]] && [ "${#1}" -le 9 ]; }

# Kernel images are cached once per machine for root, so that every clone and
# every CI run reuses them; a user without root keeps them in the checkout.
pmb_default_cache() {
	if [ -n "${PMB_CACHE:-}" ]; then
		echo "$PMB_CACHE"
	elif [ "$(id -u)" = 0 ]; then
		echo /var/cache/pagemap-bench
	else
		echo "${PMB_TOP:?}/.cache"
	fi
}

# Progress lines: a rewritten status line on a terminal, plain lines when
# stderr is not one or CI is set.  progress DONE TOTAL START_EPOCH TEXT
progress() {
	local done=$1 total=$2 start=$3 text=$4 now eta=""
	now=$(date +%s)
	if [ "$done" -gt 0 ] && [ "$total" -gt "$done" ]; then
		eta=$(( (now - start) * (total - done) / done ))
		eta=$(printf ' ETA %dm%02ds' $((eta / 60)) $((eta % 60)))
	fi
	if [ -t 2 ] && [ -z "${CI:-}" ]; then
		printf '\r\033[K%s: [%d/%d]%s %s' "$PROG" "$done" "$total" "$eta" "$text" >&2
		[ "$done" -lt "$total" ] || printf '\n' >&2
	else
		printf '%s: [%d/%d]%s %s\n' "$PROG" "$done" "$total" "$eta" "$text" >&2
	fi
}

# The command as given, one line, quoted only where a word needs it, for a
# report's "Reproduce".  quote_cmd ARGS...
quote_cmd() {
	local a out=""
	for a in "$@"; do
		if [[ "$a" =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then out+=" $a"; else out+=" $(printf '%q' "$a")"; fi
	done
	printf '%s' "${out# }"
}

# The run options a script passes to the guest's pmbench, checked by the
# host's pmbench before anything is built or booted: a bad one exits 64 with
# pmbench's own line.  check_run_options PMBENCH RUN_ARGS...
check_run_options() {
	local pmbench=$1
	shift
	"$pmbench" run "$@" --help > /dev/null 2>&1 && return 0
	"$pmbench" run "$@" --help > /dev/null || true
	exit "$PMB_EX_USAGE"
}

# One guest clock rate for every boot of a comparison (kernels/vm.sh says why
# the guest must be told it); PMB_TSC_KHZ set by the caller wins.
export_tsc_khz() {
	if [ -z "${PMB_TSC_KHZ:-}" ]; then
		PMB_TSC_KHZ=$("$PMB_TOP/kernels/vm.sh" --print-tsc-khz)
		export PMB_TSC_KHZ
	fi
}
