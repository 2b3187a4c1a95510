#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stop exactly what tests/lava/setup.sh started: every process recorded in
# $PMB_LAVA_STATE/pids (default /run/pagemap-bench/lava/pids), newest first,
# by PID, and whatever those processes started (qemu under lava-run, gunicorn
# and apache workers, PostgreSQL's backends).  A record whose PID now belongs
# to another process (a different start time) is skipped.  Nothing is stopped
# by name, and a PostgreSQL that ran before setup was never recorded, so it
# is left running.  The packages, the database and the logs stay.
#
#   tests/lava/teardown.sh
#
# Exit: 0 when nothing recorded runs any more, 3 if something would not stop.
set -euo pipefail

PROG=lava-teardown
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../lib/common.sh
. "$TOP/lib/common.sh"
# shellcheck source=state.sh
. "$TOP/tests/lava/state.sh"

case "${1:-}" in
-h|--help)
	echo "usage: tests/lava/teardown.sh"
	echo "Stop every process tests/lava/setup.sh recorded in $LAVA_PIDS, by PID, and their children."
	exit 0 ;;
'') ;;
*) USAGE_LINE="usage: tests/lava/teardown.sh"; usage_err "unknown argument '$1'" ;;
esac

[ -f "$LAVA_PIDS" ] || { say "nothing to stop (no $LAVA_PIDS)"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root"
T0=$SECONDS

# descendants PID: every live process below PID, from the parent links.
descendants() {
	ps -e -o pid= -o ppid= | awk -v root="$1" '
		{ parent[$1] = $2 }
		END {
			want[root] = 1
			do {
				added = 0
				for (p in parent) if (!(p in want) && (parent[p] in want)) { want[p] = 1; added = 1 }
			} while (added)
			for (p in want) if (p != root) print p
		}'
}

# alive PID: the process exists (a zombie counts as gone).
alive() {
	local stat
	{ read -r stat < "/proc/$1/stat"; } 2> /dev/null || return 1
	stat=${stat##*) }
	[ "${stat:0:1}" != Z ]
}

# wait_gone SECONDS PID...: 0 when all are gone in time.
wait_gone() {
	local secs=$1 i p left
	shift
	for i in $(seq 1 $((secs * 10))); do
		left=0
		for p in "$@"; do alive "$p" && left=1; done
		[ "$left" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

failed=0
stopped=()
# Newest first: the worker before the server, the server before its database.
mapfile -t lines < <(tac "$LAVA_PIDS")
for line in "${lines[@]}"; do
	read -r name pid ticks <<< "$line"
	[ -n "${ticks:-}" ] || continue
	if [ "$(start_ticks "$pid")" != "$ticks" ]; then
		continue	# gone already, or the PID is someone else's now
	fi
	t=$SECONDS
	kids=$(descendants "$pid" | tr '\n' ' ')
	case "$name" in
	postgres)
		# Fast shutdown: the postmaster ends its backends and exits.
		kill -INT "$pid" 2> /dev/null || true ;;
	*)
		# Each was started in its own session and process group.
		kill -TERM -- "-$pid" 2> /dev/null || kill -TERM "$pid" 2> /dev/null || true ;;
	esac
	# shellcheck disable=SC2086
	if ! wait_gone 30 "$pid" $kids; then
		say "$name (pid $pid) did not stop in 30 s: SIGKILL"
		kill -KILL -- "-$pid" 2> /dev/null || true
		# shellcheck disable=SC2086
		kill -KILL "$pid" $kids 2> /dev/null || true
		# shellcheck disable=SC2086
		wait_gone 10 "$pid" $kids || { say "$name (pid $pid) still runs"; failed=1; }
	fi
	stopped+=("$name=$pid($((SECONDS - t))s)")
done

if [ "$failed" = 0 ]; then
	# Runtime files only.  The logs stay for a look after a failed test, and
	# the lavacli config (mode 600) for the next setup, which checks it first.
	rm -rf "$LAVA_PIDS" "$LAVA_STATE/apache2" "$LAVA_STATE/apache2.conf" "$LAVA_STATE/events" \
		"$LAVA_STATE/worker-token"
	say "stopped ${stopped[*]:-nothing} in $((SECONDS - T0))s"
	exit 0
fi
die "some processes would not stop; $LAVA_PIDS kept"
