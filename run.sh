#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pagemap-bench: benchmark and regression harness for /proc/PID/pagemap on
# shared memory under swap.  `./run.sh --help` lists the subcommands.
set -euo pipefail

PROG=run.sh
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PMB_TOP=$TOP
# shellcheck source=lib/common.sh
. "$TOP/lib/common.sh"
BIN=$TOP/build/bin
PMBENCH=$BIN/pmbench
RESULTS=${PMB_RESULTS:-$TOP/results}
export PMB_PLOTS_DIR=$TOP/plots
# Kernel images are cached once per machine (root), so a fresh clone reuses them.
PMB_CACHE=$(pmb_default_cache)
export PMB_CACHE

# Debian 12 packages the project needs to build, test, plot and boot kernels.
PACKAGES="build-essential libjansson-dev liburing-dev gnuplot-nox python3-pytest python3-yaml
	qemu-system-x86 busybox-static linux-source-6.1 linux-source-6.12 ccache flex bison bc
	libelf-dev libssl-dev cpio xz-utils zstd util-linux procps kmod git clang libclang-rt-14-dev
	man-db lavacli strace"

usage() {
	cat <<USAGE
usage: ./run.sh [SUBCOMMAND] [options]     (./run.sh SUBCOMMAND --help)

  run [options]           the matrix on the running kernel (default): results/<run-id>/,
                          plots and a summary table
  verify [options]        correctness only, KTAP on stdout
  compare BASE CAND       compare two result directories
  gate BASE CAND          gate a candidate against a baseline (CI)
  plot DIR                render the plots of a run or comparison directory
  kernel build [options]  build a kernel image (--kernel 6.1|6.12, --tree DIR --rev REV,
                          --patches DIR, --series PATH; see kernels/build.sh --help)
  vm --kernel IMAGE [run options]
                          run the matrix on IMAGE under QEMU
  ab --stock IMAGE|build --patched IMAGE|build [options] [run options]
                          stock against patched in one command (icount by default);
                          also --tree DIR --base REV --series PATH (a patch series)
  bisect --series PATH [--tree DIR --base REV] [options] [run options]
                          base, then base + 1, 2, ... patches: which patch changes
                          correctness, which one regresses
  lava SUBCOMMAND [options]
                          a LAVA lab: job, submit, wait, fetch, run, ab (docs/lava.md)
  selfcheck [options]     the harness's own overhead, against a bare pread loop
  man                     the pmbench(1) man page
  cleanup                 remove what a killed run left behind
  setup                   install the Debian packages the project needs
  test                    build and run the test suite

Run as root: swap, cgroups and swap offsets in pagemap need it.
Exit codes: 0 pass, 1 performance regression, 2 incorrect kernel behaviour,
3 harness error, 4 inconclusive, 64 usage error, 77 cannot run here,
128+N interrupted by signal N.  Bash completion: . lib/completion.bash
USAGE
}

missing_packages() {
	local p missing=""
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	echo "$missing"
}

setup() {
	local missing
	command -v dpkg-query >/dev/null || {
		echo "run.sh: not a Debian system; install the equivalents of:" $PACKAGES >&2
		return 0
	}
	missing=$(missing_packages)
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "run.sh: skip: missing packages:$missing (run as root to install them)" >&2
		exit 77
	fi
	echo "run.sh: installing:$missing" >&2
	apt-get -o DPkg::Lock::Timeout=600 update -q >&2
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q $missing >&2
}

build() {
	setup
	make -C "$TOP" -s -j"$(nproc)" >&2
	PMB_GIT_REV=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
	if [ -n "$(git -C "$TOP" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
		PMB_GIT_REV="$PMB_GIT_REV-dirty"
	fi
	export PMB_GIT_REV
}

# The run directory the last pmbench run made.
latest() { readlink -f "$RESULTS/latest"; }

plot_quietly() {
	command -v gnuplot >/dev/null || { echo "run.sh: gnuplot not installed; no plots" >&2; return 0; }
	"$PMBENCH" plot "$1" >&2 || echo "run.sh: plotting $1 failed" >&2
}

cmd_run() {
	local rc=0 before=""
	case "${1:-}" in -h|--help) build; exec "$PMBENCH" run --help ;; esac
	build
	[ -e "$RESULTS/latest" ] && before=$(latest)
	"$PMBENCH" run --results "$RESULTS" "$@" || rc=$?
	if [ "$rc" -eq 0 ] && [ -e "$RESULTS/latest" ] && [ "$(latest)" != "$before" ]; then
		plot_quietly "$(latest)"
		echo "results: $(latest)" >&2
	fi
	return "$rc"
}

cmd_vm() {
	local kernel="" args=() vmargs=() rc=0
	while [ $# -gt 0 ]; do
		case "$1" in
		-h|--help)
			echo "usage: ./run.sh vm --kernel IMAGE [--mode auto|kvm|tcg|icount] [--mem MIB] [--timeout SEC] [run options]"
			echo "Runs 'pmbench run [run options]' inside IMAGE under QEMU; the run directory lands in results/."
			return 0 ;;
		--kernel) kernel=${2:?--kernel needs an image}; shift 2 ;;
		--mode|--mem|--smp|--timeout) vmargs+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
		# The results root is the host's: the guest writes to its own disk.
		--results) need_arg "$1" $#; RESULTS=$2; shift 2 ;;
		--results=*) RESULTS=${1#--results=}; shift ;;
		*) args+=("$1"); shift ;;
		esac
	done
	[ -n "$kernel" ] || usage_err "vm: --kernel IMAGE is required"
	[ -n "$RESULTS" ] || usage_err "vm: --results needs a directory"
	mkdir -p -- "$RESULTS"
	[ -f "$kernel" ] || usage_err "vm: no kernel image at $kernel"
	build
	local out dir
	out=$("$TOP/kernels/vm.sh" --kernel "$kernel" --bin "$BIN" --out "$RESULTS" ${vmargs[@]+"${vmargs[@]}"} \
		-- run ${args[@]+"${args[@]}"}) || rc=$?
	for dir in $out; do
		[ -d "$dir" ] || continue
		ln -sfn "$(basename "$dir")" "$RESULTS/latest"
		cat "$dir/summary.txt" 2>/dev/null || true
		plot_quietly "$dir"
		echo "results: $dir" >&2
	done
	return "$rc"
}

main() {
	local sub=${1:-run}
	[ $# -gt 0 ] && shift
	case "$sub" in
	-h|--help|help) usage ;;
	run) cmd_run "$@" ;;
	-*) cmd_run "$sub" "$@" ;;
	verify) build; exec "$PMBENCH" verify --results "$RESULTS" "$@" ;;
	compare|gate) build; exec "$PMBENCH" "$sub" "$@" ;;
	plot) build; exec "$PMBENCH" plot "$@" ;;
	cleanup|selfcheck) build; exec "$PMBENCH" "$sub" "$@" ;;
	man) build; exec "$PMBENCH" man "$@" ;;
	kernel)
		case "${1:-}" in
		build) shift; setup; exec "$TOP/kernels/build.sh" "$@" ;;
		*) usage_err "kernel: the subcommand is 'build' (./run.sh kernel build --help)" ;;
		esac ;;
	vm) cmd_vm "$@" ;;
	ab) build; exec "$TOP/kernels/ab.sh" "$@" ;;
	bisect) build; exec "$TOP/kernels/bisect.sh" "$@" ;;
	lava)
		case "${1:-}" in ''|-h|--help) exec "$TOP/lava/lava.sh" --help ;; esac
		build; exec "$TOP/lava/lava.sh" "$@" ;;
	setup) setup ;;
	test)
		build
		make -C "$TOP" -s -j"$(nproc)" asan >&2
		cd "$TOP"
		exec /usr/bin/python3 -m pytest -ra "$@" tests ;;
	*) usage_err "unknown subcommand '$sub' (./run.sh --help)" ;;
	esac
}

main "$@"
