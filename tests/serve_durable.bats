#!/usr/bin/env bats
# sse serve: ids that name one event of one life of a stream (EPOCH-N),
# what a client that the stream cannot resume is told, and --journal:
# restarts, torn and corrupted journals, the lock, write failures. Real
# servers on 127.0.0.1, real clients (curl, sse listen), killed by PID.

setup() {
	load helper
	load serve_helper
	serve_setup
}

# listen_bg OUT: sse listen on the stream in the background, one line an
# event ("TYPE ID DATA"), reconnecting 100 ms after the stream ends.
listen_bg() {
	start_bg timeout 60 sse listen -f '{event} {id} {data}\n' \
		--retry-delay 0.1 "http://127.0.0.1:$PORT/events" >"$1" 8>&-
}

@test "serve durable: ids are EPOCH-N, the epoch said at the start" {
	serve
	[[ $E =~ ^[0-9a-z]{8}$ ]] || fail "epoch '$E'"
	feed_sync a b
	run get /events
	assert_output "$(printf 'id: %s-1\ndata: a\n\nid: %s-2\ndata: b\n' "$E" "$E")"
	run cat "$ERR"
	assert_line "sse: serve: epoch $E: a new stream, ids $E-1 on"
}

@test "serve durable: an id of another epoch, from the future or with a NUL gets the loss signal and Last-Event-ID: earliest" {
	serve
	feed_sync a b
	local id
	for id in zzzzzzzz-1 "$E-3" "$E-99" "$E-1%00x" "$E-0" 1; do
		run curl -sN -i --max-time 1 "http://127.0.0.1:$PORT/events?lastEventId=$id"
		assert_line --partial 'Last-Event-ID: earliest'
		assert_line 'event: sse-lost'
		# everything held follows, from the first event
		assert_line "id: $E-1"
		assert_line "id: $E-2"
	done
	run curl -sN -i --max-time 1 "http://127.0.0.1:$PORT/events?lastEventId=$E-1%00x"
	assert_line "data: {\"lastEventId\":\"$E-1\\u0000x\"}"
	run curl -sN -i --max-time 1 -H "Last-Event-ID: $E-1" "http://127.0.0.1:$PORT/events"
	refute_line --partial 'Last-Event-ID'
	refute_line 'event: sse-lost'
	assert_line "id: $E-2"
}

@test "serve durable: a restart without a journal: reconnecting clients get the loss signal, never the new stream as the old one's continuation" {
	serve --retry 100
	local old=$E port=$PORT a=$BATS_TEST_TMPDIR/a b=$BATS_TEST_TMPDIR/b
	feed_sync 1 2 3
	listen_bg "$a"
	listen_bg "$b"
	wait_file "$a" " 3\$"
	wait_file "$b" " 3\$"
	kill -KILL "$SRV"
	wait_exit "$SRV"
	exec 8>&-
	rm -f "$IN"
	mkfifo "$IN"
	serve --retry 100 -p "$port"
	[ "$E" != "$old" ]
	feed 4 5
	wait_file "$a" " 5\$"
	wait_file "$b" " 5\$"
	local f
	for f in "$a" "$b"; do
		run cat "$f"
		assert_output "$(printf 'message %s-1 1\nmessage %s-2 2\nmessage %s-3 3\nsse-lost %s-3 {"lastEventId":"%s-3"}\nmessage %s-1 4\nmessage %s-2 5\n' \
			"$old" "$old" "$old" "$old" "$old" "$E" "$E")"
	done
}

@test "serve durable: --id none: after input ends a reconnecting client is told 204, not fed the backlog again" {
	serve --id none --retry 100
	feed 1 2 3
	end_input
	run timeout 10 sse listen -f data --retry-delay 0.1 "http://127.0.0.1:$PORT/events" 8>&-
	assert_success
	assert_output "$(printf '1\n2\n3\n')"
	# No id on any event; the stream ends with the bare id field.
	run get /events
	assert_output "$(printf 'retry: 100\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\nid: %s-end\n' "$E")"
	run curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
		-H "Last-Event-ID: $E-end" "http://127.0.0.1:$PORT/events"
	assert_output 204
}

@test "serve durable: --input json: explicit ids are the producer's, serve's own count every event" {
	serve --input json
	feed '{"data":"ok"}' '{"data":5,"id":7}' '{"event":"x"}'
	until_has /events 'event: x'
	run get /events
	assert_output "$(printf 'id: %s-1\ndata: ok\n\nid: 7\ndata: 5\n\nevent: x\nid: %s-3\ndata: \n' "$E" "$E")"
	# Resume works from either kind of id.
	run get "/events?lastEventId=7"
	assert_output "$(printf 'event: x\nid: %s-3\ndata: \n' "$E")"
	run get "/events?lastEventId=$E-1"
	assert_line 'id: 7'
}
