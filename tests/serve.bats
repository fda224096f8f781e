#!/usr/bin/env bats
# sse serve: a real server on 127.0.0.1 (port 0), real clients (curl, and
# sse listen), stdin fed through a fifo held open on fd 8. Every process is
# stopped by PID in teardown; every client is bounded by --max-time.

setup() {
	load helper
	load serve_helper
	serve_setup
}

@test "serve: prints its URL and streams lines as events with seq ids" {
	serve
	[[ $URL == http://127.0.0.1:* ]]
	bg_get "$BATS_TEST_TMPDIR/a" /events
	feed one two
	wait_file "$BATS_TEST_TMPDIR/a" 'data: two'
	run cat "$BATS_TEST_TMPDIR/a"
	assert_output "$(printf 'id: 1\ndata: one\n\nid: 2\ndata: two\n')"
}

@test "serve: the stream's headers" {
	serve
	run curl -sN --max-time 1 -D - -o /dev/null "http://127.0.0.1:$PORT/events"
	assert_line --partial 'HTTP/1.1 200'
	assert_line --regexp '^Content-Type: text/event-stream; charset=utf-8'
	assert_line --regexp '^Cache-Control: no-cache'
	assert_line --regexp '^X-Accel-Buffering: no'
}

@test "serve: seq 100000 reaches several clients whole and in order" {
	serve --exit-on-eof --retry 1000
	local i
	for i in 1 2 3 4; do
		MAXT=30 bg_get "$BATS_TEST_TMPDIR/c$i" /events
	done
	connected "$BATS_TEST_TMPDIR"/c[1-4]
	seq 100000 >&8
	end_input
	wait_exit "$SRV" 600
	[ "$WAITED" -eq 0 ]
	seq 100000 >"$BATS_TEST_TMPDIR/want"
	for i in 1 2 3 4; do
		sed -n 's/^data: //p' "$BATS_TEST_TMPDIR/c$i" >"$BATS_TEST_TMPDIR/got"
		cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
		[ "$(grep -c '^id: ' "$BATS_TEST_TMPDIR/c$i")" -eq 100000 ]
	done
}

@test "serve: resume by Last-Event-ID header and by ?lastEventId=" {
	serve
	feed_sync a b c d
	run get -H 'Last-Event-ID: 2' /events
	assert_output "$(printf 'id: 3\ndata: c\n\nid: 4\ndata: d\n')"
	run get '/events?lastEventId=3'
	assert_output "$(printf 'id: 4\ndata: d\n')"
	run get '/events?lastEventId=4'
	assert_output ''
}

@test "serve: an evicted or unknown id gets the ring and an sse-lost event" {
	serve --history 3
	feed a b c d e
	until_has '/events?lastEventId=4' 'data: e'
	run get -H 'Last-Event-ID: 1' /events
	assert_line --index 0 'event: sse-lost'
	assert_line --index 1 'data: {"lastEventId":"1"}'
	assert_line --index 2 'id: 3'
	assert_line 'data: e'
	refute_line 'data: b'
	run get '/events?lastEventId=nope%22x'
	assert_line --index 1 'data: {"lastEventId":"nope\"x"}'
}

@test "serve: new clients get the --backlog, 0 gives none" {
	serve --backlog 2
	feed_sync a b c
	run get /events
	assert_output "$(printf 'id: 2\ndata: b\n\nid: 3\ndata: c\n')"
}

@test "serve: --backlog 0 starts new clients at the next event" {
	serve --backlog 0 --retry 500
	feed_sync a b
	bg_get "$BATS_TEST_TMPDIR/a" /events
	connected "$BATS_TEST_TMPDIR/a"
	feed c
	wait_file "$BATS_TEST_TMPDIR/a" 'data: c'
	run cat "$BATS_TEST_TMPDIR/a"
	assert_output "$(printf 'retry: 500\n\nid: 3\ndata: c\n')"
}

@test "serve: unknown paths get 404, other methods 405" {
	serve
	run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nope"
	assert_output 404
	run curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/events"
	assert_output 405
	run curl -s -D - -o /dev/null -X DELETE "http://127.0.0.1:$PORT/"
	assert_line --regexp '^Allow: GET, HEAD, OPTIONS'
}

@test "serve: --keepalive sends comments on idle streams" {
	serve --keepalive 0.3
	MAXT=1.5 run get /events
	[ "$(grep -c '^:' <<<"$output")" -ge 2 ]
}

@test "serve: end of input ends the streams; a client with everything gets 204" {
	serve
	bg_get "$BATS_TEST_TMPDIR/a" /events
	feed a b
	end_input
	wait_file "$BATS_TEST_TMPDIR/a" 'data: b'
	wait_exit "$BG_PID"
	[ "$WAITED" -eq 0 ] # the stream ended, curl did not time out
	run curl -s -o /dev/null -w '%{http_code}' -H 'Last-Event-ID: 2' \
		"http://127.0.0.1:$PORT/events"
	assert_output 204
	run get /events # a new client still gets the history, then the end
	assert_success
	assert_output "$(printf 'id: 1\ndata: a\n\nid: 2\ndata: b\n')"
	kill -0 "$SRV" # and the server goes on serving it
}

@test "serve: --exit-on-eof drains the clients, then exits 0" {
	serve --exit-on-eof --retry 100
	bg_get "$BATS_TEST_TMPDIR/a" /events
	connected "$BATS_TEST_TMPDIR/a"
	feed x
	end_input
	wait_exit "$SRV"
	[ "$WAITED" -eq 0 ]
	run cat "$BATS_TEST_TMPDIR/a"
	assert_output "$(printf 'retry: 100\n\nid: 1\ndata: x\n')"
}

@test "serve: --end-event sends a final event when stdin ends" {
	serve --end-event done --exit-on-eof --retry 100
	bg_get "$BATS_TEST_TMPDIR/a" /events
	connected "$BATS_TEST_TMPDIR/a"
	feed x
	end_input
	wait_exit "$SRV"
	run cat "$BATS_TEST_TMPDIR/a"
	assert_output "$(printf 'retry: 100\n\nid: 1\ndata: x\n\nevent: done\nid: 2\ndata: \n')"
}

@test "serve: SIGTERM and SIGINT exit 0 after flushing" {
	local sig
	for sig in TERM INT; do
		serve
		bg_get "$BATS_TEST_TMPDIR/a" /events
		sleep 0.3
		feed x
		wait_file "$BATS_TEST_TMPDIR/a" 'data: x'
		kill -"$sig" "$SRV"
		wait_exit "$SRV"
		[ "$WAITED" -eq 0 ] || fail "$sig: exit $WAITED"
		exec 8>&-
		rm -f "$IN"
		mkfifo "$IN"
	done
}
