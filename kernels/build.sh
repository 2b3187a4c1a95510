#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or find in the cache) a small x86-64 kernel image for the QEMU runs.
#
#   kernels/build.sh [--kernel 6.1|6.12] [--source TARBALL|DIR | --tree DIR [--rev REV]]
#                    [--patches DIR|none] [--series PATH [--upto K]]
#                    [--config DIR] [--cache DIR] [--jobs N] [--print-key]
#   kernels/build.sh --list-series PATH
#
# stdout: the path of bzImage (or the key, or the series list), nothing else.
# Progress goes to stderr.
# Exit: 0 ok, 3 build/harness failure, 64 bad options or input (a series
# patch that does not apply included).
# Every image of one source shares the config fragments and the compiler; the
# cache key covers all of them and every applied patch, so the patches are
# the only difference between two images of one source.
set -euo pipefail

PROG=build.sh
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PMB_TOP=$TOP
USAGE_LINE="usage: $PROG [--kernel 6.1|6.12] [--source TARBALL|DIR | --tree DIR [--rev REV]] [--patches DIR|none] [--series PATH [--upto K]] [--config DIR] [--cache DIR] [--jobs N] [--print-key] | --list-series PATH"
# shellcheck source=../lib/common.sh
. "$TOP/lib/common.sh"

# Bump when the way an image is made changes: it invalidates every cached key.
RECIPE="pagemap-bench-kernel-recipe 2"
CONFIG_DIR="$TOP/kernels/config"
ARCH=x86_64
# The kernels whose Debian source package (linux-source-X.Y) --kernel names.
KNOWN_KERNELS="6.1 6.12"

# Fixed build identity: the same inputs give a bit-identical image.
export KBUILD_BUILD_TIMESTAMP='Sun Aug  1 00:00:00 UTC 2021'
export KBUILD_BUILD_USER=pagemap-bench
export KBUILD_BUILD_HOST=pagemap-bench
export KBUILD_BUILD_VERSION=1
export LC_ALL=C
# git never writes to a repository it only reads (describe --dirty would
# refresh the index of a --source checkout otherwise).
export GIT_OPTIONAL_LOCKS=0

usage() {
	cat <<EOF
$USAGE_LINE

Build a kernel image (tinyconfig + kernels/config/pagemap-bench.config + the
overlay for the kernel's version) and print its path.  A second call with the
same inputs prints the cached path.

Source (one of):
  --kernel 6.1|6.12     Debian's /usr/src/linux-source-X.Y.tar.xz (default 6.1);
                        with --source or --tree, the version the tree must have
  --source TARBALL|DIR  a kernel tarball or an unpacked tree
  --tree DIR            a git repository: builds a clean copy of --rev
                        (git archive), never touching the checkout
  --rev REV             the revision of --tree (default HEAD)

Patches, applied in this order:
  --patches DIR|none    DIR/*.patch in name order; a DIR without *.patch but with
                        version subdirectories (kernels/patches) uses DIR/X.Y for
                        the tree's version X.Y (default none: stock)
  --series PATH         a git format-patch directory or an mbox, in order, as
                        git am reads it (mails without a diff are skipped)
  --upto K              apply only the first K patches of --series (0: none)

  --list-series PATH    print the series, one line per patch:
                        K<TAB>subject<TAB>message-id or -<TAB>file
  --config DIR          config fragments: DIR/pagemap-bench.config and the
                        overlay DIR/X.Y.config (default kernels/config)
  --cache DIR           cache directory (default \$PMB_CACHE, else /var/cache/pagemap-bench
                        as root, else <repo>/.cache)
  --jobs N              make -j N (default 2)
  --print-key           print the cache key and exit without building

Exit: 0 ok, 3 build failure (one line naming the log), 64 bad options or
input, including a series patch that does not apply (one line naming it).
EOF
}

KERNEL='' SOURCE='' TREE_DIR='' REV='' PATCHES=none SERIES='' UPTO='' LIST_SERIES=''
CACHE=$(pmb_default_cache)
JOBS=2
PRINT_KEY=0

while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) need_arg "$1" $#; KERNEL=$2; shift 2 ;;
	--source) need_arg "$1" $#; SOURCE=$2; shift 2 ;;
	--tree) need_arg "$1" $#; TREE_DIR=$2; shift 2 ;;
	--rev) need_arg "$1" $#; REV=$2; shift 2 ;;
	--patches) need_arg "$1" $#; PATCHES=$2; shift 2 ;;
	--series) need_arg "$1" $#; SERIES=$2; shift 2 ;;
	--upto) need_arg "$1" $#; UPTO=$2; shift 2 ;;
	--list-series) need_arg "$1" $#; LIST_SERIES=$2; shift 2 ;;
	--config) need_arg "$1" $#; CONFIG_DIR=$2; shift 2 ;;
	--cache) need_arg "$1" $#; CACHE=$2; shift 2 ;;
	--jobs) need_arg "$1" $#; JOBS=$2; shift 2 ;;
	--print-key) PRINT_KEY=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage_err "unknown argument '$1'" ;;
	esac
done

sha() { sha256sum | cut -d' ' -f1; }

# Bad input (not bad options): one line, exit 64, no usage line.
input_err() {
	echo "$PROG: $*" >&2
	exit "$PMB_EX_USAGE"
}

json_str() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\t'/\\t}
	s=${s//$'\r'/}
	s=${s//$'\n'/\\n}
	printf '"%s"' "$s"
}

# "X.Y" -> a number that sorts like the version.
ver_num() {
	local major=${1%%.*} minor=${1#*.}
	echo $((10#$major * 1000 + 10#$minor))
}

# ---------------------------------------------------------------- series

# Split a series into one mail per patch, in order, under $SPLIT: for each
# patch K (1..N) SER_MAIL[K] (the mail), SER_DIFF[K] (its diff, as git
# mailinfo cuts it), SER_FILE[K] (where it came from), SER_SUBJ[K],
# SER_MSGID[K], SER_SHA[K] (the diff's sha256: what is applied, so that a
# reworded message or the same series as an mbox keeps the key) and
# SER_MAILSHA[K] (the mail's).  Mails without a diff (a cover letter, a
# reply) are skipped.  Bad input is a usage error.
SER_MAIL=() SER_DIFF=() SER_FILE=() SER_SUBJ=() SER_MSGID=() SER_SHA=() SER_MAILSHA=()
SPLIT=
cleanup_split() { [ -z "$SPLIT" ] || rm -rf "$SPLIT"; }
trap cleanup_split EXIT

# The Message-ID header of a mail (folded headers joined), or -.
mail_msgid() {
	awk '
		/^$/ { exit }
		/^[ \t]/ { if (inid) { v = v $0 } ; next }
		{ inid = 0 }
		tolower($0) ~ /^message-id:/ { inid = 1; v = substr($0, index($0, ":") + 1) }
		END { gsub(/[ \t]+/, "", v); print (v == "" ? "-" : v) }
	' "$1"
}

load_series() {
	local path=$1 opt=$2 mails=() f n=0 k=0 info subj
	[ -e "$path" ] || input_err "$opt '$path' does not exist"
	SPLIT=$(mktemp -d "${TMPDIR:-/tmp}/pmb-series.XXXXXX")
	if [ -d "$path" ]; then
		path=$(realpath "$path")
		mapfile -t mails < <(find "$path" -maxdepth 1 -type f -name '*.patch' | sort)
		[ ${#mails[@]} -gt 0 ] || input_err "$opt '$path' holds no *.patch files (git format-patch output)"
	elif [ -f "$path" ]; then
		path=$(realpath "$path")
		git mailsplit -o"$SPLIT" "$path" > "$SPLIT/count" 2> "$SPLIT/err" ||
			input_err "$opt '$path' is neither a format-patch directory nor an mbox ($(head -n1 "$SPLIT/err"))"
		mapfile -t mails < <(find "$SPLIT" -maxdepth 1 -type f -name '[0-9]*' | sort)
		[ ${#mails[@]} -gt 0 ] || input_err "$opt '$path' holds no mail"
	else
		input_err "$opt '$path' is neither a directory nor a file"
	fi
	for f in "${mails[@]}"; do
		n=$((n + 1))
		info=$(git mailinfo "$SPLIT/msg.$n" "$SPLIT/diff.$n" < "$f" 2> "$SPLIT/err") ||
			input_err "$opt: cannot read mail $n of $path ($(head -n1 "$SPLIT/err"))"
		grep -q '^diff \|^--- ' "$SPLIT/diff.$n" || continue
		k=$((k + 1))
		subj=$(printf '%s\n' "$info" | sed -n 's/^Subject: //p' | head -n1)
		SER_MAIL[k]=$f
		SER_DIFF[k]="$SPLIT/diff.$n"
		if [ -d "$path" ]; then SER_FILE[k]=$f; else SER_FILE[k]=$path; fi
		SER_SUBJ[k]=${subj:-(no subject)}
		SER_MSGID[k]=$(mail_msgid "$f")
		SER_SHA[k]=$(sha < "$SPLIT/diff.$n")
		SER_MAILSHA[k]=$(sha < "$f")
	done
	[ "$k" -gt 0 ] || input_err "$opt '$path' holds no patch (no mail with a diff)"
	SER_N=$k
}

if [ -n "$LIST_SERIES" ]; then
	[ -z "$SERIES" ] && [ -z "$UPTO" ] || usage_err "--list-series takes no --series or --upto"
	load_series "$LIST_SERIES" --list-series
	for ((k = 1; k <= SER_N; k++)); do
		printf '%d\t%s\t%s\t%s\n' "$k" "${SER_SUBJ[k]//$'\t'/ }" "${SER_MSGID[k]}" "${SER_FILE[k]}"
	done
	exit 0
fi

# ---------------------------------------------------------------- options

[ -z "$KERNEL" ] || [[ " $KNOWN_KERNELS " == *" $KERNEL "* ]] ||
	usage_err "--kernel must be one of: ${KNOWN_KERNELS// /, } (not '$KERNEL')"
is_uint "$JOBS" && [ "$JOBS" -ge 1 ] && [ "$JOBS" -le 64 ] ||
	usage_err "--jobs must be an integer in 1..64, not '$JOBS'"
[ -z "$SOURCE" ] || [ -z "$TREE_DIR" ] || usage_err "--source and --tree exclude each other"
[ -z "$REV" ] || [ -n "$TREE_DIR" ] || usage_err "--rev needs --tree"
[ -z "$UPTO" ] || [ -n "$SERIES" ] || usage_err "--upto needs --series"
[ -z "$UPTO" ] || is_uint "$UPTO" || usage_err "--upto must be a whole number, not '$UPTO'"

if [ -n "$TREE_DIR" ]; then
	[ -d "$TREE_DIR" ] || usage_err "--tree '$TREE_DIR' is not a directory"
	TREE_DIR=$(realpath "$TREE_DIR")
	REV=${REV:-HEAD}
	err=$(git -C "$TREE_DIR" rev-parse --git-dir 2>&1 > /dev/null) ||
		usage_err "--tree '$TREE_DIR' is not a usable git repository: $(printf '%s\n' "$err" | head -n1)"
	COMMIT=$(git -C "$TREE_DIR" rev-parse --verify --quiet "$REV^{commit}") ||
		usage_err "--rev '$REV' is not a commit in $TREE_DIR"
	SRC_KIND=git
else
	if [ -z "$SOURCE" ]; then
		SOURCE=/usr/src/linux-source-${KERNEL:-6.1}.tar.xz
		[ -f "$SOURCE" ] ||
			usage_err "$SOURCE missing (apt-get install linux-source-${KERNEL:-6.1}, or give --source or --tree)"
	fi
	[ -e "$SOURCE" ] || usage_err "--source '$SOURCE' does not exist"
	[ -f "$SOURCE" ] || [ -d "$SOURCE" ] || usage_err "--source '$SOURCE' is neither a file nor a directory"
	SOURCE=$(realpath "$SOURCE")
	if [ -f "$SOURCE" ]; then SRC_KIND=tarball; else SRC_KIND=dir; fi
fi
if [ "$PATCHES" != none ]; then
	[ -d "$PATCHES" ] || usage_err "--patches '$PATCHES' is not a directory (or 'none')"
	PATCHES=$(realpath "$PATCHES")
fi
[ -d "$CONFIG_DIR" ] || usage_err "--config '$CONFIG_DIR' is not a directory"
CONFIG_DIR=$(realpath "$CONFIG_DIR")
FRAG="$CONFIG_DIR/pagemap-bench.config"
[ -f "$FRAG" ] || usage_err "no pagemap-bench.config in $CONFIG_DIR"
mkdir -p "$CACHE" || die "cannot create cache dir $CACHE"
CACHE=$(realpath "$CACHE")

# ---------------------------------------------------------------- identity

# "VERSION.PATCHLEVEL.SUBLEVEL EXTRAVERSION" from a top-level Makefile on stdin.
makefile_version() {
	awk -F' *= *' '
		$1 == "VERSION" { v = $2 } $1 == "PATCHLEVEL" { p = $2 }
		$1 == "SUBLEVEL" { s = $2 } $1 == "EXTRAVERSION" { e = $2 }
		END { if (v != "" && p != "") printf "%s.%s.%s%s\n", v, p, (s == "" ? 0 : s), e }
	'
}

# Identity of a tarball: its sha256 and its kernel version, memoised by
# path, size and mtime (the tarball is read once).
tarball_id() {
	local memo stamp
	stamp=$(stat -c '%s %Y' "$1")
	memo="$CACHE/srcid/$(printf '%s %s' "$1" "$stamp" | sha)"
	mkdir -p "$CACHE/srcid"
	if [ ! -s "$memo" ]; then
		printf 'tarball %s\n' "$(sha256sum < "$1" | cut -d' ' -f1)" > "$memo.tmp.$$"
		mv -f "$memo.tmp.$$" "$memo"
	fi
	if [ ! -s "$memo.kver" ]; then
		tar -xOf "$1" --no-wildcards-match-slash --wildcards --occurrence=1 '*/Makefile' 2> /dev/null |
			makefile_version > "$memo.kver.tmp.$$" || true
		mv -f "$memo.kver.tmp.$$" "$memo.kver"
	fi
	SRC_ID=$(cat "$memo")
	SRC_VERSION=$(cat "$memo.kver")
}

# Identity of a directory: its path plus `git describe`, or the newest mtime.
dir_id() {
	local d
	if d=$(git -C "$1" describe --always --dirty --tags 2> /dev/null); then
		SRC_ID=$(printf 'dir %s git %s' "$1" "$d")
	else
		d=$(find "$1" -path "$1/.git" -prune -o -type f -printf '%T@\n' | sort -n | tail -n1)
		SRC_ID=$(printf 'dir %s mtime %s' "$1" "$d")
	fi
	SRC_VERSION=$(makefile_version < "$1/Makefile" 2> /dev/null || true)
}

# Identity of a git revision: the commit id alone (the same commit in two
# clones is the same source).
git_id() {
	SRC_ID="git $COMMIT"
	SRC_VERSION=$(git -C "$TREE_DIR" show "$COMMIT:Makefile" 2> /dev/null | makefile_version || true)
}

case "$SRC_KIND" in
tarball) tarball_id "$SOURCE"; SRC_DESC=$SOURCE ;;
dir) dir_id "$SOURCE"; SRC_DESC=$SOURCE ;;
git) git_id; SRC_DESC="$TREE_DIR at $REV ($COMMIT)" ;;
esac
[ -n "$SRC_VERSION" ] || usage_err "cannot read the kernel version of $SRC_DESC (no top-level Makefile with VERSION and PATCHLEVEL)"
KVER=$(echo "$SRC_VERSION" | cut -d. -f1,2)
[ -z "$KERNEL" ] || [ "$KERNEL" = "$KVER" ] ||
	usage_err "--kernel $KERNEL, but $SRC_DESC is $SRC_VERSION"

# The highest X.Y among "$1"/X.Y<suffix> entries that is not above $KVER.
floor_version() {
	local dir=$1 suffix=$2 f v best='' want
	want=$(ver_num "$KVER")
	for f in "$dir"/[0-9]*"$suffix"; do
		[ -e "$f" ] || continue
		v=$(basename "$f" "$suffix")
		[[ "$v" =~ ^[0-9]+\.[0-9]+$ ]] || continue
		[ "$(ver_num "$v")" -le "$want" ] || continue
		if [ -z "$best" ] || [ "$(ver_num "$v")" -gt "$(ver_num "$best")" ]; then best=$v; fi
	done
	echo "$best"
}

OVERLAY_VER=$(floor_version "$CONFIG_DIR" .config)
[ -n "$OVERLAY_VER" ] || usage_err "no config overlay in $CONFIG_DIR for kernel $KVER (the oldest supported is 6.1)"
OVERLAY="$CONFIG_DIR/$OVERLAY_VER.config"

patch_list() {
	[ "$PATCHES" = none ] && return 0
	find "$PATCHES" -maxdepth 1 -type f -name '*.patch' | sort
}

compiler_id() { gcc --version | head -n1; }

mapfile -t PATCH_FILES < <(patch_list)
if [ "$PATCHES" != none ] && [ ${#PATCH_FILES[@]} -eq 0 ]; then
	# A directory of per-version patch directories (kernels/patches/X.Y/).
	pv=$(floor_version "$PATCHES" '')
	[ -n "$pv" ] && [ -d "$PATCHES/$pv" ] ||
		usage_err "no *.patch files in $PATCHES, and no subdirectory for kernel $KVER"
	[ "$pv" = "$KVER" ] || say "no patches for $KVER in $PATCHES: using those for $pv"
	PATCHES="$PATCHES/$pv"
	mapfile -t PATCH_FILES < <(patch_list)
	[ ${#PATCH_FILES[@]} -gt 0 ] || usage_err "no *.patch files in $PATCHES"
fi

SER_N=0
NAPPLY=0
if [ -n "$SERIES" ]; then
	load_series "$SERIES" --series
	NAPPLY=$SER_N
	if [ -n "$UPTO" ]; then
		[ "$UPTO" -le "$SER_N" ] || usage_err "--upto $UPTO, but the series has $SER_N patches"
		NAPPLY=$UPTO
	fi
fi

key_input() {
	local p k
	echo "$RECIPE"
	echo "arch $ARCH"
	echo "kernel $KVER"
	echo "source $SRC_ID"
	echo "fragment $(sha < "$FRAG")"
	echo "overlay $OVERLAY_VER $(sha < "$OVERLAY")"
	for p in "${PATCH_FILES[@]}"; do
		echo "patch $(basename "$p") $(sha < "$p")"
	done
	for ((k = 1; k <= NAPPLY; k++)); do
		echo "series $k ${SER_SHA[k]}"
	done
	echo "cc $(compiler_id)"
}
KEY=$(key_input | sha)

if [ "$PRINT_KEY" = 1 ]; then
	echo "$KEY"
	exit 0
fi

OUT="$CACHE/kernels/$KEY"
if [ -s "$OUT/bzImage" ]; then
	say "cached: $OUT"
	echo "$OUT/bzImage"
	exit 0
fi

# One build per key at a time; a concurrent caller waits, then finds the image.
mkdir -p "$CACHE/locks" "$CACHE/src" "$OUT"
exec 9> "$CACHE/locks/$KEY"
flock 9
if [ -s "$OUT/bzImage" ]; then
	echo "$OUT/bzImage"
	exit 0
fi

START=$(date +%s.%N)
LOG="$OUT/build.log"
: > "$LOG"

# ---------------------------------------------------------------- trees

# Fill "$1.tmp" with one kernel tree and move it to "$1/linux".
extract_source() {
	local dir=$1 top
	rm -rf "$dir" "$dir.tmp"
	mkdir -p "$dir.tmp"
	if [ "$SRC_KIND" = git ]; then
		say "exporting $COMMIT from $TREE_DIR (git archive)"
		git -C "$TREE_DIR" archive --format=tar --prefix=linux/ "$COMMIT" 2>> "$LOG" |
			tar -xf - -C "$dir.tmp" || die "cannot export $COMMIT from $TREE_DIR (see $LOG)"
	else
		say "extracting $SOURCE"
		tar -xf "$SOURCE" -C "$dir.tmp" || die "cannot extract $SOURCE"
	fi
	top=$(find "$dir.tmp" -mindepth 1 -maxdepth 1 -type d)
	[ "$(printf '%s\n' "$top" | wc -l)" = 1 ] && [ -f "$top/Makefile" ] ||
		die "$SRC_DESC does not hold exactly one kernel tree"
	mkdir -p "$dir"
	mv "$top" "$dir/linux"
	rmdir "$dir.tmp"
	touch "$dir/.complete"
}

# The pristine tree: a tarball is extracted, and a git revision exported,
# once per source identity.  A --source directory is used as it is.
pristine_tree() {
	local id dir
	if [ "$SRC_KIND" = dir ]; then
		echo "$SOURCE"
		return
	fi
	id=$(printf '%s' "$SRC_ID" | sha | cut -c1-16)
	dir="$CACHE/src/pristine-$id"
	if [ ! -f "$dir/.complete" ]; then
		exec 8> "$CACHE/locks/pristine-$id"
		flock 8
		[ -f "$dir/.complete" ] || extract_source "$dir" >&2
		exec 8>&-
	fi
	echo "$dir/linux"
}

# Files a patch touches (the "+++ b/..." side), for breaking hard links.
patched_paths() {
	sed -n 's|^+++ [^/]*/\([^\t]*\).*|\1|p' "$1" | grep -v '^/dev/null$' || true
}

# Give every file a patch will change its own copy, so that the pristine
# tree (hard-linked into this key's tree) is never written through.
unshare_files() {
	local tree=$1 f
	while IFS= read -r f; do
		[ -f "$tree/$f" ] || continue
		cp -p "$tree/$f" "$tree/$f.pmb-unlink" && mv -f "$tree/$f.pmb-unlink" "$tree/$f"
	done < <(patched_paths "$2")
}

# The build tree of this key: hard links to the pristine tree plus patches.
# Every key uses the same layout (src/KEY/linux, src/KEY/build), so ccache
# with CCACHE_BASEDIR sees the same relative paths and hits across keys.
make_tree() {
	local pristine=$1 tree=$2 p k
	rm -rf "$tree"
	mkdir -p "$(dirname "$tree")"
	cp -al "$pristine" "$tree" 2> /dev/null || cp -a "$pristine" "$tree" ||
		die "cannot copy $pristine to $tree"
	rm -rf "$tree/.git"
	for p in "${PATCH_FILES[@]}"; do
		unshare_files "$tree" "$p"
		say "applying $(basename "$p")"
		patch -d "$tree" -p1 -s --forward --no-backup-if-mismatch < "$p" >> "$LOG" 2>&1 ||
			die "patch $(basename "$p") does not apply to $SRC_DESC (see $LOG)"
	done
	# The series as git am applies it: git apply (no fuzz), one patch at a
	# time, all of a patch or nothing.  The ceiling keeps git from taking an
	# enclosing repository (the cache may sit in a checkout) for this tree's.
	for ((k = 1; k <= NAPPLY; k++)); do
		unshare_files "$tree" "${SER_DIFF[k]}"
		say "applying series patch $k: ${SER_SUBJ[k]}"
		echo "== series patch $k: ${SER_SUBJ[k]} (${SER_FILE[k]})" >> "$LOG"
		(cd "$tree" && GIT_CEILING_DIRECTORIES=$(dirname "$tree") \
			git apply --whitespace=nowarn "${SER_DIFF[k]}") >> "$LOG" 2>&1 || {
			rm -rf "$(dirname "$tree")"
			input_err "series patch $k \"${SER_SUBJ[k]}\" does not apply to $SRC_DESC: ${SER_FILE[k]} (see $LOG)"
		}
	done
}

# Every line of both fragments must be in .config exactly as asked (where
# both name an option, the overlay's line, as it wins in merge_config.sh too);
# a line that is not fails the build and names its option.
verify_config() {
	local cfg=$1 line sym frag bad=()
	local -A want=() from=()
	local order=()
	for frag in "$FRAG" "$OVERLAY"; do
		while IFS= read -r line; do
			case "$line" in
			CONFIG_*=*) sym=${line%%=*} ;;
			"# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *} ;;
			*) continue ;;
			esac
			[ -n "${want[$sym]+set}" ] || order+=("$sym")
			want[$sym]=$line
			from[$sym]=$(basename "$frag")
		done < "$frag"
	done
	for sym in "${order[@]}"; do
		line=${want[$sym]}
		case "$line" in
		CONFIG_*=*)
			grep -qxF -- "$line" "$cfg" && continue
			say "config: $sym: wanted '$line', got '$(grep -E "^(# )?$sym[= ]" "$cfg" || echo unset)' (${from[$sym]})"
			;;
		*)
			grep -q "^$sym=" "$cfg" || continue
			say "config: $sym: wanted off, got '$(grep "^$sym=" "$cfg")' (${from[$sym]})"
			;;
		esac
		bad+=("$sym")
	done
	[ ${#bad[@]} -eq 0 ] || die "config not honoured for kernel $SRC_VERSION: ${bad[*]} (see above; $cfg)"
}

kmake() {
	make -C "$TREE" O="$BUILD" ARCH="$ARCH" CC="$CCACHE_CC" HOSTCC="$CCACHE_HOSTCC" "$@" >> "$LOG" 2>&1
}

write_info() {
	local wall=$1 release=$2 p k first=1
	{
		printf '{\n'
		printf '  "schema": "pagemap-bench-kernel/2",\n'
		printf '  "key": %s,\n' "$(json_str "$KEY")"
		printf '  "kernel_version": %s,\n' "$(json_str "$SRC_VERSION")"
		printf '  "source_kind": %s,\n' "$(json_str "$SRC_KIND")"
		if [ "$SRC_KIND" = git ]; then
			printf '  "source": %s,\n' "$(json_str "$TREE_DIR")"
			printf '  "rev": %s,\n' "$(json_str "$REV")"
			printf '  "commit": %s,\n' "$(json_str "$COMMIT")"
		else
			printf '  "source": %s,\n' "$(json_str "$SOURCE")"
		fi
		printf '  "source_id": %s,\n' "$(json_str "$SRC_ID")"
		printf '  "patches": ['
		for p in "${PATCH_FILES[@]}"; do
			[ $first = 1 ] || printf ', '
			first=0
			printf '{"name": %s, "sha256": %s}' "$(json_str "$(basename "$p")")" \
				"$(json_str "$(sha < "$p")")"
		done
		printf '],\n'
		printf '  "series": ['
		for ((k = 1; k <= NAPPLY; k++)); do
			[ "$k" = 1 ] || printf ', '
			printf '{"k": %d, "subject": %s, "message_id": %s, "file": %s, "diff_sha256": %s, "mail_sha256": %s}' \
				"$k" "$(json_str "${SER_SUBJ[k]}")" "$(json_str "${SER_MSGID[k]}")" \
				"$(json_str "${SER_FILE[k]}")" "$(json_str "${SER_SHA[k]}")" \
				"$(json_str "${SER_MAILSHA[k]}")"
		done
		printf '],\n'
		printf '  "series_total": %d,\n' "$SER_N"
		printf '  "fragment_sha256": %s,\n' "$(json_str "$(sha < "$FRAG")")"
		printf '  "overlay": %s,\n' "$(json_str "$(basename "$OVERLAY")")"
		printf '  "overlay_sha256": %s,\n' "$(json_str "$(sha < "$OVERLAY")")"
		printf '  "compiler": %s,\n' "$(json_str "$(compiler_id)")"
		printf '  "cc": %s,\n' "$(json_str "$CCACHE_CC")"
		printf '  "kernel_release": %s,\n' "$(json_str "$release")"
		printf '  "image_sha256": %s,\n' "$(json_str "$(sha < "$BUILD/arch/x86/boot/bzImage")")"
		printf '  "jobs": %s,\n' "$JOBS"
		printf '  "wall_s": %s\n' "$wall"
		printf '}\n'
	} > "$OUT/info.json.tmp"
	mv -f "$OUT/info.json.tmp" "$OUT/info.json"
}

if command -v ccache > /dev/null; then
	CCACHE_CC="ccache gcc"
	CCACHE_HOSTCC="ccache gcc"
	export CCACHE_BASEDIR="$CACHE/src"
	export CCACHE_NOHASHDIR=1
else
	warn "ccache not found, building without it"
	CCACHE_CC=gcc
	CCACHE_HOSTCC=gcc
fi

# A patched image starts from the stock build of the same source, when that
# build is in the cache: its objects are copied, the paths in kbuild's .cmd
# files are moved to this key's tree, and make then compiles only what the
# patches touched (they get a fresh mtime when applied; every other file is
# a hard link to the same pristine file the stock objects were built from).
# Only the stock build is a safe start: one that was patched itself holds
# objects newer than the pristine files they no longer match.  A --source
# directory can change under its key, so it never seeds.
seed_from_stock() {
	local stock_key donor
	[ "$SRC_KIND" != dir ] || return 0
	[ ${#PATCH_FILES[@]} -gt 0 ] || [ "$NAPPLY" -gt 0 ] || return 0
	stock_key=$(PATCH_FILES=(); NAPPLY=0; key_input | sha)
	donor="$CACHE/src/$stock_key/build"
	[ -s "$CACHE/kernels/$stock_key/bzImage" ] && [ -f "$donor/.config" ] || return 0
	exec 7> "$CACHE/locks/$stock_key"
	flock 7
	if cp -a "$donor/." "$BUILD/" 2>> "$LOG"; then
		# Whatever the cache's path was when the stock build ran.
		find "$BUILD" -name '*.cmd' -type f -exec sed -i "s|/[^ :]*/src/$stock_key/|$CACHE/src/$KEY/|g" {} + ||
			{ rm -rf "$BUILD"; mkdir -p "$BUILD"; }
		say "starting from the stock build $stock_key: only what the patches change is compiled"
		echo "== starting from the stock build $stock_key" >> "$LOG"
	else
		rm -rf "$BUILD"
		mkdir -p "$BUILD"
	fi
	exec 7>&-
}

PRISTINE=$(pristine_tree)
TREE="$CACHE/src/$KEY/linux"
BUILD="$CACHE/src/$KEY/build"
say "key $KEY (kernel $SRC_VERSION, ${#PATCH_FILES[@]} patches, $NAPPLY of $SER_N series patches), log $LOG"
rm -rf "$BUILD"
mkdir -p "$BUILD"
seed_from_stock
make_tree "$PRISTINE" "$TREE"

say "configuring (tinyconfig + $(basename "$FRAG") + $(basename "$OVERLAY"))"
kmake tinyconfig || die "make tinyconfig failed (see $LOG)"
(cd "$TREE" && scripts/kconfig/merge_config.sh -m -O "$BUILD" "$BUILD/.config" "$FRAG" "$OVERLAY") >> "$LOG" 2>&1 ||
	die "merge_config.sh failed (see $LOG)"
kmake olddefconfig || die "make olddefconfig failed (see $LOG)"
verify_config "$BUILD/.config"
cp "$BUILD/.config" "$OUT/config"

say "building bzImage with make -j$JOBS"
kmake -j"$JOBS" bzImage || die "kernel build failed (see $LOG)"
RELEASE=$(make -s -C "$TREE" O="$BUILD" ARCH="$ARCH" kernelrelease 2> /dev/null) || RELEASE=unknown
END=$(date +%s.%N)
WALL=$(awk -v a="$START" -v b="$END" 'BEGIN { printf "%.1f", b - a }')
write_info "$WALL" "$RELEASE"
cp "$BUILD/arch/x86/boot/bzImage" "$OUT/bzImage.tmp"
mv -f "$OUT/bzImage.tmp" "$OUT/bzImage"
say "built $RELEASE in ${WALL}s"
echo "$OUT/bzImage"
