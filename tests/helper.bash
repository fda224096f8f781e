# Shared set-up for the bats suites: the built sse first on PATH, free
bats_require_minimum_version 1.5.0
# ephemeral ports on 127.0.0.1, and every background process started with
# start_bg stopped by PID in teardown.
bats_load_library bats-support
bats_load_library bats-assert

TESTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="$(cd "$TESTS_DIR/.." && pwd)"
: "${SSE_BIN:=$ROOT_DIR/sse}"
SSE_BINDIR="$(cd "$(dirname "$SSE_BIN")" && pwd)"
PATH="$SSE_BINDIR:$PATH"
export PATH NO_COLOR=1
# Sanitizer builds: leaks fail the run, reports go to stderr.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
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
start_bg() {
	"$@" &
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

# kill_tree PID: SIGKILL PID and every process below it (timeout's command,
# say), so that no orphan holds the test's output open and hangs the suite.
kill_tree() {
	local children child
	children=$(cat "/proc/$1/task/$1/children" 2>/dev/null) || true
	for child in $children; do
		kill_tree "$child"
	done
	kill -KILL "$1" 2>/dev/null || true
}

stop_bg() {
	local pid
	for pid in "${BG_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${BG_PIDS[@]}"; do
		# bounded: a process that ignores TERM gets KILL after 5 s
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill_tree "$pid"
		wait "$pid" 2>/dev/null || true
	done
	BG_PIDS=()
}

teardown() {
	stop_bg
}
