#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a kernel image under QEMU with a generated initramfs, run the guest
# pmbench there and bring its results back.
#
#   kernels/vm.sh --kernel IMAGE --bin DIR --out DIR [--mode auto|kvm|tcg|icount]
#                 [--mem MIB] [--smp N] [--timeout SEC] [--console FILE] -- ARGS...
#
# The guest runs `/bin/pmbench ARGS... --results /results`, tars /results onto
# the results disk (/dev/vda) and reboots.  Every run directory it made lands
# in --out as <out>/<run-id>/, with the console log as console.log.
# Exit: the guest pmbench's exit code; 3 when the VM failed (panic, hang,
# no boot, no results), 64 for bad options, 77 when the mode cannot run here.
set -euo pipefail

PROG=vm.sh
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../lib/common.sh
. "$TOP/lib/common.sh"
START_MARK="PMB-GUEST-START"
END_MARK="PMB-GUEST-END"
MISSING_MARK="PMB-GUEST-MISSING"
QEMU=${PMB_QEMU:-qemu-system-x86_64}
PROBE_DIR=${PMB_RUN_DIR:-/run/pagemap-bench}
DISK_MIB=256
APPEND_BASE="console=ttyS0 panic=-1 tsc=reliable quiet rdinit=/init"
USAGE_LINE="usage: $PROG --kernel IMAGE --bin DIR --out DIR [--mode auto|kvm|tcg|icount] [--mem MIB] [--smp N] [--timeout SEC] [--console FILE] -- ARGS..."

usage() {
	cat <<EOF
$USAGE_LINE

Boot IMAGE under QEMU with an initramfs holding busybox and every executable
of --bin DIR, run '/bin/pmbench ARGS... --results /results' in the guest and
copy each run directory it writes into --out (never overwriting one).

  --kernel IMAGE   bzImage to boot (kernels/build.sh prints one)
  --bin DIR        static binaries for the guest (pmbench, pmwork, pmscan)
  --out DIR        where the run directories go (created if missing)
  --mode MODE      auto (default: kvm if a real probe boots, else icount),
                   kvm, icount (tcg -icount shift=0,sleep=off: time counted in
                   instructions, deterministic; forces --smp 1), or tcg (wall
                   time under emulation: measures the host as much as the
                   kernel; only on request)
  --mem MIB        guest memory (default 1024)
  --smp N          virtual CPUs (default 2)
  --timeout SEC    kill the guest after SEC seconds (default 600)
  --console FILE   keep the serial console log here (default: a file in --out,
                   removed after a successful run)

Exit: the guest pmbench's exit code, 3 on a VM failure (the console log is
kept and named), 64 on bad options, 77 if the mode cannot run here.
EOF
}

KERNEL='' BIN='' OUT='' MODE=auto MEM=1024 SMP=2 TIMEOUT=600 CONSOLE=''
SMP_SET=0 PRINT_MODE=0

# The host's TSC rate: its kernel's calibrated value where the log has it;
# "cpu MHz" is only a fallback, as it follows cpufreq on bare metal.  ab.sh
# works it out once and passes it to every boot (PMB_TSC_KHZ), so that all
# boots of an A/B share one clock rate.
host_tsc_khz() {
	local mhz
	mhz=$(dmesg 2> /dev/null | sed -n 's/.*tsc: Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p' | tail -n 1)
	[ -n "$mhz" ] || mhz=$(dmesg 2> /dev/null | sed -n 's/.*tsc: Detected \([0-9.]*\) MHz processor.*/\1/p' | tail -n 1)
	[ -n "$mhz" ] || mhz=$(awk -F: '/^cpu MHz/ { print $2; exit }' /proc/cpuinfo)
	awk -v m="${mhz:-2000}" 'BEGIN { printf "%d", m * 1000 }'
}

# ---------------------------------------------------------------- kvm probe

# Does KVM really boot a guest?  A real 10 s boot of IMAGE without an
# initramfs: KVM works if the kernel gets as far as its first console line.
# The answer is cached per host boot in $PROBE_DIR/kvm-probe.
kvm_probe_run() {
	local log="$TMP/kvm-probe.log"
	[ -e /dev/kvm ] || { echo "no /dev/kvm"; return 1; }
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || { echo "/dev/kvm not accessible"; return 1; }
	timeout -k 2 10 "$QEMU" -accel kvm -cpu host -m 128 -smp 1 -nographic -no-reboot \
		-nic none -kernel "$KERNEL" -append "console=ttyS0 panic=-1" \
		< /dev/null > "$log" 2>&1 || true
	if grep -q 'Linux version' "$log"; then
		echo "kvm boots a guest"
		return 0
	fi
	echo "a 10 s kvm test boot printed no kernel line: $(grep -v '^\s*$' "$log" | head -n1 | cut -c1-120)"
	return 1
}

kvm_usable() {
	local boot cache="$PROBE_DIR/kvm-probe" line reason ok
	boot=$(cat /proc/sys/kernel/random/boot_id 2> /dev/null || echo unknown)
	if [ -f "$cache" ] && read -r line < "$cache" && [ "${line%% *}" = "$boot" ]; then
		ok=$(echo "$line" | cut -d' ' -f2)
		KVM_REASON=$(echo "$line" | cut -d' ' -f3-)
		[ "$ok" = yes ]
		return
	fi
	say "probing kvm (10 s boot, cached in $cache)"
	if reason=$(kvm_probe_run); then ok=yes; else ok=no; fi
	KVM_REASON=$reason
	if mkdir -p "$PROBE_DIR" 2> /dev/null; then
		echo "$boot $ok $reason" > "$cache.tmp.$$" && mv -f "$cache.tmp.$$" "$cache" || true
	fi
	[ "$ok" = yes ]
}

pick_accel() {
	KVM_REASON=
	case "$MODE" in
	auto)
		# Deterministic by default: instruction counting where KVM cannot run.
		if kvm_usable; then MODE=kvm; else MODE=icount; say "kvm not usable ($KVM_REASON): using icount"; fi
		;;
	kvm)
		kvm_usable || skip "kvm not usable here: $KVM_REASON"
		;;
	esac
	case "$MODE" in
	kvm) ACCEL=(-accel kvm -cpu host) ;;
	tcg) ACCEL=(-accel tcg) ;;
	icount)
		ACCEL=(-accel tcg -icount 'shift=0,sleep=off')
		[ "$SMP_SET" = 0 ] || [ "$SMP" = 1 ] || say "icount hangs with more than one vCPU: using --smp 1"
		SMP=1
		;;
	esac
	tsc_khz
}

# Without ACPI there is no HPET or PM timer to calibrate the TSC against, and
# PIT calibration fails under TCG: the guest falls back to jiffies, a 4 ms
# clock.  Tell it the frequency instead.  Under TCG the guest reads the
# host's TSC; under icount (shift=0) one tick is one virtual nanosecond.
# A frequency slightly off scales every time alike, so ratios hold.
tsc_khz() {
	case "$MODE" in
	icount) TSC_KHZ=1000000 ;;
	kvm) TSC_KHZ= ;;	# the guest calibrates against KVM's PIT itself
	*) TSC_KHZ=${PMB_TSC_KHZ:-$(host_tsc_khz)} ;;
	esac
}

while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) need_arg "$1" $#; KERNEL=$2; shift 2 ;;
	--bin) need_arg "$1" $#; BIN=$2; shift 2 ;;
	--out) need_arg "$1" $#; OUT=$2; shift 2 ;;
	--mode) need_arg "$1" $#; MODE=$2; shift 2 ;;
	--mem) need_arg "$1" $#; MEM=$2; shift 2 ;;
	--smp) need_arg "$1" $#; SMP=$2; SMP_SET=1; shift 2 ;;
	--timeout) need_arg "$1" $#; TIMEOUT=$2; shift 2 ;;
	--console) need_arg "$1" $#; CONSOLE=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	--print-tsc-khz) host_tsc_khz; echo; exit 0 ;;
	--print-mode) PRINT_MODE=1; shift ;;
	--) shift; break ;;
	*) usage_err "unknown argument '$1' (guest arguments go after --)" ;;
	esac
done
ARGS=("$@")

[ -n "$KERNEL" ] || usage_err "--kernel is required"
[ -f "$KERNEL" ] || usage_err "--kernel '$KERNEL' is not a file"
case "$MODE" in auto|kvm|tcg|icount) ;; *) usage_err "--mode must be auto, kvm, tcg or icount, not '$MODE'" ;; esac
if [ "$PRINT_MODE" = 1 ]; then
	# The mode --mode MODE resolves to here (auto: the KVM probe decides), for ab.sh.
	command -v "$QEMU" > /dev/null || skip "$QEMU not installed (apt-get install qemu-system-x86)"
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/pmb-vm.XXXXXX")
	trap 'rm -rf "$TMP"' EXIT
	pick_accel
	echo "$MODE"
	exit 0
fi
[ -n "$BIN" ] || usage_err "--bin is required"
[ -n "$OUT" ] || usage_err "--out is required"
[ -d "$BIN" ] || usage_err "--bin '$BIN' is not a directory"
[ -x "$BIN/pmbench" ] && [ -f "$BIN/pmbench" ] || usage_err "--bin '$BIN' has no executable pmbench"
is_uint "$MEM" && [ "$MEM" -ge 128 ] && [ "$MEM" -le 65536 ] || usage_err "--mem must be MiB in 128..65536, not '$MEM'"
is_uint "$SMP" && [ "$SMP" -ge 1 ] && [ "$SMP" -le 64 ] || usage_err "--smp must be in 1..64, not '$SMP'"
is_uint "$TIMEOUT" && [ "$TIMEOUT" -ge 1 ] || usage_err "--timeout must be a positive number of seconds, not '$TIMEOUT'"
for a in ${ARGS[@]+"${ARGS[@]}"}; do
	[[ "$a" != *$'\n'* ]] || usage_err "guest arguments cannot contain newlines"
done
command -v "$QEMU" > /dev/null || skip "$QEMU not installed (apt-get install qemu-system-x86)"
for t in tar truncate; do
	command -v "$t" > /dev/null || skip "$t not installed"
done

KERNEL=$(realpath "$KERNEL")
BIN=$(realpath "$BIN")
mkdir -p "$OUT" || die "cannot create --out $OUT"
OUT=$(realpath "$OUT")
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
KEEP_CONSOLE=1
if [ -z "$CONSOLE" ]; then
	CONSOLE="$OUT/.vm-$STAMP-$$.console.log"
	KEEP_CONSOLE=0
fi
mkdir -p "$(dirname "$CONSOLE")"
: > "$CONSOLE" || die "cannot write console log $CONSOLE"
CONSOLE=$(realpath "$CONSOLE")

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pmb-vm.XXXXXX")
QPID=

# Stop qemu (if still running) and remove temporary files, on every exit.
cleanup() {
	if [ -n "$QPID" ] && kill -0 "$QPID" 2> /dev/null; then
		kill -TERM "$QPID" 2> /dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$QPID" 2> /dev/null || break
			sleep 0.3
		done
		kill -KILL "$QPID" 2> /dev/null || true
		wait "$QPID" 2> /dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- initramfs

make_initramfs() {
	local a
	: > "$TMP/args"
	for a in ${ARGS[@]+"${ARGS[@]}"}; do
		printf '%s\n' "$a" >> "$TMP/args"
	done
	# What the guest's meta.json should say about where it ran.
	{
		echo "export PMB_ENVIRONMENT=qemu-$MODE"
		echo "export PMB_KERNEL_IMAGE='$KERNEL'"
		echo "export PMB_KERNEL_SHA256=$(sha256sum < "$KERNEL" | cut -d' ' -f1)"
		echo "export PMB_TSC_KHZ=$TSC_KHZ"
		echo "export PMB_GIT_REV='${PMB_GIT_REV:-}'"
	} > "$TMP/env"
	"$TOP/kernels/initramfs.sh" --bin "$BIN" --out "$TMP/initramfs.cpio.gz" --init run \
		--args "$TMP/args" --env "$TMP/env" || die "cannot build the initramfs"
}

# ---------------------------------------------------------------- run

# /proc/stat's cpu line as "busy all steal" ticks.
host_ticks() {
	awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8; print b, b + $5 + $6 + $9, $9; exit }' /proc/stat
}

# qemu's own CPU time in ticks (utime + stime), polled while it runs.
qemu_ticks() {
	local f
	f=$(cat "/proc/$1/stat" 2> /dev/null) || return 0
	f=${f##*) }
	set -- $f
	[ $# -ge 13 ] && QEMU_TICKS=$((${12} + ${13}))
}

# What else the host ran while the guest measured, for each run directory:
# host-noise.json, which compare and gate read (docs/gate.md).  Under TCG the
# guest's clock is the host's, so a busy host is a busy guest.
write_noise() {
	local dir=$1 end other all steal pct spct busy why load
	end=$(host_ticks)
	set -- $NOISE_START $end
	other=$(( ($4 - $1) - QEMU_TICKS ))
	[ "$other" -ge 0 ] || other=0
	all=$(( $5 - $2 ))
	steal=$(( $6 - $3 ))
	[ "$all" -gt 0 ] || all=1
	pct=$(awk -v o="$other" -v a="$all" 'BEGIN { printf "%.1f", 100 * o / a }')
	spct=$(awk -v o="$steal" -v a="$all" 'BEGIN { printf "%.1f", 100 * o / a }')
	load=$(cut -d' ' -f1 /proc/loadavg)
	busy=$(awk -v p="$pct" -v s="$spct" -v lp="$PMB_BUSY_OTHER_PCT" -v ls="$PMB_BUSY_STEAL_PCT" \
		'BEGIN { print (p > lp || s > ls) ? "true" : "false" }')
	why="other processes used $pct% of the CPU time beside qemu, steal $spct%, load $load"
	printf '{"busy": %s, "why": "%s", "other_cpu_pct": %s, "steal_pct": %s, "load1": %s, "mode": "%s"}\n' \
		"$busy" "$why" "$pct" "$spct" "$load" "$MODE" > "$dir/host-noise.json"
}

run_qemu() {
	local rc=0
	NOISE_START=$(host_ticks)
	QEMU_TICKS=0
	truncate -s "${DISK_MIB}M" "$TMP/results.img" || die "cannot create the results disk"
	say "booting $(basename "$KERNEL") ($MODE, ${SMP} vCPU, ${MEM} MiB, timeout ${TIMEOUT}s), console $CONSOLE"
	# setpriv --pdeathsig: qemu dies with this script even when it is SIGKILLed.
	setpriv --pdeathsig KILL "$QEMU" "${ACCEL[@]}" -nographic -no-reboot -nic none \
		-m "$MEM" -smp "$SMP,sockets=$SMP,cores=1,threads=1" \
		-kernel "$KERNEL" -initrd "$TMP/initramfs.cpio.gz" \
		-append "$APPEND_BASE${TSC_KHZ:+ tsc_early_khz=$TSC_KHZ}" \
		-drive "file=$TMP/results.img,format=raw,if=virtio" \
		< /dev/null > "$CONSOLE" 2>&1 &
	QPID=$!
	local deadline=$((SECONDS + TIMEOUT))
	while kill -0 "$QPID" 2> /dev/null; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			TIMED_OUT=1
			cleanup_qemu_only
			return
		fi
		qemu_ticks "$QPID"
		sleep 0.2
	done
	wait "$QPID" || rc=$?
	QPID=
	QEMU_RC=$rc
}

cleanup_qemu_only() {
	kill -TERM "$QPID" 2> /dev/null || true
	sleep 1
	kill -KILL "$QPID" 2> /dev/null || true
	wait "$QPID" 2> /dev/null || true
	QPID=
}

# What a guest kernel that lacks a piece prints, and the option that names it.
missing_piece() {
	local line
	line=$(grep -m1 -a "$MISSING_MARK " "$CONSOLE" | tr -d '\r') && { echo "${line#*"$MISSING_MARK" }"; return; }
	if grep -qa 'Failed to execute /init (error -8)' "$CONSOLE"; then
		echo "CONFIG_BINFMT_SCRIPT: the kernel cannot run the shell script /init"
	elif grep -qa 'Failed to execute /init\|No working init found' "$CONSOLE"; then
		echo "CONFIG_BINFMT_ELF, CONFIG_BINFMT_SCRIPT: the kernel cannot run /init"
	elif grep -qa 'Initramfs unpacking failed\|VFS: Unable to mount root fs' "$CONSOLE"; then
		echo "CONFIG_BLK_DEV_INITRD, CONFIG_RD_GZIP: the kernel did not unpack the initramfs"
	elif [ ! -s "$CONSOLE" ] && [ "$QEMU_RC" = 0 ]; then
		echo "CONFIG_SERIAL_8250_CONSOLE: the kernel printed nothing on ttyS0"
	fi
}

check_console() {
	local what='' piece
	piece=$(missing_piece)
	if grep -qa 'Kernel panic' "$CONSOLE"; then
		what="guest kernel panic: $(grep -a -m1 'Kernel panic' "$CONSOLE" | tr -d '\r' | cut -c1-160)"
	elif [ -n "$piece" ]; then
		what="the guest kernel lacks $piece (docs/kernels.md lists what a guest kernel needs)"
	elif [ "$TIMED_OUT" = 1 ]; then
		what="guest timed out after ${TIMEOUT}s (qemu killed)"
	elif ! grep -qa "$START_MARK " "$CONSOLE"; then
		what="guest did not boot (no start marker; qemu exit $QEMU_RC)"
	elif ! grep -qa "$END_MARK exit=" "$CONSOLE"; then
		what="guest did not finish (no end marker; qemu exit $QEMU_RC)"
	elif ! grep -qa "$END_MARK exit=[0-9]* tar=0" "$CONSOLE"; then
		what="guest could not write its results to the results disk"
	fi
	[ -z "$what" ] || die "$what; console log kept: $CONSOLE"
}

# Kernel problems on the console that the guest's run did not see itself
# (before pmbench started, or while it was dying) go into the run directory,
# where compare and gate read them: a WARN anywhere fails the gate.
console_problems() {
	local dir=$1 lines
	lines=$(tr -d '\r' < "$CONSOLE" | grep -a -E 'WARNING:|BUG:|Oops|KASAN|UBSAN|general protection|soft lockup|hung task|blocked for more than' |
		grep -a -v '^PMB-' | head -n 20) || true
	[ -n "$lines" ] || return 0
	if grep -q '"problems": 0' "$dir/meta.json" 2> /dev/null || ! grep -q '"kernel_log"' "$dir/meta.json" 2> /dev/null; then
		printf '%s\n' "$lines" > "$dir/kernel-console.txt"
		warn "the guest kernel logged problems its run did not see: $(printf '%s' "$lines" | head -n1 | cut -c1-160)"
	fi
}

# Unpack the results disk and move each run directory into --out.
collect_results() {
	local stage="$TMP/results" d name rc dirs=()
	mkdir -p "$stage"
	tar -xf "$TMP/results.img" -C "$stage" --no-same-owner 2> "$TMP/tar.err" ||
		die "cannot read the results disk ($(head -n1 "$TMP/tar.err")); console log kept: $CONSOLE"
	[ -f "$stage/.exit" ] || die "results disk has no .exit; console log kept: $CONSOLE"
	rc=$(cat "$stage/.exit")
	is_uint "$rc" && [ "$rc" -le 255 ] || die "bad exit code '$rc' in .exit; console log kept: $CONSOLE"
	for d in "$stage"/* "$stage"/.[!.]*; do
		[ -e "$d" ] || continue
		name=$(basename "$d")
		[ "$name" != .exit ] || continue
		[ ! -L "$d" ] || continue	# the guest's results/latest link
		if [ ! -d "$d" ]; then
			say "warning: guest left a file '$name' outside any run directory; ignored"
			continue
		fi
		[ ! -e "$OUT/$name" ] || die "run directory $OUT/$name already exists (never overwritten); console log kept: $CONSOLE"
		dirs+=("$name")
	done
	for name in ${dirs[@]+"${dirs[@]}"}; do
		cp -p "$CONSOLE" "$stage/$name/console.log"
		write_noise "$stage/$name"
		console_problems "$stage/$name"
		# How the image was built, where kernels/build.sh built it: reports name it.
		[ ! -f "$(dirname -- "$KERNEL")/info.json" ] ||
			cp "$(dirname -- "$KERNEL")/info.json" "$stage/$name/kernel-build.json"
		mv "$stage/$name" "$OUT/$name" || die "cannot move $name into $OUT"
		echo "$OUT/$name"
	done
	if [ ${#dirs[@]} -eq 0 ]; then
		say "warning: the guest wrote no run directory; console log kept: $CONSOLE"
	elif [ "$KEEP_CONSOLE" = 0 ]; then
		rm -f "$CONSOLE"
	fi
	GUEST_RC=$rc
}

TIMED_OUT=0
QEMU_RC=0
GUEST_RC=3
pick_accel
make_initramfs
run_qemu
check_console
collect_results
say "guest pmbench exit code $GUEST_RC"
exit "$GUEST_RC"
