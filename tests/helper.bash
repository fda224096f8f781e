# Shared set-up for the bats suites: the built sse first on PATH, an
# environment of the suite's own, free ephemeral ports on 127.0.0.1, and
# every background process started with start_bg stopped in teardown.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

TESTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="$(cd "$TESTS_DIR/.." && pwd)"
: "${SSE_BIN:=$ROOT_DIR/sse}"
SSE_BINDIR="$(cd "$(dirname "$SSE_BIN")" && pwd)"
PATH="$SSE_BINDIR:$PATH"
export PATH
# Nothing of the caller's environment reaches what the tests run (tests/run
# sets the same before bats reads a file): a UTF-8 locale, no colour, no
# terminal type, no proxy, no token, no CA bundle of their own.
export LC_ALL=C.UTF-8 TZ=UTC TERM=dumb NO_COLOR=1
unset LANG LANGUAGE SSE_TOKEN CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR \
	http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
	no_proxy NO_PROXY
# Sanitizer builds: leaks fail the run, reports go to stderr.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:suppressions=$TESTS_DIR/asan.supp}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

BG_PIDS=()

# free_port: print a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# start_bg CMD...: run CMD in the background, remember its PID in BG_PID.
# Not with bats' descriptor 3: bats waits until every holder of it has
# closed it, so a process left over would stall the whole run.
start_bg() {
	"$@" 3>&- &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
}

# wait_port PORT [TRIES]: wait (bounded) until something listens on PORT.
wait_port() {
	local port=$1 tries=${2:-100}
	while ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.05
	done
}

# wait_file FILE PATTERN [TRIES]: wait (bounded) until FILE contains PATTERN.
wait_file() {
	local file=$1 pattern=$2 tries=${3:-200}
	until grep -q -- "$pattern" "$file" 2>/dev/null; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.05
	done
}

# sse_server [ARGS...] <SCRIPT: start tests/sse_server.py (see there) with
# ARGS and the script on stdin; sets PORT.
sse_server() {
	local t=$BATS_TEST_TMPDIR
	cat >"$t/script"
	: >"$t/port"
	start_bg python3 "$TESTS_DIR/sse_server.py" "$@" "$t/script" >"$t/port"
	wait_file "$t/port" . || fail "the test server did not start"
	# shellcheck disable=SC2034 # for the caller
	PORT=$(head -1 "$t/port")
}

# tree PID: PID and every process below it, parents first.
tree() {
	local child children=
	echo "$1"
	read -r children 2>/dev/null <"/proc/$1/task/$1/children" || true
	for child in $children; do
		tree "$child"
	done
}

# alive PID: PID runs (a zombie does not: no one may be left to reap it).
alive() {
	local stat=
	read -r stat 2>/dev/null <"/proc/$1/stat" || [ -n "$stat" ] || return 1
	stat=${stat##*) }
	[ "${stat:0:1}" != Z ]
}

# stop_bg: stop every process start_bg started, and every process below
# them (timeout's command, a pipeline of bash -c, say): TERM, then KILL
# after 5 s for those that ignore it. The tree is taken before the TERM:
# a child whose parent died is no longer found below it, and would hold
# the test's output open.
stop_bg() {
	local pid pids=() left tries=50
	for pid in "${BG_PIDS[@]}"; do
		mapfile -t -O "${#pids[@]}" pids < <(tree "$pid")
	done
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	while [ "$tries" -gt 0 ]; do
		left=0
		for pid in "${pids[@]}"; do
			alive "$pid" && left=1 && break
		done
		[ "$left" = 1 ] || break
		tries=$((tries - 1))
		sleep 0.1
	done
	for pid in "${pids[@]}"; do
		! alive "$pid" || kill -KILL "$pid" 2>/dev/null || true
	done
	for pid in "${BG_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	BG_PIDS=()
}

teardown() {
	stop_bg
}

# untimed: stdin's `-f json` lines with their receive time member, which
# must be the last and of the exact shape ("time" in RFC 3339, UTC,
# milliseconds), taken out, so that every other byte can be compared
# exactly; other lines ({"comment":..}, text) pass as they are. Fails on
# an event line without such a member.
untimed() {
	local l re='^(\{"event":.*),"time":"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{3}Z"\}$'
	while IFS= read -r l || [ -n "$l" ]; do
		if [[ $l == '{"event":'* ]]; then
			[[ $l =~ $re ]] || {
				echo "untimed: no time member as the last: $l" >&2
				return 1
			}
			l="${BASH_REMATCH[1]}}"
		fi
		printf '%s\n' "$l"
	done
}

# untime_output: after `run ... -f json`, $output and $lines untimed.
untime_output() {
	output=$(untimed <<<"$output") || fail "not json lines with a time: $output"
	# shellcheck disable=SC2034 # bats' $lines, read by assert_line
	mapfile -t lines <<<"$output"
}
