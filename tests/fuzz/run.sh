#!/bin/sh
# Fuzz the gate policy parser with libFuzzer: tests/fuzz/run.sh [SECONDS] (default 60).
# Needs clang with compiler-rt's libFuzzer.  The seed corpus is the shipped default policy
# and the examples in corpus/; new inputs go to a scratch directory, removed afterwards.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
secs=${1:-60}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
sed -e 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$/\\n"/' "$root/docs/policy-default.txt" > "$out/policy-default.inc"
clang -std=gnu11 -D_GNU_SOURCE -I"$root" -I"$out" -g -O1 -fsanitize=fuzzer,address,undefined \
	-o "$out/fuzz_policy" "$here/fuzz_policy.c" "$root/catalog/catalog.c"
mkdir "$out/corpus"
cp "$root/docs/policy-default.txt" "$here"/corpus/* "$out/corpus/"
timeout $((secs + 60)) "$out/fuzz_policy" -max_total_time="$secs" -max_len=4096 \
	-timeout=5 -rss_limit_mb=1024 "$out/corpus"
