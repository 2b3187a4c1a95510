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
START_MARK="PMB-GUEST-START"
END_MARK="PMB-GUEST-END"
BUSYBOX=${PMB_BUSYBOX:-/bin/busybox}
QEMU=${PMB_QEMU:-qemu-system-x86_64}
PROBE_DIR=${PMB_RUN_DIR:-/run/pagemap-bench}
DISK_MIB=256
APPEND_BASE="console=ttyS0 panic=-1 tsc=reliable quiet rdinit=/init"

say() { echo "$PROG: $*" >&2; }
die() { echo "$PROG: $*" >&2; exit 3; }
skip() { echo "$PROG: skip: $*" >&2; exit 77; }
usage_line="usage: $PROG --kernel IMAGE --bin DIR --out DIR [--mode auto|kvm|tcg|icount] [--mem MIB] [--smp N] [--timeout SEC] [--console FILE] -- ARGS..."
usage_err() { echo "$PROG: $*" >&2; echo "$usage_line" >&2; exit 64; }

usage() {
	cat <<EOF
$usage_line

Boot IMAGE under QEMU with an initramfs holding busybox and every executable
of --bin DIR, run '/bin/pmbench ARGS... --results /results' in the guest and
copy each run directory it writes into --out (never overwriting one).

  --kernel IMAGE   bzImage to boot (kernels/build.sh prints one)
  --bin DIR        static binaries for the guest (pmbench, pmwork, pmscan)
  --out DIR        where the run directories go (created if missing)
  --mode MODE      auto (kvm if a real probe boots, else tcg), kvm, tcg,
                   icount (tcg -icount shift=0,sleep=off, forces --smp 1)
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
SMP_SET=0
need_arg() { [ "$2" -ge 2 ] || usage_err "option $1 needs an argument"; }
is_uint() { [[ "$1" =~ ^[0-9]+$ ]] && [ "${#1}" -le 9 ]; }

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
	--) shift; break ;;
	*) usage_err "unknown argument '$1' (guest arguments go after --)" ;;
	esac
done
ARGS=("$@")

[ -n "$KERNEL" ] || usage_err "--kernel is required"
[ -n "$BIN" ] || usage_err "--bin is required"
[ -n "$OUT" ] || usage_err "--out is required"
[ -f "$KERNEL" ] || usage_err "--kernel '$KERNEL' is not a file"
[ -d "$BIN" ] || usage_err "--bin '$BIN' is not a directory"
[ -x "$BIN/pmbench" ] && [ -f "$BIN/pmbench" ] || usage_err "--bin '$BIN' has no executable pmbench"
case "$MODE" in auto|kvm|tcg|icount) ;; *) usage_err "--mode must be auto, kvm, tcg or icount, not '$MODE'" ;; esac
is_uint "$MEM" && [ "$MEM" -ge 128 ] && [ "$MEM" -le 65536 ] || usage_err "--mem must be MiB in 128..65536, not '$MEM'"
is_uint "$SMP" && [ "$SMP" -ge 1 ] && [ "$SMP" -le 64 ] || usage_err "--smp must be in 1..64, not '$SMP'"
is_uint "$TIMEOUT" && [ "$TIMEOUT" -ge 1 ] || usage_err "--timeout must be a positive number of seconds, not '$TIMEOUT'"
for a in ${ARGS[@]+"${ARGS[@]}"}; do
	[[ "$a" != *$'\n'* ]] || usage_err "guest arguments cannot contain newlines"
done
[ -x "$BUSYBOX" ] || skip "no static busybox at $BUSYBOX (apt-get install busybox-static)"
command -v "$QEMU" > /dev/null || skip "$QEMU not installed (apt-get install qemu-system-x86)"
for t in cpio gzip tar truncate; do
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

write_init() {
	cat > "$1" <<EOF
#!/bin/sh
# pagemap-bench guest init (generated by kernels/vm.sh)
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec 0</dev/console 1>/dev/console 2>&1
mount -t tmpfs tmpfs /tmp
mkdir -p /sys/fs/cgroup /results
if mount -t cgroup2 cgroup2 /sys/fs/cgroup; then
	echo +memory > /sys/fs/cgroup/cgroup.subtree_control ||
		echo "init: cannot enable the memory controller"
else
	echo "init: cannot mount cgroup2"
fi
. /env
set --
while IFS= read -r a; do
	set -- "\$@" "\$a"
done < /args
echo "$START_MARK \$(uname -r) cpus=\$(grep -c ^processor /proc/cpuinfo)"
/bin/pmbench "\$@" --results /results
rc=\$?
echo \$rc > /results/.exit
tar -cf /dev/vda -C /results .
trc=\$?
sync
echo "$END_MARK exit=\$rc tar=\$trc"
reboot -f
echo "init: reboot failed"
sleep 5
EOF
	chmod 755 "$1"
}

copy_bins() {
	local f root=$1 n=0
	for f in "$BIN"/*; do
		[ -f "$f" ] && [ -x "$f" ] || continue
		if readelf -l "$f" 2> /dev/null | grep -q 'Requesting program interpreter'; then
			say "warning: $(basename "$f") is dynamically linked; it will not run in the guest"
		fi
		rm -f "$root/bin/$(basename "$f")"
		cp "$f" "$root/bin/" || die "cannot copy $f"
		n=$((n + 1))
	done
	say "initramfs: busybox + $n binaries from $BIN"
}

make_initramfs() {
	local root="$TMP/root" a
	mkdir -p "$root"/{bin,dev,proc,sys,tmp,results,etc}
	cp "$BUSYBOX" "$root/bin/busybox" || die "cannot copy $BUSYBOX"
	for a in $("$BUSYBOX" --list); do
		[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
	done
	ln -s bin "$root/sbin"
	copy_bins "$root"
	: > "$root/args"
	for a in ${ARGS[@]+"${ARGS[@]}"}; do
		printf '%s\n' "$a" >> "$root/args"
	done
	# What the guest's meta.json should say about where it ran.
	{
		echo "export PMB_ENVIRONMENT=qemu-$MODE"
		echo "export PMB_KERNEL_IMAGE='$KERNEL'"
		echo "export PMB_KERNEL_SHA256=$(sha256sum < "$KERNEL" | cut -d' ' -f1)"
		echo "export PMB_TSC_KHZ=$TSC_KHZ"
		echo "export PMB_GIT_REV='${PMB_GIT_REV:-}'"
	} > "$root/env"
	write_init "$root/init"
	# The kernel opens /dev/console before /init runs; without the node the
	# init script reopens it itself after mounting devtmpfs.
	mknod "$root/dev/console" c 5 1 2> /dev/null || true
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		gzip -1 > "$TMP/initramfs.cpio.gz" || die "cannot build the initramfs"
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
		if kvm_usable; then MODE=kvm; else MODE=tcg; say "kvm not usable ($KVM_REASON): using tcg"; fi
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

# ---------------------------------------------------------------- run

run_qemu() {
	local rc=0
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

check_console() {
	local what=
	if grep -q 'Kernel panic' "$CONSOLE"; then
		what="guest kernel panic: $(grep -m1 'Kernel panic' "$CONSOLE" | tr -d '\r' | cut -c1-160)"
	elif [ "$TIMED_OUT" = 1 ]; then
		what="guest timed out after ${TIMEOUT}s (qemu killed)"
	elif ! grep -q "$START_MARK " "$CONSOLE"; then
		what="guest did not boot (no start marker; qemu exit $QEMU_RC)"
	elif ! grep -q "$END_MARK exit=" "$CONSOLE"; then
		what="guest did not finish (no end marker; qemu exit $QEMU_RC)"
	elif ! grep -q "$END_MARK exit=[0-9]* tar=0" "$CONSOLE"; then
		what="guest could not write its results to the results disk"
	fi
	[ -z "$what" ] || die "$what; console log kept: $CONSOLE"
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
