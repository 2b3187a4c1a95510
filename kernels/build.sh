#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or find in the cache) a small x86-64 kernel image for the QEMU runs.
#
#   kernels/build.sh [--source TARBALL|DIR] [--patches DIR|none] [--cache DIR]
#                    [--jobs N] [--print-key]
#
# stdout: the path of bzImage, nothing else.  Progress goes to stderr.
# Exit: 0 ok, 3 build/harness failure, 64 bad options.
# Stock and patched images share source, config fragment and compiler; the
# cache key covers all of them, so the patch is the only difference.
set -euo pipefail

PROG=build.sh
# Bump when the way an image is made changes: it invalidates every cached key.
RECIPE="pagemap-bench-kernel-recipe 1"
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FRAG="$REPO/kernels/config/pagemap-bench.config"
ARCH=x86_64

# Fixed build identity: the same inputs give a bit-identical image.
export KBUILD_BUILD_TIMESTAMP='Sun Aug  1 00:00:00 UTC 2021'
export KBUILD_BUILD_USER=pagemap-bench
export KBUILD_BUILD_HOST=pagemap-bench
export KBUILD_BUILD_VERSION=1
export LC_ALL=C

die() { echo "$PROG: $*" >&2; exit 3; }
usage_err() { echo "$PROG: $*" >&2; echo "usage: $PROG [--source TARBALL|DIR] [--patches DIR|none] [--cache DIR] [--jobs N] [--print-key]" >&2; exit 64; }
say() { echo "$PROG: $*" >&2; }

usage() {
	cat <<EOF
usage: $PROG [--source TARBALL|DIR] [--patches DIR|none] [--cache DIR] [--jobs N] [--print-key]

Build a kernel image (tinyconfig + kernels/config/pagemap-bench.config) and
print its path.  A second call with the same inputs prints the cached path.

  --source TARBALL|DIR  kernel source (default /usr/src/linux-source-6.1.tar.xz)
  --patches DIR|none    apply DIR/*.patch in name order (default none: stock)
  --cache DIR           cache directory (default \$PMB_CACHE, else /var/cache/pagemap-bench
                        as root, else <repo>/.cache)
  --jobs N              make -j N (default 2)
  --print-key           print the cache key and exit without building
EOF
}

SOURCE=/usr/src/linux-source-6.1.tar.xz
PATCHES=none
# One cache per machine for root, so that every clone (and every CI run) reuses the images.
if [ -z "${PMB_CACHE:-}" ] && [ "$(id -u)" = 0 ]; then PMB_CACHE=/var/cache/pagemap-bench; fi
CACHE=${PMB_CACHE:-$REPO/.cache}
JOBS=2
PRINT_KEY=0

need_arg() { [ "$2" -ge 2 ] || usage_err "option $1 needs an argument"; }

while [ $# -gt 0 ]; do
	case "$1" in
	--source) need_arg "$1" $#; SOURCE=$2; shift 2 ;;
	--patches) need_arg "$1" $#; PATCHES=$2; shift 2 ;;
	--cache) need_arg "$1" $#; CACHE=$2; shift 2 ;;
	--jobs) need_arg "$1" $#; JOBS=$2; shift 2 ;;
	--print-key) PRINT_KEY=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage_err "unknown argument '$1'" ;;
	esac
done

[[ "$JOBS" =~ ^[0-9]+$ ]] && [ "$JOBS" -ge 1 ] && [ "$JOBS" -le 64 ] ||
	usage_err "--jobs must be an integer in 1..64, not '$JOBS'"
[ -e "$SOURCE" ] || usage_err "--source '$SOURCE' does not exist"
[ -f "$SOURCE" ] || [ -d "$SOURCE" ] || usage_err "--source '$SOURCE' is neither a file nor a directory"
SOURCE=$(realpath "$SOURCE")
if [ "$PATCHES" != none ]; then
	[ -d "$PATCHES" ] || usage_err "--patches '$PATCHES' is not a directory (or 'none')"
	PATCHES=$(realpath "$PATCHES")
fi
[ -f "$FRAG" ] || die "config fragment $FRAG missing"
mkdir -p "$CACHE" || die "cannot create cache dir $CACHE"
CACHE=$(realpath "$CACHE")

sha() { sha256sum | cut -d' ' -f1; }

# Identity of a tarball: its sha256, memoised by path, size and mtime.
tarball_id() {
	local memo stamp
	stamp=$(stat -c '%s %Y' "$1")
	memo="$CACHE/srcid/$(printf '%s %s' "$1" "$stamp" | sha)"
	if [ -s "$memo" ]; then
		cat "$memo"
		return
	fi
	mkdir -p "$CACHE/srcid"
	printf 'tarball %s\n' "$(sha256sum < "$1" | cut -d' ' -f1)" > "$memo.tmp.$$"
	mv -f "$memo.tmp.$$" "$memo"
	cat "$memo"
}

# Identity of a directory: its path plus `git describe`, or the newest mtime.
dir_id() {
	local d
	if d=$(git -C "$1" describe --always --dirty --tags 2>/dev/null); then
		printf 'dir %s git %s\n' "$1" "$d"
	else
		d=$(find "$1" -path "$1/.git" -prune -o -type f -printf '%T@\n' | sort -n | tail -n1)
		printf 'dir %s mtime %s\n' "$1" "$d"
	fi
}

patch_list() {
	[ "$PATCHES" = none ] && return 0
	find "$PATCHES" -maxdepth 1 -type f -name '*.patch' | sort
}

compiler_id() { gcc --version | head -n1; }

if [ -f "$SOURCE" ]; then SRC_ID=$(tarball_id "$SOURCE"); else SRC_ID=$(dir_id "$SOURCE"); fi
mapfile -t PATCH_FILES < <(patch_list)
if [ "$PATCHES" != none ] && [ ${#PATCH_FILES[@]} -eq 0 ]; then
	die "no *.patch files in $PATCHES"
fi

key_input() {
	local p
	echo "$RECIPE"
	echo "arch $ARCH"
	echo "source $SRC_ID"
	echo "fragment $(sha < "$FRAG")"
	for p in "${PATCH_FILES[@]}"; do
		echo "patch $(basename "$p") $(sha < "$p")"
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

# The pristine tree: a tarball is extracted once per source identity.
pristine_tree() {
	local id dir top
	if [ -d "$SOURCE" ]; then
		echo "$SOURCE"
		return
	fi
	id=$(printf '%s' "$SRC_ID" | sha | cut -c1-16)
	dir="$CACHE/src/pristine-$id"
	if [ ! -f "$dir/.complete" ]; then
		exec 8> "$CACHE/locks/pristine-$id"
		flock 8
		if [ ! -f "$dir/.complete" ]; then
			say "extracting $SOURCE"
			rm -rf "$dir" "$dir.tmp"
			mkdir -p "$dir.tmp"
			tar -xf "$SOURCE" -C "$dir.tmp" || die "cannot extract $SOURCE"
			top=$(find "$dir.tmp" -mindepth 1 -maxdepth 1 -type d)
			[ "$(printf '%s\n' "$top" | wc -l)" = 1 ] && [ -f "$top/Makefile" ] ||
				die "$SOURCE does not hold exactly one kernel tree"
			mkdir -p "$dir"
			mv "$top" "$dir/linux"
			rmdir "$dir.tmp"
			touch "$dir/.complete"
		fi
		exec 8>&-
	fi
	echo "$dir/linux"
}

# Files a patch touches (the "+++ b/..." side), for breaking hard links.
patched_paths() {
	sed -n 's|^+++ [^/]*/\([^\t]*\).*|\1|p' "$1" | grep -v '^/dev/null$' || true
}

# The build tree of this key: hard links to the pristine tree plus patches.
# Every key uses the same layout (src/KEY/linux, src/KEY/build), so ccache
# with CCACHE_BASEDIR sees the same relative paths and hits across keys.
make_tree() {
	local pristine=$1 tree=$2 p f
	rm -rf "$tree"
	mkdir -p "$(dirname "$tree")"
	cp -al "$pristine" "$tree" 2>/dev/null || cp -a "$pristine" "$tree" ||
		die "cannot copy $pristine to $tree"
	for p in "${PATCH_FILES[@]}"; do
		while IFS= read -r f; do
			[ -f "$tree/$f" ] || continue
			cp -p "$tree/$f" "$tree/$f.pmb-unlink" && mv -f "$tree/$f.pmb-unlink" "$tree/$f"
		done < <(patched_paths "$p")
		say "applying $(basename "$p")"
		patch -d "$tree" -p1 -s --forward --no-backup-if-mismatch < "$p" >> "$LOG" 2>&1 ||
			die "patch $(basename "$p") does not apply to $SOURCE (see $LOG)"
	done
}

# Every line of the fragment must be in .config exactly as asked.
verify_config() {
	local cfg=$1 line sym bad=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF -- "$line" "$cfg" || { say "config: wanted '$line', got '$(grep -E "^(# )?${line%%=*}[= ]" "$cfg" || echo unset)'"; bad=1; }
			;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			! grep -q "^$sym=" "$cfg" || { say "config: wanted $sym off, got '$(grep "^$sym=" "$cfg")'"; bad=1; }
			;;
		esac
	done < "$FRAG"
	[ "$bad" = 0 ] || die "config fragment not honoured (see messages above; $cfg)"
}

kmake() {
	make -C "$TREE" O="$BUILD" ARCH="$ARCH" CC="$CCACHE_CC" HOSTCC="$CCACHE_HOSTCC" "$@" >> "$LOG" 2>&1
}

json_str() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

write_info() {
	local wall=$1 release=$2 p first=1
	{
		printf '{\n'
		printf '  "schema": "pagemap-bench-kernel/1",\n'
		printf '  "key": %s,\n' "$(json_str "$KEY")"
		printf '  "source": %s,\n' "$(json_str "$SOURCE")"
		printf '  "source_id": %s,\n' "$(json_str "$SRC_ID")"
		printf '  "patches": ['
		for p in "${PATCH_FILES[@]}"; do
			[ $first = 1 ] || printf ', '
			first=0
			printf '{"name": %s, "sha256": %s}' "$(json_str "$(basename "$p")")" \
				"$(json_str "$(sha < "$p")")"
		done
		printf '],\n'
		printf '  "fragment_sha256": %s,\n' "$(json_str "$(sha < "$FRAG")")"
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
	say "warning: ccache not found, building without it"
	CCACHE_CC=gcc
	CCACHE_HOSTCC=gcc
fi

PRISTINE=$(pristine_tree)
TREE="$CACHE/src/$KEY/linux"
BUILD="$CACHE/src/$KEY/build"
say "key $KEY (${#PATCH_FILES[@]} patches), log $LOG"
make_tree "$PRISTINE" "$TREE"
rm -rf "$BUILD"
mkdir -p "$BUILD"

say "configuring (tinyconfig + $(basename "$FRAG"))"
kmake tinyconfig || die "make tinyconfig failed (see $LOG)"
(cd "$TREE" && scripts/kconfig/merge_config.sh -m -O "$BUILD" "$BUILD/.config" "$FRAG") >> "$LOG" 2>&1 ||
	die "merge_config.sh failed (see $LOG)"
kmake olddefconfig || die "make olddefconfig failed (see $LOG)"
verify_config "$BUILD/.config"
cp "$BUILD/.config" "$OUT/config"

say "building bzImage with make -j$JOBS"
kmake -j"$JOBS" bzImage || die "kernel build failed (see $LOG)"
RELEASE=$(make -s -C "$TREE" O="$BUILD" ARCH="$ARCH" kernelrelease 2>/dev/null) || RELEASE=unknown
END=$(date +%s.%N)
WALL=$(awk -v a="$START" -v b="$END" 'BEGIN { printf "%.1f", b - a }')
write_info "$WALL" "$RELEASE"
cp "$BUILD/arch/x86/boot/bzImage" "$OUT/bzImage.tmp"
mv -f "$OUT/bzImage.tmp" "$OUT/bzImage"
say "built $RELEASE in ${WALL}s"
echo "$OUT/bzImage"
