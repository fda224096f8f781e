# Helpers for the suites that run `sse serve` (serve.bats, browser.bats).
# shellcheck shell=bash disable=SC2154,SC2034

# serve_setup: a fifo for the server's stdin (load helper first).
serve_setup() {
	IN=$BATS_TEST_TMPDIR/in
	ERR=$BATS_TEST_TMPDIR/err
	mkfifo "$IN"
	AUTH=()
}

# serve ARGS...: start `sse serve -p 0 ARGS` reading the fifo; sets SRV
# (its PID), PORT and URL once it prints its URL.
serve() {
	# Read-write: opening a fifo so never blocks; only the test holds it.
	exec 8<>"$IN"
	: >"$ERR" # a restarted server must not be found by its old URL
	# Not start_bg: a background job's stdin is /dev/null unless the
	# command itself redirects it.
	sse serve -p 0 "$@" <"$IN" 2>"$ERR" 8>&- &
	served $!
}

# served PID: the server just started as PID (in BG_PIDS from now on):
# wait until it prints its URL; sets SRV, URL, PORT and E.
served() {
	SRV=$1
	BG_PIDS+=("$SRV")
	wait_file "$ERR" 'sse: serving' || {
		cat "$ERR" >&2
		return 1
	}
	URL=$(sed -n 's/^sse: serving \(.*\)$/\1/p' "$ERR")
	# The stream's epoch: serve's own ids are $E-1, $E-2 ...
	E=$(sed -n 's/^sse: serve: epoch \([0-9A-Za-z_]*\):.*/\1/p' "$ERR")
	PORT=${URL##*:}
	PORT=${PORT%/}
}

feed() { printf '%s\n' "$@" >&8; }

# feed_sync LINE...: feed lines and wait until the server has taken them
# all in: a watcher client (whose unknown id gets sse-lost at once, so we
# know it is connected) sees the last one.
feed_sync() {
	local w=$BATS_TEST_TMPDIR/watch.$RANDOM
	bg_get "$w" "${AUTH[@]}" '/events?lastEventId=__sync__'
	wait_file "$w" '^event: sse-lost'
	feed "$@"
	wait_file "$w" "^data: ${*: -1}\$"
}
end_input() { exec 8>&-; }

# get [CURL ARGS...] PATH: a client that gives up after 2 s (or MAXT):
# long enough for what the server already has, on a loaded machine.
get() {
	local path=${*: -1}
	curl -sN --max-time "${MAXT:-2}" "${@:1:$#-1}" "http://127.0.0.1:$PORT$path" 8>&-
}

# bg_get OUT [CURL ARGS...] PATH: a client in the background, into OUT.
# curl itself, not a function: a backgrounded function would be a subshell
# that keeps bash's saved copy of fd 8, and stdin would never end.
bg_get() {
	local out=$1
	shift
	local path=${*: -1}
	start_bg curl -sN --max-time "${MAXT:-5}" "${@:1:$#-1}" \
		"http://127.0.0.1:$PORT$path" >"$out" 8>&-
}

# wait_exit PID [TRIES]: wait (bounded) until PID has exited; its status
# in WAITED.
wait_exit() {
	local pid=$1 tries=${2:-100}
	while kill -0 "$pid" 2>/dev/null; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.05
	done
	WAITED=0
	wait "$pid" || WAITED=$?
}

# until_has PATH PATTERN: poll PATH until its stream shows PATTERN.
until_has() {
	local tries=100
	until MAXT=0.3 get "$1" | grep -q -- "$2"; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
	done
}

# connected FILE...: wait until each client has its stream (the server
# started with --retry, which every client gets first).
connected() {
	local f
	for f in "$@"; do
		wait_file "$f" '^retry:' || return 1
	done
}

