# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# What tests/lava/setup.sh and teardown.sh share: where the local LAVA
# instance keeps its state, and the record of every process setup started.
#
# The pid file has one line per process, in start order:
#   <name> <pid> <start time in clock ticks since boot (field 22 of /proc/PID/stat)>
# The start time makes a recycled PID harmless: a line whose process has
# another start time is not ours any more.

LAVA_STATE=${PMB_LAVA_STATE:-/run/pagemap-bench/lava}
LAVA_PIDS=$LAVA_STATE/pids
LAVA_LOGS=$LAVA_STATE/log
LAVA_CONFIG=$LAVA_STATE/lavacli.yaml	# lavacli's config: the identity the scripts use
LAVA_IDENTITY=pmb-local
LAVA_USER=pmb
LAVA_WORKER=pmb-worker
LAVA_DEVICE=pmb-qemu-01
LAVA_DEVICE_TYPE=qemu
LAVA_SETTINGS=/etc/lava-server/settings.d/50-pagemap-bench.yaml
LAVA_DEVICE_DICT=/etc/lava-server/dispatcher-config/devices/$LAVA_DEVICE.jinja2
LAVA_URL=http://localhost/

# start_ticks PID: the process's start time, or nothing when it is gone.
start_ticks() {
	local stat f
	{ read -r stat < "/proc/$1/stat"; } 2> /dev/null || return 0
	# The command name (field 2) may hold spaces: cut after its closing parenthesis.
	stat=${stat##*) }
	read -r -a f <<< "$stat"
	echo "${f[19]}"
}

# recorded_alive NAME: the pid of NAME if its record is there and still the same process.
recorded_alive() {
	local name pid ticks
	[ -f "$LAVA_PIDS" ] || return 1
	while read -r name pid ticks; do
		[ "$name" = "$1" ] || continue
		[ -n "$ticks" ] && [ "$(start_ticks "$pid")" = "$ticks" ] && { echo "$pid"; return 0; }
	done < "$LAVA_PIDS"
	return 1
}

# record NAME PID: append the process to the pid file (before anything waits on it).
record() {
	local ticks
	ticks=$(start_ticks "$2")
	[ -n "$ticks" ] || return 1
	echo "$1 $2 $ticks" >> "$LAVA_PIDS"
}
