#!/usr/bin/env bats
# make demo (tools/demo): the URL is given once the server listens, and is
# the one it listens on; a port taken is the server's error, with no URL.

setup() {
	load helper
}

@test "demo: PORT=0 gives the URL the server listens on, once it listens, and it streams ticks" {
	start_bg env PORT=0 SSE="$SSE_BIN" "$ROOT_DIR/tools/demo" 2>"$BATS_TEST_TMPDIR/err"
	wait_file "$BATS_TEST_TMPDIR/err" 'sse demo: open' || fail "$(cat "$BATS_TEST_TMPDIR/err")"
	local url
	url=$(sed -n 's/^sse demo: open \(http[^ ]*\) in a browser.*/\1/p' "$BATS_TEST_TMPDIR/err")
	[[ $url == http://127.0.0.1:[1-9]*/ ]] || fail "$url"
	# the server's own line came first, with the same URL (before it,
	# only its line about the stream's epoch)
	run sed -n '/^sse demo: open/q;/^sse: serve: epoch /d;p' "$BATS_TEST_TMPDIR/err"
	assert_output "sse: serving $url"
	run curl -sN --max-time 3 "${url}events"
	assert_line 'event: tick'
	assert_line --regexp '^data: \{"time":"[0-9:]{8}","load":"[0-9. ]+"\}$'
}

@test "demo: a port that is taken is the server's error and exit status, and no URL" {
	: >"$BATS_TEST_TMPDIR/port"
	start_bg python3 -c 'import socket, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(30)' >"$BATS_TEST_TMPDIR/port"
	wait_file "$BATS_TEST_TMPDIR/port" . || fail "no port"
	local port
	port=$(cat "$BATS_TEST_TMPDIR/port")
	run --separate-stderr env PORT="$port" SSE="$SSE_BIN" timeout 10 "$ROOT_DIR/tools/demo"
	assert_failure 3
	[[ $stderr == *"cannot bind 127.0.0.1:$port"* ]] || fail "$stderr"
	[[ $stderr != *"sse demo: open"* ]] || fail "$stderr"
}
