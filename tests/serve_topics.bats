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

# tpub DATA NAME: publish DATA to topic NAME; T is then the topics' epoch,
# from the id it got (a topic's ids are T-1, T-2 ...).
tpub() {
	local out
	out=$(pub -d "$1" "http://127.0.0.1:$PORT/events/$2") || return 1
	T=$(sed -n 's/^{"ids":\["\([0-9a-z]*\)-[0-9]*"\]}$/\1/p' <<<"$out")
	[[ $T =~ ^[0-9a-z]{8}$ ]] || fail "no topic epoch in '$out'"
}

# tepoch NAME: T from the first id topic NAME (which has events) sends.
tepoch() {
	T=$(MAXT=0.5 get "/events/$1" | sed -n 's/^id: \([0-9a-z]*\)-[0-9]*$/\1/p' | head -n 1)
	[[ $T =~ ^[0-9a-z]{8}$ ]] || fail "no topic epoch in /events/$1"
}

@test "topics: each has its own ids and history; /events is apart" {
	serve --publish
	tpub one build
	# the topics' epoch is this process's, not the main stream's
	[ "$T" != "$E" ]
	pub -d two "http://127.0.0.1:$PORT/events/build" >/dev/null
	run pub -d x "http://127.0.0.1:$PORT/events/deploy"
	assert_output "{\"ids\":[\"$T-1\"]}"
	pub -d main "http://127.0.0.1:$PORT/events" >/dev/null
	run get /events/build
	assert_output "$(printf 'id: %s-1\ndata: one\n\nid: %s-2\ndata: two\n' "$T" "$T")"
	run get /events/deploy
	assert_output "$(printf 'id: %s-1\ndata: x\n' "$T")"
	run get /events
	assert_output "$(printf 'id: %s-1\ndata: main\n' "$E")"
	# resume by id, and the backlog of a new client
	run get -H "Last-Event-ID: $T-1" /events/build
	assert_output "$(printf 'id: %s-2\ndata: two\n' "$T")"
	# an id of the main stream is none of a topic's
	run get -H "Last-Event-ID: $E-1" /events/build
	assert_line 'event: sse-lost'
	assert_line 'data: one'
	stop_bg
	serve --publish --backlog 1
	tpub one t
	pub -d two "http://127.0.0.1:$PORT/events/t" >/dev/null
	run get /events/t
	assert_output "$(printf 'id: %s-2\ndata: two\n' "$T")"
}

@test "topics: several on one connection, each event's id naming every topic's place, and resuming by it" {
	serve --publish
	tpub a1 a
	pub -d b1 "http://127.0.0.1:$PORT/events/b" >/dev/null
	run get '/events?topic=a&topic=b'
	assert_line "id: a:$T-1"
	assert_line "id: b:$T-1 a:$T-1"
	pub -d a2 "http://127.0.0.1:$PORT/events/a" >/dev/null
	run get -H "Last-Event-ID: b:$T-1 a:$T-1" '/events?topic=a&topic=b'
	assert_output "$(printf 'id: a:%s-2 b:%s-1\ndata: a2\n' "$T" "$T")"
	# live: a client waiting gets new events of either topic
	bg_get "$BATS_TEST_TMPDIR/live" -H "Last-Event-ID: a:$T-2 b:$T-1" '/events?topic=a&topic=b'
	sleep 0.3
	pub -d b2 "http://127.0.0.1:$PORT/events/b" >/dev/null
	wait_file "$BATS_TEST_TMPDIR/live" '^data: b2$'
	run grep '^id: ' "$BATS_TEST_TMPDIR/live"
	assert_output "id: b:$T-2 a:$T-2"
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
	run curl -s -w ' %{http_code}' --max-time 2 -d x "http://127.0.0.1:$PORT/events/three"
	assert_output "{\"error\":\"too many topics (--max-topics): cannot make 'three'\",\"line\":1}
 409"
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
	assert_output --regexp "^\\{\"ids\":\\[\"[0-9a-z]{8}-2\",\"$E-1\"\\]\\}\$"
	run get /events/t
	assert_line 'data: posted'
}

@test "topics: --retry first, and sse-lost for an id no longer held" {
	serve --publish --retry 500
	tpub one t
	run get /events/t
	assert_line --index 0 'retry: 500'
	assert_line 'data: one'
	run get -H "Last-Event-ID: $T-999" /events/t
	assert_line 'event: sse-lost'
	assert_line "data: {\"lastEventId\":\"$T-999\"}"
	assert_line 'data: one'
	run get -H "Last-Event-ID: t:$T-999" '/events?topic=t&topic=u'
	assert_line 'event: sse-lost'
	assert_line "id: t:$T-1"
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

@test "topics: an id of none of the topics, or with a NUL, gets sse-lost; one naming some resumes them (#17)" {
	serve --publish
	tpub a1 a
	pub -d b1 "http://127.0.0.1:$PORT/events/b" >/dev/null
	local id
	for id in "zz:$T-1" 'garbage' "$T-1" 'a:' ':' "a:$T-1:" "a:$T-x"; do
		MAXT=0.5 run get -D - -H "Last-Event-ID: $id" '/events?topic=a&topic=b'
		assert_line 'event: sse-lost'
		assert_line --partial 'Last-Event-ID: earliest'
		assert_line 'data: a1'
		assert_line 'data: b1'
	done
	run get -H "Last-Event-ID: a:$T-999 b:$T-1" '/events?topic=a&topic=b'
	assert_line 'event: sse-lost'
	assert_line 'data: a1'
	refute_line 'data: b1'
	run get "/events/a?lastEventId=$T-1%00evil"
	assert_line 'event: sse-lost'
	assert_line 'data: a1'
	# b not named: nothing of it was sent yet, so all of it, no signal
	run get -H "Last-Event-ID: a:$T-1" '/events?topic=a&topic=b'
	assert_output "$(printf 'id: b:%s-1 a:%s-1\ndata: b1\n' "$T" "$T")"
}

@test "topics: their streams end at the end of input, and a client with everything gets 204 (#22)" {
	serve --input json
	feed '{"topic":"a","data":"a1"}' '{"topic":"b","data":"b1"}' '{"topic":"a","data":"a2"}'
	until_has /events/a 'a2'
	tepoch a
	bg_get "$BATS_TEST_TMPDIR/one" -H "Last-Event-ID: $T-2" /events/a
	local one=$BG_PID
	bg_get "$BATS_TEST_TMPDIR/two" '/events?topic=a&topic=b'
	local two=$BG_PID
	sleep 0.3
	end_input
	wait_exit "$one"
	[ "$WAITED" -eq 0 ] # ended, not timed out
	wait_exit "$two"
	[ "$WAITED" -eq 0 ]
	run grep -c '^data: ' "$BATS_TEST_TMPDIR/two"
	assert_output 3
	run curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H "Last-Event-ID: $T-2" "http://127.0.0.1:$PORT/events/a"
	assert_output 204
	run curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H "Last-Event-ID: a:$T-2 b:$T-1" "http://127.0.0.1:$PORT/events?topic=a&topic=b"
	assert_output 204
	run sse listen -f '{data}\n' "http://127.0.0.1:$PORT/events/a"
	assert_success
	assert_output "$(printf 'a1\na2')"
}

@test "topics: with --id none, the end of input ends a topic too: no backlog again on reconnect (#22)" {
	serve --input json --id none
	feed '{"topic":"a","data":"a1"}' '{"topic":"a","data":"a2"}'
	until_has /events/a 'a2'
	end_input
	run timeout 10 sse listen -f '{data}\n' --retry-delay 0.1 "http://127.0.0.1:$PORT/events/a"
	assert_success
	assert_output "$(printf 'a1\na2')"
}

@test "topics: a topic named twice is followed once (#16)" {
	serve --publish
	tpub a1 a
	run get '/events?topic=a&topic=a'
	assert_output "$(printf 'id: %s-1\ndata: a1\n' "$T")"
	run get '/events/a?topic=a&topic=b'
	assert_output "$(printf 'id: a:%s-1\ndata: a1\n' "$T")"
}

@test "topics: a publish over --max-topics is refused whole, naming the line; /metrics counts topic events (#18)" {
	serve --publish --max-topics 2
	tpub x a
	pub -d x "http://127.0.0.1:$PORT/events/b" >/dev/null
	run curl -s -w ' %{http_code}' --max-time 2 -H 'Content-Type: application/json' --data-binary \
		$'{"topic":"a","data":"1"}\n{"topic":"zzz","data":"2"}\n{"topic":"b","data":"3"}' \
		"http://127.0.0.1:$PORT/events"
	assert_output "{\"error\":\"too many topics (--max-topics): cannot make 'zzz'\",\"line\":2}
 409"
	run get /events/a
	assert_output "$(printf 'id: %s-1\ndata: x\n' "$T")"
	run get /events/b
	assert_output "$(printf 'id: %s-1\ndata: x\n' "$T")"
	pub -d m "http://127.0.0.1:$PORT/events" >/dev/null
	run sh -c "curl -sf --max-time 2 http://127.0.0.1:$PORT/metrics | /usr/bin/python3 '$TESTS_DIR/prom_check.py'"
	assert_success
	assert_line 'sse_events_in_total{} 3 counter'
	assert_line 'sse_events_published_total{} 3 counter'
	assert_line 'sse_history_events{} 3 gauge'
}

@test "topics: subscribers cannot use up --max-topics: an empty topic goes with its last subscriber (#20)" {
	serve --publish --max-topics 3
	local t
	for t in x y z; do
		curl -s -m 0.3 "http://127.0.0.1:$PORT/events/$t" || true
	done
	local tries=50
	until curl -sf --max-time 2 "http://127.0.0.1:$PORT/metrics" | grep -qx 'sse_topics 0'; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || break
		sleep 0.1
	done
	run pub -d hello "http://127.0.0.1:$PORT/events/build"
	assert_output --regexp '^\{"ids":\["[0-9a-z]{8}-1"\]\}$'
	# a topic with events stays, followed or not
	run curl -sf --max-time 2 "http://127.0.0.1:$PORT/metrics"
	assert_line 'sse_topics 1'
}

@test "topics: a subscriber that reads nothing is disconnected once it falls out of the topic's history, and that is logged (#24)" {
	serve --input json --history 100
	start_bg python3 "$TESTS_DIR/stuck_client.py" "$PORT" /events/a >"$BATS_TEST_TMPDIR/stuck"
	wait_file "$BATS_TEST_TMPDIR/stuck" sent
	feed '{"topic":"a","data":"first"}'
	until_has /events/a first
	# 20,000 events of 1 KB: 200 times the topic's history
	python3 -c 'import sys; sys.stdout.write(("{\"topic\":\"a\",\"data\":\"" + "x" * 1000 + "\"}\n") * 20000)' >&8
	feed '{"topic":"a","data":"last"}'
	until_has /events/a last
	wait_file "$ERR" 'too far behind' 100 || fail "$(cat "$ERR")"
	run curl -s --max-time 10 "http://127.0.0.1:$PORT/metrics"
	assert_line --regexp '^sse_clients_dropped_total(\{\})? [1-9]'
}

@test "topics: a JSON line's own topic wins over the path's, as sse-serve(1) says (#23)" {
	serve --publish
	run pub -H 'Content-Type: application/json' -d '{"topic":"b","data":"x"}' "http://127.0.0.1:$PORT/events/a"
	assert_output --regexp '^\{"ids":\["[0-9a-z]{8}-1"\]\}$'
	tepoch b
	run get /events/b
	assert_output "$(printf 'id: %s-1\ndata: x\n' "$T")"
	run get /events/a
	assert_output ''
}

# restart ARGS...: SIGKILL the server, start it again on its port.
restart() {
	local port=$PORT
	kill -KILL "$SRV"
	wait_exit "$SRV"
	exec 8>&-
	rm -f "$IN"
	mkfifo "$IN"
	serve -p "$port" "$@"
}

# pubs TOPIC DATA...: publish each DATA to TOPIC (/events for "").
pubs() {
	local t=$1 d
	shift
	for d in "$@"; do
		pub -d "$d" "http://127.0.0.1:$PORT/events${t:+/$t}" >/dev/null || return 1
	done
}

# A client that reconnects with an id of the last life: the loss signal
# and the new life from its oldest event, never the new life's event 4 as
# the old one's event 4. Within one life, resuming stays exact.
old_life_lost() {
	local old=$1
	MAXT=1 run get -D - -H "Last-Event-ID: $old-3" /events/a
	assert_line --partial 'Last-Event-ID: earliest'
	assert_line 'event: sse-lost'
	assert_line "data: {\"lastEventId\":\"$old-3\"}"
	[ "$(grep -c '^data: n' <<<"$output")" -eq 5 ] || fail "not all of the new life: $output"
	[ "$(grep -m 1 '^id: ' <<<"$output")" = "id: $T-1" ] || fail "$output"
	MAXT=1 run get -D - -H "Last-Event-ID: a:$old-3 b:$old-1" '/events?topic=a&topic=b'
	assert_line --partial 'Last-Event-ID: earliest'
	assert_line 'event: sse-lost'
	[ "$(grep -c '^data: n' <<<"$output")" -eq 5 ] || fail "not all of the new life: $output"
	assert_line 'data: m1'
	# one topic of the old life, one of this one: only the old is lost
	MAXT=1 run get -H "Last-Event-ID: a:$old-3 b:$T-1" '/events?topic=a&topic=b'
	assert_line 'event: sse-lost'
	[ "$(grep -c '^data: n' <<<"$output")" -eq 5 ] || fail "not all of the new life: $output"
	refute_line 'data: m1'
	# this life's ids resume exactly: no gap, nothing twice
	MAXT=1 run get -H "Last-Event-ID: $T-3" /events/a
	assert_output "$(printf 'id: %s-4\ndata: n4\n\nid: %s-5\ndata: n5\n' "$T" "$T")"
	MAXT=1 run get -H "Last-Event-ID: a:$T-3 b:$T-1" '/events?topic=a&topic=b'
	assert_output "$(printf 'id: a:%s-4 b:%s-1\ndata: n4\n\nid: a:%s-5 b:%s-1\ndata: n5\n' "$T" "$T" "$T" "$T")"
}

@test "topics: a restart: a client with an id of the last life gets sse-lost, never the new life's events as its continuation (#25)" {
	serve --publish
	tpub o1 a
	pubs a o2 o3
	pubs b l1
	local old=$T
	MAXT=1 run get -H "Last-Event-ID: $T-2" /events/a
	assert_output "$(printf 'id: %s-3\ndata: o3\n' "$T")"
	restart --publish
	tpub n1 a
	[ "$T" != "$old" ] || fail "the topics' epoch $T again after a restart"
	pubs a n2 n3 n4 n5
	pubs b m1
	old_life_lost "$old"
}

@test "topics: a restart with --journal: the main stream resumes exactly, topics (not journaled) get sse-lost (#25)" {
	local J=$BATS_TEST_TMPDIR/j
	serve --publish --journal "$J"
	pubs "" e1 e2
	tpub o1 a
	pubs a o2 o3
	pubs b l1
	local old=$T epoch=$E
	restart --publish --journal "$J"
	[ "$E" = "$epoch" ] || fail "a new main epoch $E after $epoch"
	pubs "" e3
	tpub n1 a
	[ "$T" != "$old" ] || fail "the topics' epoch $T again after a restart"
	[ "$T" != "$E" ]
	pubs a n2 n3 n4 n5
	pubs b m1
	MAXT=1 run get -D - -H "Last-Event-ID: $E-1" /events
	refute_line --partial 'Last-Event-ID'
	refute_line 'event: sse-lost'
	assert_line "id: $E-2"
	assert_line "id: $E-3"
	[ "$(grep -c '^id: ' <<<"$output")" -eq 2 ] || fail "$output"
	old_life_lost "$old"
}

@test "topics: with --redis they are each node's own: an id of one node's topic gets sse-lost on another (#25)" {
	command -v redis-server >/dev/null || skip "redis-server is not installed"
	local sock=$BATS_TEST_TMPDIR/redis.sock tries=100 one two
	start_bg redis-server --port 0 --unixsocket "$sock" --save '' \
		--appendonly no --dir "$BATS_TEST_TMPDIR" --logfile "$BATS_TEST_TMPDIR/redis.log"
	until [ "$(redis-cli -s "$sock" ping 2>/dev/null)" = PONG ]; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "redis-server did not start"
		sleep 0.05
	done
	serve --redis "unix://$sock" --input json
	feed '{"topic":"a","data":"o1"}' '{"topic":"a","data":"o2"}' '{"topic":"a","data":"o3"}'
	until_has /events/a o3
	tepoch a
	one=$T
	# a second node, its own input
	exec 8>&-
	IN=$BATS_TEST_TMPDIR/in2
	mkfifo "$IN"
	serve --redis "unix://$sock" --input json
	feed '{"topic":"a","data":"n1"}' '{"topic":"a","data":"n2"}' '{"topic":"a","data":"n3"}' \
		'{"topic":"a","data":"n4"}' '{"topic":"a","data":"n5"}'
	until_has /events/a n5
	tepoch a
	two=$T
	[ "$one" != "$two" ] || fail "both nodes' topics in epoch $one"
	MAXT=1 run get -D - -H "Last-Event-ID: $one-3" /events/a
	assert_line --partial 'Last-Event-ID: earliest'
	assert_line 'event: sse-lost'
	[ "$(grep -c '^data: n' <<<"$output")" -eq 5 ] || fail "not all of this node's: $output"
	MAXT=1 run get -H "Last-Event-ID: $two-3" /events/a
	assert_output "$(printf 'id: %s-4\ndata: n4\n\nid: %s-5\ndata: n5\n' "$two" "$two")"
}
