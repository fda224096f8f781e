# bash completion for sse(1)
# shellcheck shell=bash disable=SC2207

# Each command's options, as its --help lists them (tests/docs.bats checks).
_sse_opts_main='-h --help -V --version'
_sse_opts_listen='-h --help'
_sse_opts_serve='-h --help'
_sse_opts_replay='-h --help'

# Completes the value of an option; returns 1 when prev takes no value.
_sse_value() {
	local cmd=$1 prev=$2 cur=$3
	case $cmd:$prev in
	# listen values (section owned by sse-listen)
	# serve values (section owned by sse-serve)
	# replay values (section owned by sse-replay)
	*) return 1 ;;
	esac
	return 0
}

_sse() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd="" i var
	COMPREPLY=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	case $cmd in
	"")
		COMPREPLY=($(compgen -W "listen serve replay help $_sse_opts_main" -- "$cur"))
		return
		;;
	help)
		COMPREPLY=($(compgen -W 'listen serve replay' -- "$cur"))
		return
		;;
	listen | serve | replay) ;;
	*) return ;;
	esac
	_sse_value "$cmd" "$prev" "$cur" && return
	if [[ $cur == -* ]]; then
		var=_sse_opts_$cmd
		COMPREPLY=($(compgen -W "${!var}" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -o filenames -F _sse sse
