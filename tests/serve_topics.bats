#!/usr/bin/env bats
# sse serve topics: GET /events/NAME and ?topic=a&topic=b, each topic its
# own ids, history, backlog and resume; names checked, their number
# bounded; published to over HTTP or named by "topic" in JSON input.

setup() {
	load helper
	load serve_helper
	serve_setup
}

pub() { curl -sf --max-time 5 "$@"; }

@test "topics: each has its own ids and history; /events is apart" {
	serve --publish
	pub -d one "http://127.0.0.1:$PORT/events/build" >/dev/null
	pub -d two "http://127.0.0.1:$PORT/events/build" >/dev/null
	run pub -d x "http://127.0.0.1:$PORT/events/deploy"
	assert_output '{"ids":["1"]}'
	pub -d main "http://127.0.0.1:$PORT/events" >/dev/null
	run get /events/build
	assert_output "$(printf 'id: 1\ndata: one\n\nid: 2\ndata: two\n')"
	run get /events/deploy
	assert_output "$(printf 'id: 1\ndata: x\n')"
	run get /events
	assert_output "$(printf 'id: %s-1\ndata: main\n' "$E")"
	# resume by id, and the backlog of a new client
	run get -H 'Last-Event-ID: 1' /events/build
	assert_output "$(printf 'id: 2\ndata: two\n')"
	stop_bg
	serve --publish --backlog 1
	pub -d one "http://127.0.0.1:$PORT/events/t" >/dev/null
	pub -d two "http://127.0.0.1:$PORT/events/t" >/dev/null
	run get /events/t
	assert_output "$(printf 'id: 2\ndata: two\n')"
}

@test "topics: several on one connection, each event's id naming every topic's place, and resuming by it" {
	serve --publish
	pub -d a1 "http://127.0.0.1:$PORT/events/a" >/dev/null
	pub -d b1 "http://127.0.0.1:$PORT/events/b" >/dev/null
	run get '/events?topic=a&topic=b'
	assert_line 'id: a:1'
	assert_line 'id: b:1 a:1'
	pub -d a2 "http://127.0.0.1:$PORT/events/a" >/dev/null
	run get -H 'Last-Event-ID: b:1 a:1' '/events?topic=a&topic=b'
	assert_output "$(printf 'id: a:2 b:1\ndata: a2\n')"
	# live: a client waiting gets new events of either topic
	bg_get "$BATS_TEST_TMPDIR/live" -H 'Last-Event-ID: a:2 b:1' '/events?topic=a&topic=b'
	sleep 0.3
	pub -d b2 "http://127.0.0.1:$PORT/events/b" >/dev/null
	wait_file "$BATS_TEST_TMPDIR/live" '^data: b2$'
	run grep '^id: ' "$BATS_TEST_TMPDIR/live"
	assert_output 'id: b:2 a:2'
}

@test "topics: a bad name is a 400, too many topics a refusal" {
	serve --publish --max-topics 2
	run curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/events/bad%20name"
	assert_output 400
	run curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/events?topic=.x"
	assert_output 400
	run curl -s -w '%{http_code}' --max-time 2 -d x "http://127.0.0.1:$PORT/events/a%2Fb"
	assert_output --partial 400
	local q=topic=t1 i
	for i in $(seq 2 17); do q="$q&topic=t$i"; done
	run curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/events?$q"
	assert_output 400
	pub -d x "http://127.0.0.1:$PORT/events/one" >/dev/null
	pub -d x "http://127.0.0.1:$PORT/events/two" >/dev/null
	run pub -d x "http://127.0.0.1:$PORT/events/three"
	assert_output '{"ids":[null],"error":"too many topics (--max-topics)"}'
	run curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/events/four"
	assert_output 503
}

@test "topics: JSON lines name theirs, on stdin and in a publish body" {
	serve --input json --publish
	feed '{"topic":"t","data":"from stdin"}' '{"topic":"bad name","data":"x"}'
	until_has /events/t 'from stdin'
	wait_file "$ERR" 'line 2'
	run pub -H 'Content-Type: application/json' --data-binary \
		$'{"topic":"t","data":"posted"}\n{"data":"to /events"}' "http://127.0.0.1:$PORT/events"
	assert_output "{\"ids\":[\"2\",\"$E-1\"]}"
	run get /events/t
	assert_line 'data: posted'
}

@test "topics: --retry first, and sse-lost for an id no longer held" {
	serve --publish --retry 500
	pub -d one "http://127.0.0.1:$PORT/events/t" >/dev/null
	run get /events/t
	assert_line --index 0 'retry: 500'
	assert_line 'data: one'
	run get -H 'Last-Event-ID: 999' /events/t
	assert_line 'event: sse-lost'
	assert_line 'data: {"lastEventId":"999"}'
	assert_line 'data: one'
	run get -H 'Last-Event-ID: t:999' '/events?topic=t&topic=u'
	assert_line 'event: sse-lost'
	assert_line 'id: t:1'
}

@test "topics: /metrics counts each topic's events and history" {
	serve --publish
	pub --data-binary $'1\n2' "http://127.0.0.1:$PORT/events/build" >/dev/null
	pub -d x "http://127.0.0.1:$PORT/events/deploy" >/dev/null
	run sh -c "curl -sf --max-time 2 http://127.0.0.1:$PORT/metrics | /usr/bin/python3 '$TESTS_DIR/prom_check.py'"
	assert_success
	assert_line 'sse_topics{} 2 gauge'
	assert_line 'sse_topic_events_in_total{topic="build"} 2 counter'
	assert_line 'sse_topic_events_in_total{topic="deploy"} 1 counter'
	assert_line 'sse_topic_history_events{topic="build"} 2 gauge'
}

@test "topics: sse replay --serve has none (404)" {
	printf 'data: x\n\n' >"$BATS_TEST_TMPDIR/rec.sse"
	local port
	port=$(free_port)
	start_bg sse replay --serve -p "$port" "$BATS_TEST_TMPDIR/rec.sse"
	wait_port "$port"
	run curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/events/x"
	assert_output 404
}
