# bash completion for sse(1)
# shellcheck shell=bash disable=SC2207

# Each command's options, as its --help lists them (tests/docs.bats checks).
_sse_opts_main='-h --help -V --version'
_sse_opts_listen='-h --help -f --format -e --event -n --max-events --until --timeout -H --header -X --request -d --data --data-binary --json -u --user --oauth2-bearer -A --user-agent -k --insecure --compressed --cacert --proxy --connect-timeout --max-redirs --no-reconnect --max-reconnects --retry-delay --retry-max-delay --retry-on-http-error --last-event-id --idle-timeout --max-event-size --record --record-chunks -v --verbose -q --quiet --reconnect --retry-connect --match --until-match --until-data -o --output -i --include -m --max-time -N --no-buffer -L --location -s --silent --comments --state --exec --exec-stop --color --expect'
_sse_opts_serve='-h --help --input -e --event --id --retry --max-event-size --end-event --exit-on-eof --max-stall --history --history-bytes --backlog --stderr --restart --restart-delay --kill-after --max-topics --redis --stream --journal --fsync --journal-export -b --bind -p --port --cors --token --tls-cert --tls-key --max-clients --keepalive --no-viewer --publish --publish-token --publish-token-file --max-publish-size --access-log --metrics-token --metrics-token-file --token-file'
_sse_opts_replay='-h --help --speed --no-delay --max-gap --rate --loop --from-id --exact --stall --stall-after -f --format -e --event -n --max-events --until --timeout --serve -b --bind -p --port --cors --token --tls-cert --tls-key --max-clients --keepalive --no-viewer --disconnect-after --fail-first --status --retry --match --until-match --until-data --color --max-event-size'

# Completes the value of an option; returns 1 when prev takes no value.
_sse_value() {
	local cmd=$1 prev=$2 cur=$3
	case $cmd:$prev in
	# listen values (section owned by sse-listen)
	listen:-f | listen:--format)
		COMPREPLY=($(compgen -W 'raw json data data0 pretty' -- "$cur")) ;;
	listen:-X | listen:--request)
		COMPREPLY=($(compgen -W 'GET POST PUT PATCH REPORT' -- "$cur")) ;;
	listen:-d | listen:--data | listen:--data-binary | listen:--json)
		[[ $cur == @* ]] && COMPREPLY=($(compgen -P @ -f -- "${cur#@}")) ;;
	listen:--cacert | listen:--record)
		COMPREPLY=($(compgen -f -- "$cur")) ;;
	listen:-H | listen:--header)
		COMPREPLY=($(compgen -W 'Authorization: Content-Type: Last-Event-ID:' -- "$cur")) ;;
	listen:-e | listen:--event | listen:-n | listen:--max-events | listen:--until | \
		listen:--timeout | listen:-u | listen:--user | listen:--oauth2-bearer | \
		listen:-A | listen:--user-agent | listen:--proxy | listen:--connect-timeout | \
		listen:--max-redirs | listen:--max-reconnects | listen:--retry-delay | \
		listen:--retry-max-delay | listen:--last-event-id | listen:--idle-timeout | \
		listen:--max-event-size) ;;
	listen:--retry-connect) ;;
	listen:--match) ;;
	listen:--until-match) ;;
	listen:--until-data) ;;
	listen:-o | listen:--output) ;;
	listen:-m | listen:--max-time) ;;
	listen:--state) ;;
	listen:--exec) ;;
	listen:--color) ;;
	listen:--expect) ;;
	# serve values (section owned by sse-serve)
	serve:--input)
		COMPREPLY=($(compgen -W 'lines sse json none' -- "$cur")) ;;
	serve:--id)
		COMPREPLY=($(compgen -W 'seq none' -- "$cur")) ;;
	serve:--stderr)
		COMPREPLY=($(compgen -W 'event merge drop' -- "$cur")) ;;
	serve:--restart)
		COMPREPLY=($(compgen -W 'never on-failure always' -- "$cur")) ;;
	serve:--restart-delay | serve:--kill-after | serve:--publish-token | \
		serve:--max-topics | \
		serve:--max-publish-size | serve:--metrics-token) ;;
	serve:--publish-token-file | serve:--access-log | \
		serve:--token-file | serve:--metrics-token-file)
		COMPREPLY=($(compgen -f -- "$cur")) ;;
	serve:--tls-cert | serve:--tls-key)
		COMPREPLY=($(compgen -f -- "$cur")) ;;
	serve:-b | serve:--bind)
		COMPREPLY=($(compgen -W '127.0.0.1 0.0.0.0 ::1 ::' -- "$cur")) ;;
	serve:-e | serve:--event | serve:--retry | serve:--max-event-size | \
		serve:--end-event | serve:--history | serve:--history-bytes | \
		serve:--backlog | serve:-p | serve:--port | serve:--cors | \
		serve:--token | serve:--max-clients | serve:--keepalive | \
		serve:--max-stall) ;;
	serve:--redis)
		COMPREPLY=($(compgen -W 'redis:// unix://' -- "$cur")) ;;
	serve:--stream) ;;
	serve:--journal)
		COMPREPLY=($(compgen -d -- "$cur")) ;;
	serve:--fsync)
		COMPREPLY=($(compgen -W 'always never 1' -- "$cur")) ;;
	# replay values (section owned by sse-replay)
	replay:-f | replay:--format)
		COMPREPLY=($(compgen -W 'raw json data data0 pretty' -- "$cur")) ;;
	replay:--tls-cert | replay:--tls-key)
		COMPREPLY=($(compgen -f -- "$cur")) ;;
	replay:--status)
		COMPREPLY=($(compgen -W '500 502 503 504 429 401 404' -- "$cur")) ;;
	replay:--speed | replay:--max-gap | replay:--rate | replay:--from-id | \
		replay:--stall | replay:--stall-after | replay:-e | replay:--event | \
		replay:-n | replay:--max-events | replay:--until | replay:--timeout | \
		replay:-b | replay:--bind | replay:-p | replay:--port | replay:--cors | \
		replay:--token | replay:--max-clients | replay:--keepalive | \
		replay:--disconnect-after | replay:--fail-first | replay:--retry | \
		replay:--max-event-size) ;;
	replay:--match) ;;
	replay:--until-match) ;;
	replay:--until-data) ;;
	replay:--color) ;;
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
