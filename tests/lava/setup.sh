#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A local LAVA instance for the LAVA tests, as root, on a machine without
# systemd as PID 1: install Debian's lava-server, lava-dispatcher and lavacli
# (without their Recommends), start PostgreSQL (unless it already runs),
# gunicorn, lava-publisher, lava-scheduler, apache2 and lava-worker by hand
# from their packaged units, and create one qemu device (no KVM).
#
#   tests/lava/setup.sh [--no-install] [--devices N]
#
# Every process it starts is recorded in $PMB_LAVA_STATE/pids (default
# /run/pagemap-bench/lava/pids); tests/lava/teardown.sh stops exactly those.
# Running it again starts only what is not running.  It writes the lavacli
# config lava/lava.sh uses ($PMB_LAVA_STATE/lavacli.yaml, identity pmb-local).
# Exit: 0 running, 3 something failed (one line naming the log), 64 bad
# options, 77 cannot run here (not root, not Debian).
set -euo pipefail

PROG=lava-setup
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../lib/common.sh
. "$TOP/lib/common.sh"
# shellcheck source=state.sh
. "$TOP/tests/lava/state.sh"
USAGE_LINE="usage: tests/lava/setup.sh [--no-install] [--devices N]"

# What LAVA needs here, without Recommends (those pull a distribution kernel
# and run update-initramfs twice): the server and dispatcher, the web front,
# the client, qemu for the device, and what the project's initramfs and
# LAVA's overlay of it need.
PACKAGES="lava-server lava-dispatcher lavacli apache2 qemu-system-x86 busybox-static cpio gzip
	python3-yaml curl"
APT=(apt-get -o DPkg::Lock::Timeout=1200 -y -q --no-install-recommends)

INSTALL=1 NDEV=1
while [ $# -gt 0 ]; do
	case "$1" in
	--no-install) INSTALL=0; shift ;;
	--devices) need_arg "$1" $#; NDEV=$2; shift 2 ;;
	-h|--help)
		cat <<EOF
$USAGE_LINE

Install (unless --no-install) and start a local LAVA instance: PostgreSQL (if
not already running), gunicorn, lava-publisher, lava-scheduler, apache2 and
lava-worker, with the user '$LAVA_USER', the worker '$LAVA_WORKER' and the qemu
device '$LAVA_DEVICE' (no KVM); --devices N makes N of them (pmb-qemu-01..N:
N jobs at a time, and retires any beyond N).  PIDs go to $LAVA_PIDS, logs to
$LAVA_LOGS/, the lavacli identity '$LAVA_IDENTITY' to $LAVA_CONFIG.
Idempotent: what already runs is left as it is.  tests/lava/teardown.sh stops it.
EOF
		exit 0 ;;
	*) usage_err "unknown argument '$1'" ;;
	esac
done

is_uint "$NDEV" && [ "$NDEV" -ge 1 ] && [ "$NDEV" -le 9 ] || usage_err "--devices must be 1..9, not '$NDEV'"
DEVICES=()
for i in $(seq 1 "$NDEV"); do DEVICES+=("pmb-qemu-0$i"); done
[ "$(id -u)" = 0 ] || skip "needs root (it installs packages and starts services)"
command -v dpkg-query > /dev/null || skip "not a Debian system (the setup uses Debian's LAVA packages)"
mkdir -p "$LAVA_STATE" "$LAVA_LOGS"

T0=$SECONDS

# Keep only the records of processes that still run.
if [ -f "$LAVA_PIDS" ]; then
	while read -r name pid ticks; do
		[ -n "$ticks" ] && [ "$(start_ticks "$pid")" = "$ticks" ] && echo "$name $pid $ticks"
	done < "$LAVA_PIDS" > "$LAVA_PIDS.new" || true
	mv -f "$LAVA_PIDS.new" "$LAVA_PIDS"
else
	: > "$LAVA_PIDS"
fi

missing() {
	local p out=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "ok installed" || out="$out $p"
	done
	echo "$out"
}

apt_install() {
	local log="$LAVA_LOGS/apt.log"
	say "installing:$*"
	# shellcheck disable=SC2068
	if ! DEBIAN_FRONTEND=noninteractive "${APT[@]}" install $@ >> "$log" 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=1200 -q update >> "$log" 2>&1 ||
			die "apt-get update failed; see $log"
		# shellcheck disable=SC2068
		DEBIAN_FRONTEND=noninteractive "${APT[@]}" install $@ >> "$log" 2>&1 ||
			die "apt-get install failed; see $log"
	fi
}

# ------------------------------------------------------------- PostgreSQL

PG_OURS=0
pg_cluster() {	# version name port datadir of the first cluster
	pg_lsclusters -h 2> /dev/null | awk 'NR == 1 { print $1, $2, $3, $6 }'
}

pg_up() { pg_isready -q -h /var/run/postgresql 2> /dev/null; }

# Start the first cluster's postmaster in its own session, as postgres, from
# its own config (what pg_ctlcluster does, without daemonizing: its PID is the
# one recorded).
start_postgres() {
	local ver name port data pid i
	if pid=$(recorded_alive postgres); then
		PG_OURS=1
		return 0
	fi
	if pg_up; then
		say "postgres already runs and was not started here: left alone"
		return 0
	fi
	read -r ver name port data <<< "$(pg_cluster)"
	[ -n "${data:-}" ] || die "no PostgreSQL cluster (pg_lsclusters lists none)"
	install -d -o postgres -g postgres -m 2775 /var/run/postgresql
	setsid setpriv --reuid=postgres --regid=postgres --init-groups \
		"/usr/lib/postgresql/$ver/bin/postgres" -D "$data" \
		-c "config_file=/etc/postgresql/$ver/$name/postgresql.conf" \
		< /dev/null >> "$LAVA_LOGS/postgres.log" 2>&1 &
	pid=$!
	record postgres "$pid" || die "postgres exited at once; see $LAVA_LOGS/postgres.log"
	PG_OURS=1
	for i in $(seq 1 300); do
		pg_up && return 0
		kill -0 "$pid" 2> /dev/null || die "postgres exited; see $LAVA_LOGS/postgres.log"
		sleep 0.1
	done
	die "postgres did not accept connections in 30 s; see $LAVA_LOGS/postgres.log"
}

# ---------------------------------------------------------------- install

T_INSTALL=0
if [ "$INSTALL" = 1 ]; then
	t=$SECONDS
	m=$(missing postgresql)
	[ -z "$m" ] || apt_install postgresql
	T_INSTALL=$((SECONDS - t))
fi
# Before lava-server's postinst: it creates the database only when PostgreSQL runs.
t=$SECONDS
start_postgres
T_START=$((SECONDS - t))
if [ "$INSTALL" = 1 ]; then
	t=$SECONDS
	m=$(missing $PACKAGES)
	[ -z "$m" ] || apt_install $m
	T_INSTALL=$((T_INSTALL + SECONDS - t))
else
	m=$(missing $PACKAGES)
	[ -z "$m" ] || skip "not installed:$m (run without --no-install)"
fi
t=$SECONDS

# The database: lava-server's postinst skips it when PostgreSQL was down.
db_exists() {
	[ "$(runuser -u postgres -- psql -tAq -h /var/run/postgresql \
		-c "select 1 from pg_database where datname = 'lavaserver'" 2> /dev/null)" = 1 ]
}
if ! db_exists || [ ! -f /etc/lava-server/settings.d/00-database.yaml ]; then
	say "creating the LAVA database"
	python3 /usr/share/lava-server/postinst.py --config --db --fixup >> "$LAVA_LOGS/postinst.log" 2>&1 ||
		die "creating the LAVA database failed; see $LAVA_LOGS/postinst.log"
fi

# LAVA's daemons drop to lavaserver and reopen their logs by path.
chown lavaserver:adm "$LAVA_LOGS"
chmod 2775 "$LAVA_LOGS"

# Events on: the scheduler and the worker hear about a new job at once
# instead of polling (up to 20 s per job otherwise).  The event sockets stay
# on the loopback and in our state directory (the defaults are every
# interface and /tmp).
mkdir -p "$LAVA_STATE/events"
chown lavaserver:lavaserver "$LAVA_STATE/events"
settings="# Written by pagemap-bench tests/lava/setup.sh
EVENT_NOTIFICATION: true
EVENT_SOCKET: \"tcp://127.0.0.1:5500\"
INTERNAL_EVENT_SOCKET: \"ipc://$LAVA_STATE/events/lava.events\"
"
if [ "$(cat "$LAVA_SETTINGS" 2> /dev/null)" != "$(printf '%s' "$settings")" ]; then
	printf '%s' "$settings" > "$LAVA_SETTINGS"
	chown lavaserver:lavaserver "$LAVA_SETTINGS"
fi

# ---------------------------------------------------------------- services

# start NAME COMMAND...: run COMMAND in its own session, stdio to the log,
# and record it; a recorded process that still runs is left alone.
start() {
	local name=$1 pid
	shift
	if pid=$(recorded_alive "$name"); then
		say "$name already running (pid $pid)"
		return 0
	fi
	setsid "$@" < /dev/null >> "$LAVA_LOGS/$name.out" 2>&1 &
	pid=$!
	record "$name" "$pid" || die "$name exited at once; see $LAVA_LOGS/$name.out"
}

# wait_http NAME URL SECONDS: until URL answers 2xx/3xx.
wait_http() {
	local name=$1 url=$2 secs=$3 i pid
	for i in $(seq 1 $((secs * 5))); do
		curl -fsS -o /dev/null --max-time 5 "$url" 2> /dev/null && return 0
		if pid=$(recorded_alive "$name"); then :; else
			die "$name is not running; see $LAVA_LOGS/$name.out"
		fi
		sleep 0.2
	done
	die "$name did not answer $url in ${secs}s; see $LAVA_LOGS/$name.out"
}

manage() { lava-server manage "$@"; }

# gunicorn on 127.0.0.1:8000 (lava-server-gunicorn.service), fewer workers on 2 cores.
start gunicorn gunicorn3 lava_server.wsgi --log-level info --log-file "$LAVA_LOGS/gunicorn.log" \
	-u lavaserver -g lavaserver --worker-class eventlet --workers 2 --bind 127.0.0.1:8000
start lava-publisher lava-server manage lava-publisher --level INFO \
	--log-file "$LAVA_LOGS/lava-publisher.log" --host 127.0.0.1 --port 8001
start lava-scheduler lava-server manage lava-scheduler --level INFO \
	--log-file "$LAVA_LOGS/lava-scheduler.log"

# apache2 as the reverse proxy, with lava-server's own site, from a config of
# our own (loopback only; nothing under /etc/apache2 is enabled or changed).
APACHE_CONF=$LAVA_STATE/apache2.conf
mkdir -p "$LAVA_STATE/apache2"
cat > "$APACHE_CONF" <<EOF
# Written by pagemap-bench tests/lava/setup.sh
ServerRoot /etc/apache2
ServerName localhost
PidFile $LAVA_STATE/apache2/apache2.pid
DefaultRuntimeDir $LAVA_STATE/apache2
Mutex file:$LAVA_STATE/apache2 default
Listen 127.0.0.1:80
User www-data
Group www-data
Define APACHE_LOG_DIR $LAVA_LOGS
ErrorLog $LAVA_LOGS/apache2-error.log
LogLevel warn
LogFormat "%h %l %u %t \"%r\" %>s %O" combined
Include mods-available/mpm_event.load
Include mods-available/mpm_event.conf
Include mods-available/authz_core.load
Include mods-available/mime.load
Include mods-available/alias.load
Include mods-available/dir.load
Include mods-available/proxy.load
Include mods-available/proxy_http.load
Include mods-available/proxy_wstunnel.load
TypesConfig /etc/mime.types
Include sites-available/lava-server.conf
EOF
/usr/sbin/apache2 -f "$APACHE_CONF" -t > "$LAVA_LOGS/apache2-configtest.log" 2>&1 ||
	die "apache2 config test failed; see $LAVA_LOGS/apache2-configtest.log"
start apache2 /usr/sbin/apache2 -f "$APACHE_CONF" -DFOREGROUND

wait_http gunicorn http://127.0.0.1:8000/api/v0.2/ 60
wait_http apache2 "${LAVA_URL}api/v0.2/" 30

# ----------------------------------------------------------------- objects

lavacli_local() { XDG_CONFIG_HOME=$LAVA_STATE lavacli -i "$LAVA_IDENTITY" "$@"; }

# The device dictionaries: QEMU under TCG, as KVM does not work here.
write_device_dicts() {
	local d i=0 f
	for d in "${DEVICES[@]}"; do
		i=$((i + 1))
		f=/etc/lava-server/dispatcher-config/devices/$d.jinja2
		cat > "$f.tmp" <<EOF
{# Written by pagemap-bench tests/lava/setup.sh: QEMU under TCG (no usable KVM here) #}
{% extends 'qemu.jinja2' %}
{% set no_kvm = True %}
{% set mac_addr = '52:54:00:12:34:$((58 + i))' %}
EOF
		chown lavaserver:lavaserver "$f.tmp"
		mv -f "$f.tmp" "$f"
	done
}

# The user, its API token, the worker, the device type and the device, with
# lava-server manage (about 3 s a call); skipped when the identity of an
# earlier setup still reaches the device.
make_objects() {
	local token
	if ! manage users list 2> /dev/null | grep -qw "$LAVA_USER"; then
		manage users add "$LAVA_USER" --superuser --staff --passwd "$(head -c 18 /dev/urandom | base64)" \
			>> "$LAVA_LOGS/objects.log" 2>&1 || die "cannot add the LAVA user; see $LAVA_LOGS/objects.log"
	fi
	token=$(manage tokens list --user "$LAVA_USER" --csv 2> /dev/null | awk -F, 'NR > 1 && $2 != "" { print $2; exit }')
	if [ -z "$token" ]; then
		manage tokens add --user "$LAVA_USER" > /dev/null 2>> "$LAVA_LOGS/objects.log" ||
			die "cannot add a token; see $LAVA_LOGS/objects.log"
		token=$(manage tokens list --user "$LAVA_USER" --csv 2> /dev/null | awk -F, 'NR > 1 && $2 != "" { print $2; exit }')
	fi
	[ -n "$token" ] || die "no API token for $LAVA_USER; see $LAVA_LOGS/objects.log"
	(
		umask 077
		cat > "$LAVA_CONFIG.tmp" <<EOF
# Written by pagemap-bench tests/lava/setup.sh: the local instance.
$LAVA_IDENTITY:
  uri: ${LAVA_URL}RPC2
  username: $LAVA_USER
  token: $token
EOF
	)
	mv -f "$LAVA_CONFIG.tmp" "$LAVA_CONFIG"
	if ! manage workers list 2> /dev/null | grep -qw "$LAVA_WORKER"; then
		manage workers add "$LAVA_WORKER" >> "$LAVA_LOGS/objects.log" 2>&1 ||
			die "cannot add the worker; see $LAVA_LOGS/objects.log"
	fi
	if ! manage device-types list 2> /dev/null | grep -qw "$LAVA_DEVICE_TYPE"; then
		manage device-types add "$LAVA_DEVICE_TYPE" >> "$LAVA_LOGS/objects.log" 2>&1 ||
			die "cannot add device type $LAVA_DEVICE_TYPE; see $LAVA_LOGS/objects.log"
	fi
	write_device_dicts
	local d list
	list=$(manage devices list --all 2> /dev/null || manage devices list 2> /dev/null)
	for d in "${DEVICES[@]}"; do
		echo "$list" | grep -qw "$d" && continue
		manage devices add --device-type "$LAVA_DEVICE_TYPE" --worker "$LAVA_WORKER" "$d" \
			>> "$LAVA_LOGS/objects.log" 2>&1 || die "cannot add device $d; see $LAVA_LOGS/objects.log"
	done
}

worker_token() {
	lavacli_local workers show "$LAVA_WORKER" 2> /dev/null | awk -F' *: *' '$1 == "token" { print $2 }'
}

if [ -f "$LAVA_CONFIG" ] && lavacli_local devices show "${DEVICES[-1]}" > /dev/null 2>&1 &&
	[ -n "$(worker_token)" ]; then
	write_device_dicts
else
	make_objects
fi
WORKER_TOKEN=$(worker_token)
[ -n "$WORKER_TOKEN" ] || die "no token for worker $LAVA_WORKER (lavacli workers show)"

# --ping-interval 2: the worker reports a finished job at its next ping
# (every 20 s by default); new jobs reach it by event at once.
# The token from a file, not the command line, where ps shows it.
(umask 077; printf '%s\n' "$WORKER_TOKEN" > "$LAVA_STATE/worker-token")
start lava-worker lava-worker --level INFO --url "$LAVA_URL" --name "$LAVA_WORKER" \
	--token-file "$LAVA_STATE/worker-token" --ping-interval 2 --log-file "$LAVA_LOGS/lava-worker.log"

# Ready when the worker is online and the device can take a job.
ok=0
for i in $(seq 1 150); do
	if lavacli_local workers show "$LAVA_WORKER" 2> /dev/null | grep -qi 'state *: *Online'; then
		ok=1
		break
	fi
	recorded_alive lava-worker > /dev/null || die "lava-worker exited; see $LAVA_LOGS/lava-worker.log"
	sleep 0.2
done
[ "$ok" = 1 ] || die "worker $LAVA_WORKER not online after 30 s; see $LAVA_LOGS/lava-worker.log"
# Our devices healthy; those of an earlier, larger --devices retired.
lavacli_local devices list -a > "$LAVA_STATE/devices.txt" 2> /dev/null ||
	die "cannot list the devices (lavacli devices list)"
while read -r name health; do
	case " ${DEVICES[*]} " in
	*" $name "*)
		case "$health" in
		Good|Unknown) ;;
		*) lavacli_local devices update --health GOOD "$name" >> "$LAVA_LOGS/objects.log" 2>&1 ||
			die "cannot set $name healthy; see $LAVA_LOGS/objects.log" ;;
		esac ;;
	*)
		[ "$health" = Retired ] ||
			lavacli_local devices update --health RETIRED "$name" >> "$LAVA_LOGS/objects.log" 2>&1 ||
			die "cannot retire $name; see $LAVA_LOGS/objects.log" ;;
	esac
done < <(awk '$1 == "*" && $2 ~ /^pmb-qemu-0[1-9]$/ { n = split($NF, f, ","); print $2, f[n] }' "$LAVA_STATE/devices.txt")
rm -f "$LAVA_STATE/devices.txt"
for name in postgres gunicorn lava-publisher lava-scheduler apache2 lava-worker; do
	[ "$name" != postgres ] || [ "$PG_OURS" = 1 ] || continue
	recorded_alive "$name" > /dev/null || die "$name is not running; see $LAVA_LOGS/$name.out and $LAVA_LOGS/$name.log"
done
T_START=$((T_START + SECONDS - t))

say "install ${T_INSTALL}s, start ${T_START}s, total $((SECONDS - T0))s"
say "running: $(awk '{ printf "%s%s=%s", sep, $1, $2; sep = " " }' "$LAVA_PIDS")"
[ "$PG_OURS" = 1 ] || say "postgres: not started here (already running), teardown leaves it"
say "lavacli: XDG_CONFIG_HOME=$LAVA_STATE lavacli -i $LAVA_IDENTITY ...  (lava/lava.sh finds it)"
