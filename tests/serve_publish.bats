#!/usr/bin/env bats
# sse serve --publish: POST /events with curl; bodies as text, JSON lines
# and SSE; errors that name the line and publish nothing; the publish
# token apart from the subscriber's; many publishers at once; the access
# log; the hub's metrics.

setup() {
	load helper
	load serve_helper
	serve_setup
}

# post [CURL ARGS...]: POST to /events (or the path given with -P PATH);
# prints the body, then the status on a line of its own.
post() {
	local path=/events
	if [ "$1" = -P ]; then
		path=$2
		shift 2
	fi
	curl -s --max-time 5 -w '\n%{http_code}\n' "$@" "http://127.0.0.1:$PORT$path"
}

@test "publish: text/plain lines are events, answered with their ids" {
	serve --publish
	bg_get "$BATS_TEST_TMPDIR/a" /events
	run post -H 'Content-Type: text/plain' --data-binary $'one\ntwo\n'
	assert_line --index 0 "{\"ids\":[\"$E-1\",\"$E-2\"]}"
	assert_line --index 1 200
	wait_file "$BATS_TEST_TMPDIR/a" '^data: two$'
	run cat "$BATS_TEST_TMPDIR/a"
	assert_output "$(printf 'id: %s-1\ndata: one\n\nid: %s-2\ndata: two\n' "$E" "$E")"
	# curl -d's own content type is taken as text; ?event= sets the type
	run post -P '/events?event=note' -d hello
	assert_line --index 0 "{\"ids\":[\"$E-3\"]}"
	until_has /events '^event: note$'
}

@test "publish: JSON lines in the --input json schema, and SSE bodies" {
	serve --publish
	run post -H 'Content-Type: application/json' --data-binary \
		$'{"event":"tick","data":{"n":1}}\n\n{"id":"x7","data":"own id"}\n'
	assert_line --index 0 "{\"ids\":[\"$E-1\",\"x7\"]}"
	run post -H 'Content-Type: text/event-stream' --data-binary \
		$'event: a\ndata: 1\ndata: 2\n\n: comment\ndata: last'
	# (an event with an id of its own takes a number too, as on stdin)
	assert_line --index 0 "{\"ids\":[\"$E-3\",\"$E-4\"]}"
	run get /events
	assert_output "$(printf 'event: tick\nid: %s-1\ndata: {"n":1}\n\nid: x7\ndata: own id\n\nevent: a\nid: %s-3\ndata: 1\ndata: 2\n\nid: %s-4\ndata: last\n' "$E" "$E" "$E")"
}

@test "publish: --input none: a hub fed by publishers only, that never reads stdin (nor stops in an interactive shell's background)" {
	serve --publish --input none
	feed 'from stdin'
	run post -d 'published'
	assert_line --index 0 --regexp '^\{"ids":\["[a-z0-9]+-1"\]\}$'
	run get /events
	assert_output --regexp '^id: [a-z0-9]+-1'$'\n''data: published$'
	run sse serve -p 0 --input none </dev/null
	assert_failure 2
	assert_output --partial -- '--input none needs --redis or --publish'
}

@test "publish: a text line that is not UTF-8 is a 400 naming it, and nothing is published" {
	serve --publish
	run post -H 'Content-Type: text/plain' --data-binary $'fine\n\xff bad\nafter\n'
	assert_line --index 1 400
	assert_line --index 0 '{"error":"line 2: not valid UTF-8","line":2}'
	run post -d ok
	assert_line --index 0 "{\"ids\":[\"$E-1\"]}"
}

@test "publish: a bad line is a 400 naming it, and nothing of the body is published" {
	serve --publish
	run post -H 'Content-Type: application/json' --data-binary \
		$'{"data":"fine"}\n{"data": oops}\n{"data":"after"}\n'
	assert_line --index 1 400
	assert_line --index 0 --regexp '^\{"error":"line 2: invalid JSON: .*","line":2\}$'
	run post -H 'Content-Type: application/json' -d '[1]'
	assert_line --index 0 '{"error":"line 1: not a JSON object","line":1}'
	run post -H 'Content-Type: application/json' -d '{"event":"a\nb"}'
	assert_line --index 1 400
	run post --data-binary ''
	assert_line --index 0 '{"error":"no event in the body"}'
	run post -d ok
	assert_line --index 0 "{\"ids\":[\"$E-1\"]}"
}

@test "publish: 415 for an unknown type, 413 for a body too large, 400 for a bad topic, 405 without --publish" {
	serve --publish --max-publish-size 1K
	run post -H 'Content-Type: text/html' -d '<p>'
	assert_line --index 1 415
	assert_line --index 0 --partial 'use text/plain'
	run post --data-binary "$(head -c 2000 /dev/zero | tr '\0' x)"
	assert_line --index 1 413
	run post -H 'Transfer-Encoding: chunked' --data-binary "$(head -c 2000 /dev/zero | tr '\0' x)"
	assert_line --index 1 413
	run post -P '/events/bad%20name' -d x
	assert_line --index 1 400
	run post -P /events/build -d x
	assert_line --index 1 200
	run get /events
	assert_output ''
	stop_bg
	serve
	run post -d x
	assert_line --index 1 405
}

@test "publish: its own token; a subscriber's cannot publish, the publisher's cannot subscribe" {
	serve --token sub --publish --publish-token pub
	run post -d x
	assert_line --index 1 401
	run post -H 'Authorization: Bearer sub' -d x
	assert_line --index 1 401
	run post -P '/events?token=pub' -d x
	assert_line --index 1 401
	run post -H 'Authorization: Bearer pub' -d x
	assert_line --index 0 "{\"ids\":[\"$E-1\"]}"
	run curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H 'Authorization: Bearer pub' "http://127.0.0.1:$PORT/events"
	assert_output 401
	MAXT=1 run get -H 'Authorization: Bearer sub' /events
	assert_line 'data: x'
	run grep -c "Bearer PUBLISH_TOKEN" "$ERR"
	assert_output 1
}

@test "publish: the token from a file or from \$SSE_PUBLISH_TOKEN; the rules" {
	printf 'fromfile\n' >"$BATS_TEST_TMPDIR/tok"
	serve --publish --publish-token-file "$BATS_TEST_TMPDIR/tok"
	run post -H 'Authorization: Bearer fromfile' -d x
	assert_line --index 1 200
	stop_bg
	SSE_PUBLISH_TOKEN=fromenv serve --publish
	run post -H 'Authorization: Bearer fromenv' -d x
	assert_line --index 1 200
	run post -d x
	assert_line --index 1 401
	run sse serve -p 0 --token a --publish </dev/null
	[ "$status" -eq 2 ]
	assert_output --partial 'needs its own --publish-token'
	run sse serve -p 0 --token a --publish --publish-token a </dev/null
	[ "$status" -eq 2 ]
	run sse serve -p 0 --publish-token a </dev/null
	[ "$status" -eq 2 ]
	assert_output --partial '--publish-token needs --publish'
	run sse serve -p 0 --publish --redis redis://127.0.0.1:1 </dev/null
	[ "$status" -eq 2 ]
	assert_output --partial '--publish and --redis do not go together yet'
}

@test "publish: eight publishers at once lose nothing and keep each one's order" {
	serve --publish --retry 1000
	MAXT=60 bg_get "$BATS_TEST_TMPDIR/all" /events
	connected "$BATS_TEST_TMPDIR/all"
	local k pids=()
	for k in 1 2 3 4 5 6 7 8; do
		seq -f "p$k-%g" 1 250 >"$BATS_TEST_TMPDIR/body$k"
		(for part in 1 2 3 4 5; do
			sed -n "$(((part - 1) * 50 + 1)),$((part * 50))p" "$BATS_TEST_TMPDIR/body$k" |
				curl -sf --max-time 20 --data-binary @- "http://127.0.0.1:$PORT/events" >/dev/null || exit 1
		done) &
		pids+=($!)
	done
	for k in "${pids[@]}"; do wait "$k"; done
	wait_file "$BATS_TEST_TMPDIR/all" "^id: $E-2000\$" 400
	run grep -c '^data: p' "$BATS_TEST_TMPDIR/all"
	assert_output 2000
	# ids 1..2000 in order, no gap, no repeat
	run sh -c "grep '^id: ' '$BATS_TEST_TMPDIR/all' | cut -d- -f2 | awk '\$1 != NR {print \"bad\", NR, \$1; exit 1}'"
	assert_success
	# each publisher's lines in its own order
	for k in 1 2 3 4 5 6 7 8; do
		grep "^data: p$k-" "$BATS_TEST_TMPDIR/all" | sed "s/^data: p$k-//" >"$BATS_TEST_TMPDIR/got$k"
		seq 1 250 | diff - "$BATS_TEST_TMPDIR/got$k"
	done
}

@test "publish: stdin's end does not end the stream of a publishing server" {
	serve --publish
	end_input
	sleep 0.3
	run post -d after
	assert_line --index 0 "{\"ids\":[\"$E-1\"]}"
	MAXT=1 run get /events
	assert_line 'data: after'
}

@test "access log: a JSON line a request, the token never in it" {
	serve --token s3cret --access-log "$BATS_TEST_TMPDIR/access.log"
	curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$PORT/healthz?token=s3cret"
	curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$PORT/nope"
	MAXT=1 get '/events?token=s3cret' >/dev/null || true
	wait_file "$BATS_TEST_TMPDIR/access.log" '"path":"/events' 100
	run jq -c '[.method, .path, .status, (.peer == "127.0.0.1"), (.bytes >= 0), (.duration_ms >= 0), (.time | test("^20[0-9-]+T[0-9:.]+Z$"))]' "$BATS_TEST_TMPDIR/access.log"
	assert_line '["GET","/healthz?token=REDACTED",200,true,true,true,true]'
	assert_line '["GET","/nope",404,true,true,true,true]'
	assert_line '["GET","/events?token=REDACTED",200,true,true,true,true]'
	run grep -c s3cret "$BATS_TEST_TMPDIR/access.log"
	assert_output 0
}

@test "access log: - is stdout" {
	exec 8<>"$IN"
	sse serve -p 0 --access-log - <"$IN" >"$BATS_TEST_TMPDIR/out" 2>"$ERR" 8>&- &
	SRV=$!
	BG_PIDS+=("$SRV")
	wait_file "$ERR" 'sse: serving'
	PORT=$(sed -n 's/^sse: serving .*:\([0-9]*\)\/$/\1/p' "$ERR")
	curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$PORT/healthz"
	wait_file "$BATS_TEST_TMPDIR/out" '"path":"/healthz"'
}

@test "metrics: the hub's own: events in and published, history held, resumes found and missed" {
	serve --publish
	feed_sync one two
	post -d three >/dev/null
	MAXT=1 get -H "Last-Event-ID: $E-1" /events >/dev/null || true
	MAXT=1 get -H 'Last-Event-ID: nope' /events >/dev/null || true
	run sh -c "curl -sf --max-time 2 http://127.0.0.1:$PORT/metrics | /usr/bin/python3 '$TESTS_DIR/prom_check.py'"
	assert_success
	assert_line 'sse_events_in_total{} 3 counter'
	assert_line 'sse_events_published_total{} 1 counter'
	# one, two, three to the resumed client, two and three to the other
	assert_line --regexp '^sse_events_out_total\{\} [1-9][0-9]* counter$'
	assert_line 'sse_history_events{} 3 gauge'
	assert_line --regexp '^sse_history_bytes\{\} [1-9][0-9]* gauge$'
	assert_line 'sse_resumes_total{result="found"} 1 counter'
	# feed_sync's watcher resumes from an id that is not there, too
	assert_line --regexp '^sse_resumes_total\{result="missed"\} [1-9] counter$'
}

@test "publish: with a command as the input, while it runs and after it ended" {
	: >"$ERR"
	sse serve -p 0 --publish -- sh -c 'echo from-cmd; sleep 1' </dev/null 2>"$ERR" &
	SRV=$!
	BG_PIDS+=("$SRV")
	wait_file "$ERR" 'sse: serving'
	PORT=$(sed -n 's/^sse: serving .*:\([0-9]*\)\/$/\1/p' "$ERR")
	run post -d while
	assert_line --index 1 200
	until_has /events 'event: exit'
	run post -d after
	assert_line --index 1 200
	MAXT=1 run get /events
	assert_line 'data: from-cmd'
	assert_line 'data: while'
	assert_line 'data: after'
}
