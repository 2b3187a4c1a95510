# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Bash completion for ./run.sh and build/bin/pmbench:  . lib/completion.bash
#
# Nothing is listed here: subcommands come from `./run.sh --help`, options
# from each subcommand's own --help (printed from the same tables as the man
# page), and the values of --kinds and --methods from `pmbench catalog`, so
# the completion cannot drift from the programs.

_pagemap_bench_top() {
	local cmd=$1
	case "$cmd" in
	*/*) (cd "$(dirname "$cmd")" 2> /dev/null && pwd) ;;
	*) pwd ;;
	esac
}

_pagemap_bench() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local top pmbench sub words
	top=$(_pagemap_bench_top "${COMP_WORDS[0]}")
	case "${COMP_WORDS[0]}" in
	*pmbench) pmbench=${COMP_WORDS[0]}; top=$top/../.. ;;
	*) pmbench=$top/build/bin/pmbench ;;
	esac
	if [ "$COMP_CWORD" -eq 1 ]; then
		if [[ "${COMP_WORDS[0]}" == *pmbench ]]; then
			words=$("$pmbench" --help 2> /dev/null | awk '/^  [a-z]/ { print $1 }')
		else
			words=$("$top/run.sh" --help 2> /dev/null | awk '/^  [a-z]/ { print $1 }')
		fi
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
		return
	fi
	sub=${COMP_WORDS[1]}
	case "$prev" in
	--kinds|--methods)
		words=$("$pmbench" catalog 2> /dev/null | awk -v t="${prev#--}" \
			'($1 "s") == t && $5 !~ /metric/ { print $2 }')
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "${cur##*,}")
		return ;;
	--results|--out|--policy|--kernel|--noise-floor|--tree|--series|--source|--patches)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return ;;
	esac
	case "$sub" in
	kernel) words=$("$top/kernels/build.sh" --help 2> /dev/null | grep -o -- '--[a-z0-9-]*' | sort -u) ;;
	vm|ab|lava) words=$("$top/run.sh" "$sub" --help 2> /dev/null | grep -o -- '--[a-z0-9-]*' | sort -u) ;;
	*) words=$("$pmbench" "$sub" --help 2> /dev/null | grep -o -- '--[a-z0-9-]*' | sort -u) ;;
	esac
	mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
	[ ${#COMPREPLY[@]} -gt 0 ] || mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}

complete -F _pagemap_bench run.sh ./run.sh pmbench build/bin/pmbench
