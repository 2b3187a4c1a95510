#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pagemap-bench on LAVA: render a job for a kernel image, submit it, wait for
# it, take the run directory back out of its log, and the stock-against-
# patched A/B as four LAVA jobs.
#
#   lava/lava.sh [--identity NAME | --uri URI] SUBCOMMAND [options]   (SUBCOMMAND --help)
#
# Subcommands: job, submit, wait, fetch, run, ab.  docs/lava.md has the lab
# setup, the device types and how results come back.
set -euo pipefail

PROG=lava
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../lib/common.sh
. "$TOP/lib/common.sh"
BIN=${PMB_BIN:-$TOP/build/bin}
RESULTS=${PMB_RESULTS:-$TOP/results}
LOCAL_STATE=${PMB_LAVA_STATE:-/run/pagemap-bench/lava}
IDENTITY=${PMB_LAVA_IDENTITY:-}
URI=${PMB_LAVA_URI:-}
USAGE_LINE="usage: lava/lava.sh [--identity NAME | --uri URI] job|submit|wait|fetch|run|ab [options]"
# Guest kernel command line: as kernels/vm.sh boots it.
APPEND_BASE="console=ttyS0 panic=-1 tsc=reliable quiet rdinit=/init"

usage() {
	cat <<EOF
$USAGE_LINE

pagemap-bench on a LAVA lab: each boot of a kernel is one LAVA job that runs
lava/pagemap-bench.yaml in the project's initramfs and prints the run
directory into its log, from which 'fetch' takes it back, checked.

  job --kernel IMAGE [options] [run options]   render a job (YAML) for IMAGE
  submit JOB.yaml                              submit it; prints the job id
  wait JOB [--timeout SEC]                     until it finishes; 0 if Complete
  fetch JOB --out DIR | --log FILE --out DIR   the run directory out of the log
  run --kernel IMAGE [options] [run options]   job, submit, wait and fetch
  ab --stock IMAGE --patched IMAGE [options] [run options]
                                               the A/B of kernels/ab.sh, as LAVA jobs

Which LAVA: --uri URI (or PMB_LAVA_URI, e.g. https://user:token@lab/RPC2), else
the lavacli identity --identity NAME (or PMB_LAVA_IDENTITY) from lavacli's
config, else the local instance of tests/lava/setup.sh ($LOCAL_STATE/lavacli.yaml),
else lavacli's identity 'default'.

Exit codes: 0 done (ab: the gate's code: 0 pass, 1 regression, 2 incorrect,
4 inconclusive), 3 LAVA unreachable or refusing, a job not Complete, or a
failed transfer (one line), 64 usage error, 77 cannot run here (no lavacli,
no build/bin/pmbench).
EOF
}

# ---------------------------------------------------------------- lavacli

LAVACLI=()
lavacli_setup() {
	[ ${#LAVACLI[@]} -eq 0 ] || return 0
	command -v lavacli > /dev/null || skip "lavacli not installed (apt-get install lavacli)"
	if [ -n "$URI" ]; then
		LAVACLI=(lavacli --uri "$URI")
	elif [ -n "$IDENTITY" ]; then
		LAVACLI=(lavacli -i "$IDENTITY")
	elif [ -f "$LOCAL_STATE/lavacli.yaml" ]; then
		LAVACLI=(env "XDG_CONFIG_HOME=$LOCAL_STATE" lavacli -i pmb-local)
	else
		LAVACLI=(lavacli)
	fi
}

# lc ARGS...: lavacli with the chosen instance; its stderr goes to $LC_ERR.
LC_ERR=/dev/null
lc() { lavacli_setup; "${LAVACLI[@]}" "$@" 2> "$LC_ERR"; }

# Why a lavacli call failed, in one line: the last line it printed on stderr,
# else on stdout (FILE: where that went; lavacli prints "Unable to connect: ..."
# there).
lc_reason() {	# [FILE]
	local f r
	for f in "$LC_ERR" "$@"; do
		r=$(grep -v '^[[:space:]]*$' "$f" 2> /dev/null | tail -n 1 | cut -c1-200) || true
		[ -z "$r" ] || { echo "$r"; return 0; }
	done
}

# A job's field from `lavacli jobs show --yaml`: state, health, device, ...
job_field() {	# FILE KEY
	awk -v k="$2" -F': *' '$1 == k { sub(/^[^:]*: */, ""); gsub(/^'\''|'\''$/, ""); print; exit }' "$1"
}

# Why a job failed: LAVA's own result for the job (error type and message).
job_error() {	# ID
	local line
	line=$(lc jobs logs --raw --no-follow --filters results "$1" 2> /dev/null | grep '"case": "job"' | tail -n 1) || true
	[ -n "$line" ] || return 0
	printf '%s: %s\n' "$(echo "$line" | sed -n 's/.*"error_type": "\([^"]*\)".*/\1/p')" \
		"$(echo "$line" | sed -n 's/.*"error_msg": "\([^"]*\)".*/\1/p' | cut -c1-200)"
}

# ------------------------------------------------------------------ checks

yq() {	# a YAML single-quoted scalar
	printf "'%s'" "${1//\'/\'\'}"
}

check_run_args() {	# the guest's pmbench run options: parsed as the host's pmbench parses them
	local a
	for a in "$@"; do
		[[ "$a" =~ ^[A-Za-z0-9=,._:/+%-]+$ ]] ||
			usage_err "run option '$a': LAVA passes run options as one word list, so each must be
one word of letters, digits and =,._:/+%- only"
	done
	[ -x "$BIN/pmbench" ] || skip "no $BIN/pmbench (make builds it; ./run.sh does it first)"
	if ! "$BIN/pmbench" run "$@" --help > /dev/null 2>&1; then
		"$BIN/pmbench" run "$@" --help > /dev/null || true
		exit "$PMB_EX_USAGE"
	fi
}

# --------------------------------------------------------------------- job

job_usage() {
	cat <<EOF
usage: lava/lava.sh job --kernel IMAGE [options] [run options]

Write a LAVA job (YAML) that boots IMAGE with the project's initramfs and runs
lava/pagemap-bench.yaml: '/bin/pmbench run [run options] --results /results',
every verdict and median as a LAVA test case, the run directory framed into
the log.  The kernel and the initramfs are copied into --artifacts, which the
job names by --url-base.

  --kernel IMAGE       the bzImage (kernels/build.sh prints one)
  --device-type T      qemu (default: lava/templates/qemu.yaml) or x86 (bare
                       metal over iPXE/TFTP: lava/templates/x86-baremetal.yaml)
  --mode M             qemu: icount (default: -icount shift=0,sleep=off, one
                       vCPU, time counted in instructions), tcg, or kvm (the
                       device must have KVM; its dictionary must not set no_kvm)
  --kvm, --no-kvm      --mode kvm; --mode icount
  --mem MIB            guest memory (default 1024)
  --smp N              vCPUs for tcg and kvm (default 2; icount uses 1)
  --tsc-khz KHZ        tcg: the worker's TSC rate (default: this host's,
                       kernels/vm.sh --print-tsc-khz)
  --timeout MIN        the test action's timeout (default 60)
  --label TEXT         names the boot in the job (e.g. A1)
  --artifacts DIR      where kernel and initramfs are put (default
                       results/lava-artifacts)
  --url-base URL       how the lab's dispatcher reaches --artifacts
                       (default file://<artifacts>/, right for a local worker)
  --initramfs FILE     use this initramfs instead of building one from --bin
  --bin DIR            static binaries for the initramfs (default build/bin)
  --out FILE           write the job here (default stdout)

Exit: 0, 3 when the initramfs cannot be built, 64 bad options, 77 no build/bin.
EOF
}

# Render TEMPLATE: @@NAME@@ -> $PMBV_NAME (inserted as is), and a line that
# holds only @@TESTDEF@@ -> the test definition, indented like that line.
# LAVA takes neither 'params' in an inline definition nor 'parameters' beside
# it, so the definition's params block is left out and each of its params
# becomes an assignment at the top of run.steps: NAME='$PMBP_NAME' where that
# is set, else NAME='<the default>'.  No value holds a single quote.
render() {	# TEMPLATE TESTDEF
	PMBV_TESTDEF_FILE=$2 awk '
		function sq(v) { gsub(/'\''/, "'\'\''", v); return "'\''" v "'\''" }
		function testdef(ind,   l, f, k, v, n, keys, vals, inparams, inrun, i) {
			f = ENVIRON["PMBV_TESTDEF_FILE"]; n = 0
			while ((getline l < f) > 0) {
				if (l ~ /^params:/) { inparams = 1; continue }
				if (inparams && l ~ /^[^ #]/) inparams = 0
				if (inparams) {
					if (match(l, /^  [A-Z][A-Z0-9_]*:/)) {
						k = substr(l, 3, RLENGTH - 3)
						v = substr(l, RLENGTH + 1); sub(/^ */, "", v)
						if (v ~ /^".*"$/) v = substr(v, 2, length(v) - 2)
						if (("PMBP_" k) in ENVIRON) v = ENVIRON["PMBP_" k]
						keys[++n] = k; vals[n] = v
					}
					continue
				}
				if (l ~ /^run:/) inrun = 1
				print (l == "" ? "" : ind l)
				if (inrun && l ~ /^  steps:/) {
					for (i = 1; i <= n; i++) print ind "  - " sq(keys[i] "=" sq(vals[i]))
					inrun = 0
				}
			}
			close(f)
		}
		/^[ \t]*@@TESTDEF@@[ \t]*$/ {
			ind = $0; sub(/@@TESTDEF@@.*/, "", ind)
			testdef(ind)
			next
		}
		{
			out = ""; s = $0
			while (match(s, /@@[A-Z0-9_]+@@/)) {
				key = "PMBV_" substr(s, RSTART + 2, RLENGTH - 4)
				if (!(key in ENVIRON)) { print "lava: template: no value for " key > "/dev/stderr"; exit 3 }
				out = out substr(s, 1, RSTART - 1) ENVIRON[key]
				s = substr(s, RSTART + RLENGTH)
			}
			print out s
		}' "$1"
}

# Copy FILE into the artifacts directory under a content name: PREFIX-<sha12>SUFFIX.
stage_artifact() {	# FILE PREFIX SUFFIX -> name
	local f=$1 sum name
	sum=$(sha256sum < "$f" | cut -d' ' -f1)
	name="$2-${sum:0:16}$3"
	if [ ! -f "$ARTIFACTS/$name" ]; then
		cp "$f" "$ARTIFACTS/.$name.$$" && mv -f "$ARTIFACTS/.$name.$$" "$ARTIFACTS/$name" ||
			die "cannot copy $f into $ARTIFACTS"
	fi
	echo "$name"
}

# Parse the job options into J_* variables; the rest are run options (J_RUN).
J_KERNEL='' J_TYPE=qemu J_MODE=icount J_MEM=1024 J_SMP=2 J_TSC='' J_TIMEOUT=60 J_LABEL=''
J_ARTIFACTS='' J_URLBASE='' J_INITRAMFS='' J_OUT=''
J_RUN=()
parse_job_opt() {	# returns the number of words used, 0 for a run option
	case "$1" in
	--kernel) need_arg "$1" "$2"; J_KERNEL=$3; return 2 ;;
	--device-type) need_arg "$1" "$2"; J_TYPE=$3; return 2 ;;
	--mode) need_arg "$1" "$2"; J_MODE=$3; return 2 ;;
	--kvm) J_MODE=kvm; return 1 ;;
	--no-kvm) J_MODE=icount; return 1 ;;
	--mem) need_arg "$1" "$2"; J_MEM=$3; return 2 ;;
	--smp) need_arg "$1" "$2"; J_SMP=$3; return 2 ;;
	--tsc-khz) need_arg "$1" "$2"; J_TSC=$3; return 2 ;;
	--timeout) need_arg "$1" "$2"; J_TIMEOUT=$3; return 2 ;;
	--label) need_arg "$1" "$2"; J_LABEL=$3; return 2 ;;
	--artifacts) need_arg "$1" "$2"; J_ARTIFACTS=$3; return 2 ;;
	--url-base) need_arg "$1" "$2"; J_URLBASE=$3; return 2 ;;
	--initramfs) need_arg "$1" "$2"; J_INITRAMFS=$3; return 2 ;;
	--bin) need_arg "$1" "$2"; BIN=$3; return 2 ;;
	esac
	return 0
}

check_job_opts() {
	[ -n "$J_KERNEL" ] || usage_err "--kernel IMAGE is required"
	[ -f "$J_KERNEL" ] || usage_err "--kernel '$J_KERNEL' is not a file"
	[[ "$(realpath "$J_KERNEL")" != *[\'\"]* ]] || usage_err "--kernel: the path may not hold quotes"
	case "$J_TYPE" in qemu|x86) ;; *) usage_err "--device-type must be qemu or x86, not '$J_TYPE'" ;; esac
	case "$J_MODE" in icount|tcg|kvm) ;; *) usage_err "--mode must be icount, tcg or kvm, not '$J_MODE'" ;; esac
	is_uint "$J_MEM" && [ "$J_MEM" -ge 256 ] && [ "$J_MEM" -le 65536 ] || usage_err "--mem must be MiB in 256..65536, not '$J_MEM'"
	is_uint "$J_SMP" && [ "$J_SMP" -ge 1 ] && [ "$J_SMP" -le 64 ] || usage_err "--smp must be in 1..64, not '$J_SMP'"
	[ -z "$J_TSC" ] || is_uint "$J_TSC" || usage_err "--tsc-khz must be a number of kHz, not '$J_TSC'"
	is_uint "$J_TIMEOUT" && [ "$J_TIMEOUT" -ge 1 ] || usage_err "--timeout must be minutes, not '$J_TIMEOUT'"
	[[ "$J_LABEL" =~ ^[A-Za-z0-9._-]*$ ]] || usage_err "--label: letters, digits, '.', '_' and '-' only"
	[ -z "$J_INITRAMFS" ] || [ -f "$J_INITRAMFS" ] || usage_err "--initramfs '$J_INITRAMFS' is not a file"
	[ -z "$J_URLBASE" ] || [[ "$J_URLBASE" =~ ^(https?|file|ftp)://[^\'\"[:space:]]+$ ]] ||
		usage_err "--url-base must be an http(s)://, ftp:// or file:// URL, not '$J_URLBASE'"
	check_run_args ${J_RUN[@]+"${J_RUN[@]}"}
}

# The initramfs for the LAVA test shell: busybox, the static binaries and an
# /init that leaves a shell on the console (kernels/initramfs.sh --init shell).
build_initramfs() {	# -> file
	local f="$TMP/initramfs.cpio.gz"
	"$TOP/kernels/initramfs.sh" --bin "$BIN" --out "$f" --init shell 2> "$TMP/initramfs.log" ||
		die "cannot build the initramfs: $(tail -n 1 "$TMP/initramfs.log")"
	echo "$f"
}

# write_job FILE: render the job for the J_* options into FILE.
write_job() {
	local out=$1 kernel ramdisk kname rname ksum rsum template tsc='' opts append env key
	ARTIFACTS=${J_ARTIFACTS:-$RESULTS/lava-artifacts}
	mkdir -p "$ARTIFACTS" || die "cannot create $ARTIFACTS"
	ARTIFACTS=$(realpath "$ARTIFACTS")
	kernel=$(realpath "$J_KERNEL")
	ramdisk=${J_INITRAMFS:-$(build_initramfs)}
	kname=$(stage_artifact "$kernel" bzImage "")
	rname=$(stage_artifact "$ramdisk" pmb-initramfs .cpio.gz)
	ksum=$(sha256sum < "$ARTIFACTS/$kname" | cut -d' ' -f1)
	rsum=$(sha256sum < "$ARTIFACTS/$rname" | cut -d' ' -f1)
	local base=${J_URLBASE:-file://$ARTIFACTS/}
	base=${base%/}/
	case "$J_MODE" in
	icount)
		tsc=1000000
		opts="['-smp 1', '-icount shift=0,sleep=off', '-no-reboot']" ;;
	tcg)
		tsc=${J_TSC:-$("$TOP/kernels/vm.sh" --print-tsc-khz)}
		opts="['-smp $J_SMP,sockets=$J_SMP,cores=1,threads=1', '-no-reboot']" ;;
	kvm)
		opts="['-smp $J_SMP,sockets=$J_SMP,cores=1,threads=1', '-no-reboot']" ;;
	esac
	append="$APPEND_BASE${tsc:+ tsc_early_khz=$tsc}"
	if [ "$J_TYPE" = x86 ]; then
		template=$TOP/lava/templates/x86-baremetal.yaml
		env=host
		append="panic=-1 quiet rdinit=/init"
		tsc=''
	else
		template=$TOP/lava/templates/qemu.yaml
		env=qemu-$J_MODE
	fi
	# The build key, when the image comes from the kernel cache (<cache>/kernels/<key>/bzImage).
	key=$(basename "$(dirname "$kernel")")
	[[ "$key" =~ ^[0-9a-f]{64}$ ]] || key=''
	local rev=${PMB_GIT_REV:-$(git -C "$TOP" rev-parse --short HEAD 2> /dev/null || true)}
	local mode=$J_MODE
	[ "$J_TYPE" != x86 ] || mode=metal
	local name
	name="pagemap-bench${J_LABEL:+ $J_LABEL} $(basename "$(dirname "$kernel")" | cut -c1-12)/$(basename "$kernel") $J_TYPE-$mode"
	(
		export PMBV_JOB_NAME PMBV_JOB_MINUTES PMBV_BOOT_MINUTES PMBV_TEST_MINUTES PMBV_LABEL \
			PMBV_KERNEL_NAME PMBV_KERNEL_PATH PMBV_KERNEL_SHA256 PMBV_KERNEL_KEY PMBV_MODE \
			PMBV_RUN_ARGS PMBV_MEM PMBV_QEMU_OPTIONS PMBV_APPEND PMBV_KERNEL_URL PMBV_RAMDISK_URL \
			PMBV_RAMDISK_SHA256 PMBV_ENVIRONMENT PMBV_TSC_KHZ PMBV_GIT_REV
		PMBV_JOB_NAME=$(yq "$name")
		PMBV_JOB_MINUTES=$((J_TIMEOUT + 15))
		PMBV_BOOT_MINUTES=5
		PMBV_TEST_MINUTES=$J_TIMEOUT
		PMBV_LABEL=$(yq "$J_LABEL")
		PMBV_KERNEL_NAME=$(yq "$kname")
		PMBV_KERNEL_PATH=$(yq "$kernel")
		PMBV_KERNEL_SHA256=$(yq "$ksum")
		PMBV_KERNEL_KEY=$(yq "$key")
		PMBV_MODE=$mode
		PMBV_RUN_ARGS=$(yq "${J_RUN[*]-}")
		PMBV_MEM=$J_MEM
		PMBV_QEMU_OPTIONS=$opts
		PMBV_APPEND=$append
		PMBV_KERNEL_URL=$(yq "$base$kname")
		PMBV_RAMDISK_URL=$(yq "$base$rname")
		PMBV_RAMDISK_SHA256=$(yq "$rsum")
		PMBV_ENVIRONMENT=$env
		PMBV_TSC_KHZ=$(yq "$tsc")
		PMBV_GIT_REV=$(yq "$rev")
		export PMBP_RUN_ARGS="${J_RUN[*]-}" PMBP_PMB_ENVIRONMENT=$env PMBP_PMB_KERNEL_IMAGE=$kernel \
			PMBP_PMB_KERNEL_SHA256=$ksum PMBP_PMB_KERNEL_KEY=$key PMBP_PMB_TSC_KHZ=$tsc PMBP_PMB_GIT_REV=$rev
		render "$template" "$TOP/lava/pagemap-bench.yaml"
	) > "$out.tmp" || die "cannot render $template"
	if python3 -c 'import yaml' 2> /dev/null; then
		python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$out.tmp" 2> "$TMP/yaml.err" ||
			die "the rendered job is not YAML: $(tail -n 1 "$TMP/yaml.err")"
	fi
	mv -f "$out.tmp" "$out"
}

cmd_job() {
	local n
	while [ $# -gt 0 ]; do
		case "$1" in
		-h|--help) job_usage; exit 0 ;;
		--out) need_arg "$1" $#; J_OUT=$2; shift 2; continue ;;
		esac
		n=0; parse_job_opt "$1" $# "${2-}" || n=$?
		if [ "$n" -gt 0 ]; then shift "$n"; else J_RUN+=("$1"); shift; fi
	done
	check_job_opts
	if [ -n "$J_OUT" ]; then
		mkdir -p "$(dirname "$J_OUT")"
		write_job "$J_OUT"
		say "job for $(basename "$J_KERNEL") ($J_TYPE, $([ "$J_TYPE" = x86 ] && echo metal || echo "$J_MODE")) in $J_OUT"
	else
		write_job "$TMP/job.yaml"
		cat "$TMP/job.yaml"
	fi
}

# ------------------------------------------------------------------ submit

cmd_submit() {
	local file='' id
	while [ $# -gt 0 ]; do
		case "$1" in
		-h|--help)
			echo "usage: lava/lava.sh submit JOB.yaml"
			echo "Submit the job to LAVA and print its id.  Exit 0, 3 if LAVA refuses it or cannot"
			echo "be reached, 64 bad options, 77 no lavacli."
			exit 0 ;;
		-*) usage_err "submit: unknown option '$1'" ;;
		*) [ -z "$file" ] || usage_err "submit takes one job file"; file=$1; shift ;;
		esac
	done
	[ -n "$file" ] || usage_err "submit: JOB.yaml is required"
	[ -f "$file" ] || usage_err "submit: no file $file"
	lavacli_setup
	id=$(submit_job "$file")
	echo "$id"
}

submit_job() {	# FILE -> id
	local out
	LC_ERR="$TMP/submit.err"
	# lavacli prints a refusal on stdout and exits 0: only a job id is success.
	lc jobs submit "$1" > "$TMP/submit.out" || die "cannot submit $1: $(lc_reason "$TMP/submit.out")"
	out=$(head -n 1 "$TMP/submit.out")
	[[ "$out" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "LAVA refused $1: $(echo "$out" | cut -c1-300)"
	echo "$out"
}

# -------------------------------------------------------------------- wait

cmd_wait() {
	local job='' timeout=0
	while [ $# -gt 0 ]; do
		case "$1" in
		-h|--help)
			echo "usage: lava/lava.sh wait JOB [--timeout SEC]"
			echo "Wait until the job has finished (--timeout 0: no limit, the default)."
			echo "Exit 0 when it finished Complete, 3 when Incomplete or Canceled or still running"
			echo "at the timeout, or LAVA cannot be reached (one line with LAVA's reason), 64 bad"
			echo "options, 77 no lavacli."
			exit 0 ;;
		--timeout) need_arg "$1" $#; timeout=$2; shift 2 ;;
		-*) usage_err "wait: unknown option '$1'" ;;
		*) [ -z "$job" ] || usage_err "wait takes one job id"; job=$1; shift ;;
		esac
	done
	[ -n "$job" ] || usage_err "wait: JOB is required"
	is_uint "$timeout" || usage_err "wait: --timeout must be seconds, not '$timeout'"
	lavacli_setup
	wait_job "$job" "$timeout"
}

# wait_job ID TIMEOUT: returns when the job has finished; dies unless Complete.
wait_job() {
	local job=$1 timeout=$2 start=$SECONDS state health show="$TMP/show-$1.yaml" reason
	LC_ERR="$TMP/wait.err"
	while :; do
		lc jobs show --yaml "$job" > "$show" || die "cannot see job $job: $(lc_reason "$show")"
		state=$(job_field "$show" state)
		health=$(job_field "$show" health)
		[ "$state" != Finished ] || break
		if [ "$timeout" -gt 0 ] && [ $((SECONDS - start)) -ge "$timeout" ]; then
			die "job $job is still $state after ${timeout}s"
		fi
		sleep 2
	done
	case "$health" in
	Complete) return 0 ;;
	*)
		reason=$(job_error "$job")
		[ -n "$reason" ] || reason=$(job_field "$show" failure_comment | grep -v '^null$' || true)
		die "job $job finished $health${reason:+: $reason}" ;;
	esac
}

# ------------------------------------------------------------------- fetch

fetch_usage() {
	cat <<EOF
usage: lava/lava.sh fetch JOB --out DIR
       lava/lava.sh fetch --log FILE --out DIR

Take the run directory out of a finished job's log (lavacli jobs logs) or of a
saved log (LAVA's raw YAML or plain console text).  The framed archive must be
complete, its length and sha256 right and its content safe; only then is the
run directory unpacked next to DIR and renamed into it, with console.log and
lava-job.json added.  Prints the run directory.  Never overwrites one.
Exit 0, 3 for a truncated or corrupt transfer, an unfinished job or LAVA not
reachable (nothing is written), 64 bad options, 77 no lavacli (JOB only).
EOF
}

cmd_fetch() {
	local job='' log='' out=''
	while [ $# -gt 0 ]; do
		case "$1" in
		-h|--help) fetch_usage; exit 0 ;;
		--out) need_arg "$1" $#; out=$2; shift 2 ;;
		--log) need_arg "$1" $#; log=$2; shift 2 ;;
		-*) usage_err "fetch: unknown option '$1'" ;;
		*) [ -z "$job" ] || usage_err "fetch takes one job id"; job=$1; shift ;;
		esac
	done
	[ -n "$out" ] || usage_err "fetch: --out DIR is required"
	[ -n "$job" ] || [ -n "$log" ] || usage_err "fetch: JOB or --log FILE is required"
	[ -z "$job" ] || [ -z "$log" ] || usage_err "fetch: JOB or --log FILE, not both"
	if [ -n "$log" ]; then
		[ -f "$log" ] || usage_err "fetch: no file $log"
		extract "$log" "$out" ''
	else
		lavacli_setup
		fetch_job "$job" "$out"
	fi
}

extract() {	# LOG OUT JOBJSON -> run directories on stdout
	local args=(--log "$1" --out "$2")
	[ -z "$3" ] || args+=(--job-json "$3")
	python3 "$TOP/lava/logarchive.py" extract "${args[@]}"
}

fetch_job() {	# ID OUT
	local job=$1 out=$2 show="$TMP/show-$1.yaml" state health device json
	LC_ERR="$TMP/fetch.err"
	lc jobs show --yaml "$job" > "$show" || die "cannot see job $job: $(lc_reason "$show")"
	state=$(job_field "$show" state)
	health=$(job_field "$show" health)
	device=$(job_field "$show" device)
	[ "$state" = Finished ] || die "job $job is $state, not finished: its log is not complete yet"
	lc jobs logs --raw --no-follow "$job" > "$TMP/log-$job.yaml" ||
		die "cannot read the log of job $job: $(lc_reason "$TMP/log-$job.yaml")"
	json=$(printf '{"job_id": "%s", "health": "%s", "device": "%s", "instance": "%s"}' \
		"$job" "$health" "$device" "$(instance_name)")
	extract "$TMP/log-$job.yaml" "$out" "$json"
}

# The instance, without credentials.
instance_name() {
	if [ -n "$URI" ]; then
		echo "$URI" | sed -E 's#//[^@/]*@#//#'
	elif [ -n "$IDENTITY" ]; then
		echo "identity:$IDENTITY"
	elif [ -f "$LOCAL_STATE/lavacli.yaml" ]; then
		echo "local:$LOCAL_STATE"
	else
		echo "identity:default"
	fi
}

# --------------------------------------------------------------------- run

cmd_run() {
	local n out='' id
	while [ $# -gt 0 ]; do
		case "$1" in
		-h|--help)
			cat <<EOF
usage: lava/lava.sh run --kernel IMAGE [job options] [--out DIR] [run options]

One boot as one LAVA job: 'job', 'submit', 'wait' and 'fetch' in a row.  The
run directory lands in --out (default results/) and its path is printed.
Job options as for 'lava/lava.sh job --help'.  Exit 0, 3 when the job or the
transfer failed, 64 bad options, 77 cannot run here.
EOF
			exit 0 ;;
		--out) need_arg "$1" $#; out=$2; shift 2; continue ;;
		esac
		n=0; parse_job_opt "$1" $# "${2-}" || n=$?
		if [ "$n" -gt 0 ]; then shift "$n"; else J_RUN+=("$1"); shift; fi
	done
	check_job_opts
	lavacli_setup
	out=${out:-$RESULTS}
	write_job "$TMP/job.yaml"
	id=$(submit_job "$TMP/job.yaml")
	JOBS_PENDING+=("$id")
	say "job $id submitted ($(basename "$J_KERNEL"), $J_TYPE, $J_MODE)"
	wait_job "$id" $(((J_TIMEOUT + 20) * 60))
	JOBS_PENDING=()
	fetch_job "$id" "$out"
}

# ---------------------------------------------------------------------- ab

ab_usage() {
	cat <<EOF
usage: lava/lava.sh ab --stock IMAGE --patched IMAGE [options] [run options]

kernels/ab.sh on a LAVA lab: each boot is a job, A1 B1 (stock, patched) or
A1 B1 B2 A2 (stock, patched, patched, stock), submitted in that order; their
run directories are fetched and handed to 'kernels/ab.sh --from-boots', which
merges, compares, gates, plots and models them as after its own boots.  With
one device the jobs run in that order; with several they may run side by
side, and under tcg or kvm the A/A pair then measures the spread between
devices as well.

  --stock IMAGE      the baseline kernel image
  --patched IMAGE    the candidate kernel image
  --order ORDER      auto (default: AB under icount, which is deterministic;
                     ABBA otherwise, for the A/A noise), ABBA or AB
  --threshold PCT    gate threshold (default: the policy's)
  --policy FILE      gate policy (default: the built-in one)
  job options        --device-type, --mode, --mem, --smp, --tsc-khz, --timeout MIN,
                     --artifacts, --url-base, --bin (lava/lava.sh job --help)
  run options        appended to kernels/ab.sh's default A/B matrix

Writes results/ab-lava-<stamp>/: ab.txt, lava/ (the jobs, and jobs.txt with
their ids), boots/A1/<run-id>/ and so on, and what kernels/ab.sh --from-boots
--out writes into the same directory (stock/, patched/, aa/, gate/,
model.txt); prints that directory last.  Exits with the gate's code: 0 pass, 1 performance
regression, 2 incorrect, 4 inconclusive, 3 LAVA or transfer failure, 64 usage
error, 77 cannot run here.
EOF
}

# kernels/ab.sh's default matrix, from the line of its --help that lists it.
ab_default_run() {
	local line
	line=$("$TOP/kernels/ab.sh" --help 2> /dev/null | awk '/default A\/B matrix/ { getline; print; exit }')
	[[ "$line" == *--kinds* ]] || die "cannot read the default A/B matrix from kernels/ab.sh --help"
	# shellcheck disable=SC2086
	printf '%s\n' $line
}

# The steps after the boots are kernels/ab.sh's own: --from-boots A1 B1 [B2 A2]
# merges, compares, gates, plots and models them and prints its directory.
# With --out DIR (where ab.sh offers it) that directory is DIR itself; else
# ab.sh makes its ab-<stamp>/ under PMB_RESULTS, here inside the LAVA run's
# directory, so that one directory holds the jobs, the boots and the verdict.
ab_post_boots() {	# AB A1 B1 [B2 A2] -> prints the A/B directory, returns the gate's code
	local ab=$1 rc=0 help args out
	shift
	help=$("$TOP/kernels/ab.sh" --help 2> /dev/null || true)
	[[ "$help" == *--from-boots* ]] || die "kernels/ab.sh has no --from-boots (the steps after the boots)"
	args=(--from-boots "$@")
	[ -z "$AB_THRESHOLD" ] || args+=(--threshold "$AB_THRESHOLD")
	[ -z "$AB_POLICY" ] || args+=(--policy "$AB_POLICY")
	if [[ "$help" == *"--out DIR"* ]]; then
		args+=(--out "$ab")
	fi
	out=$(PMB_BIN=$BIN PMB_RESULTS=$ab "$TOP/kernels/ab.sh" "${args[@]}") || rc=$?
	out=$(echo "$out" | tail -n 1)
	[ -n "$out" ] && [ -d "$out" ] || die "kernels/ab.sh --from-boots wrote no A/B directory (exit $rc)"
	echo "$out"
	return "$rc"
}

AB_THRESHOLD='' AB_POLICY=''
cmd_ab() {
	local stock='' patched='' order=auto n labels i id rc=0 ab base
	while [ $# -gt 0 ]; do
		case "$1" in
		-h|--help) ab_usage; exit 0 ;;
		--stock) need_arg "$1" $#; stock=$2; shift 2; continue ;;
		--patched) need_arg "$1" $#; patched=$2; shift 2; continue ;;
		--order) need_arg "$1" $#; order=$2; shift 2; continue ;;
		--threshold) need_arg "$1" $#; AB_THRESHOLD=$2; shift 2; continue ;;
		--policy) need_arg "$1" $#; AB_POLICY=$2; shift 2; continue ;;
		--kernel|--label|--initramfs) usage_err "ab: $1 is not an ab option (--stock, --patched)" ;;
		esac
		n=0; parse_job_opt "$1" $# "${2-}" || n=$?
		if [ "$n" -gt 0 ]; then shift "$n"; else J_RUN+=("$1"); shift; fi
	done
	[ -n "$stock" ] || usage_err "ab: --stock IMAGE is required"
	[ -n "$patched" ] || usage_err "ab: --patched IMAGE is required"
	[ -f "$stock" ] || usage_err "ab: no kernel image at $stock"
	[ -f "$patched" ] || usage_err "ab: no kernel image at $patched"
	case "$order" in auto|ABBA|AB) ;; *) usage_err "ab: --order must be auto, ABBA or AB, not '$order'" ;; esac
	[ -z "$AB_POLICY" ] || [ -f "$AB_POLICY" ] || usage_err "ab: --policy: no file $AB_POLICY"
	local defaults
	mapfile -t defaults < <(ab_default_run)
	J_RUN=("${defaults[@]}" ${J_RUN[@]+"${J_RUN[@]}"})
	J_KERNEL=$stock
	check_job_opts
	lavacli_setup
	# Instructions do not drift between boots, wall time does (kernels/ab.sh).
	if [ "$order" = auto ]; then
		if [ "$J_TYPE" = qemu ] && [ "$J_MODE" = icount ]; then order=AB; else order=ABBA; fi
	fi
	[ "$(sha256sum < "$stock")" != "$(sha256sum < "$patched")" ] ||
		warn "stock and patched are the same image; this is an A/A run"

	mkdir -p "$RESULTS"
	base="$RESULTS/ab-lava-$(date -u +%Y%m%dT%H%M%SZ)"
	ab=$base
	i=2
	while ! mkdir "$ab" 2> /dev/null; do ab="$base-$i"; i=$((i + 1)); done
	mkdir "$ab/lava" "$ab/boots"
	{
		echo "stock: $(realpath "$stock")"
		echo "patched: $(realpath "$patched")"
		echo "order: $order  mode: $J_MODE  device type: $J_TYPE  lava: $(instance_name)"
		echo "run: ${J_RUN[*]}"
	} > "$ab/ab.txt"
	say "results in $ab"

	if [ "$order" = ABBA ]; then labels=(A1 B1 B2 A2); else labels=(A1 B1); fi
	# One initramfs for every boot.
	J_INITRAMFS=${J_INITRAMFS:-$(build_initramfs)}
	local ids=()
	for i in "${!labels[@]}"; do
		case "${labels[$i]}" in A*) J_KERNEL=$stock ;; B*) J_KERNEL=$patched ;; esac
		J_LABEL=${labels[$i]}
		write_job "$ab/lava/${labels[$i]}.yaml"
	done
	for i in "${!labels[@]}"; do
		id=$(submit_job "$ab/lava/${labels[$i]}.yaml")
		ids+=("$id")
		JOBS_PENDING+=("$id")
		echo "${labels[$i]} $id" >> "$ab/lava/jobs.txt"
		say "boot ${labels[$i]}: job $id"
	done
	local dirs=() d
	for i in "${!labels[@]}"; do
		wait_job "${ids[$i]}" $(((J_TIMEOUT + 20) * 60 * ${#labels[@]}))
		# One directory per boot: two guests may name their runs alike (the
		# run id is the guest's clock to the second and the kernel release).
		d=$(fetch_job "${ids[$i]}" "$ab/boots/${labels[$i]}") || exit "$PMB_EX_ERROR"
		d=$(echo "$d" | head -n 1)
		[ -d "$d" ] || die "boot ${labels[$i]} (job ${ids[$i]}) brought no run directory back"
		dirs+=("$d")
		say "boot ${labels[$i]}: $(basename "$d")"
	done
	JOBS_PENDING=()
	# In ab.sh's order: A1 B1 B2 A2.
	local out
	out=$(ab_post_boots "$ab" "${dirs[@]}") || rc=$?
	[ -n "$out" ] || exit "$rc"
	echo "$out"
	exit "$rc"
}

# ------------------------------------------------------------------- main

JOBS_PENDING=()
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pmb-lava.XXXXXX")
# Interrupted or failed while jobs are queued or running: cancel them, so the
# lab's devices do not run boots nobody waits for.
cleanup() {
	local id
	for id in ${JOBS_PENDING[@]+"${JOBS_PENDING[@]}"}; do
		LC_ERR=/dev/null lc jobs cancel "$id" > /dev/null 2>&1 && say "job $id canceled" || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

while [ $# -gt 0 ]; do
	case "$1" in
	--identity) need_arg "$1" $#; IDENTITY=$2; shift 2 ;;
	--uri) need_arg "$1" $#; URI=$2; shift 2 ;;
	-h|--help|help) usage; exit 0 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || usage_err "a subcommand is required"
sub=$1
shift
case "$sub" in
job) cmd_job "$@" ;;
submit) cmd_submit "$@" ;;
wait) cmd_wait "$@" ;;
fetch) cmd_fetch "$@" ;;
run) cmd_run "$@" ;;
ab) cmd_ab "$@" ;;
*) usage_err "unknown subcommand '$sub'" ;;
esac
