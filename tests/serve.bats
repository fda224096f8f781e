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
	assert_output "$(printf 'id: '"$E"'-1\ndata: one\n\nid: '"$E"'-2\ndata: two\n')"
}

@test "serve: invalid UTF-8 on stdin goes out as U+FFFD (the standard's decoder), with a warning naming the line" {
	serve
	bg_get "$BATS_TEST_TMPDIR/a" /events
	printf 'ok\n\377\376 bad\n\360\237\230 cut\nafter\n' >&8
	wait_file "$BATS_TEST_TMPDIR/a" 'data: after'
	# each maximal invalid subpart is one U+FFFD (EF BF BD)
	run cat "$BATS_TEST_TMPDIR/a"
	assert_output "$(printf 'id: %s-1\ndata: ok\n\nid: %s-2\ndata: \357\277\275\357\277\275 bad\n\nid: %s-3\ndata: \357\277\275 cut\n\nid: %s-4\ndata: after\n' "$E" "$E" "$E" "$E")"
	grep -q "line 2: not valid UTF-8" "$ERR"
	grep -q "line 3: not valid UTF-8" "$ERR"
	run grep -c "not valid UTF-8" "$ERR"
	assert_output 2
}

@test "serve: a client that reads nothing is disconnected once it falls out of the history, and that is logged" {
	serve --history 1000 --backlog 0
	MAXT=60 bg_get "$BATS_TEST_TMPDIR/a" /events
	start_bg python3 "$TESTS_DIR/stuck_client.py" "$PORT" >"$BATS_TEST_TMPDIR/stuck"
	wait_file "$BATS_TEST_TMPDIR/stuck" sent
	feed_sync first
	# 200,000 events of 100 bytes: 200 times the history
	python3 -c 'import sys; sys.stdout.write(("x" * 99 + "\n") * 200000 + "last\n")' >&8
	wait_file "$BATS_TEST_TMPDIR/a" '^data: last$' 600
	wait_file "$ERR" 'too far behind' 100 || fail "$(cat "$ERR")"
	# the warning comes as the socket is shut; libmicrohttpd frees it next
	for _ in $(seq 100); do
		run curl -s --max-time 10 "http://127.0.0.1:$PORT/metrics"
		[[ $output == *$'\nsse_clients 1\n'* ]] && break
		sleep 0.1
	done
	assert_line --regexp '^sse_clients_dropped_total(\{\})? [1-9]'
	assert_line --regexp '^sse_clients(\{\})? 1$'
	# the reader had everything, in order
	run grep -c '^data: x' "$BATS_TEST_TMPDIR/a"
	assert_output 200000
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
	run get -H 'Last-Event-ID: '"$E"'-2' /events
	assert_output "$(printf 'id: '"$E"'-3\ndata: c\n\nid: '"$E"'-4\ndata: d\n')"
	run get '/events?lastEventId='"$E"'-3'
	assert_output "$(printf 'id: '"$E"'-4\ndata: d\n')"
	run get '/events?lastEventId='"$E"'-4'
	assert_output ''
}

@test "serve: an evicted or unknown id gets the ring and an sse-lost event" {
	serve --history 3
	feed a b c d e
	until_has '/events?lastEventId='"$E"'-4' 'data: e'
	run get -H 'Last-Event-ID: '"$E"'-1' /events
	assert_line --index 0 'event: sse-lost'
	assert_line --index 1 'data: {"lastEventId":"'"$E"'-1"}'
	assert_line --index 2 'id: '"$E"'-3'
	assert_line 'data: e'
	refute_line 'data: b'
	run get '/events?lastEventId=nope%22x'
	assert_line --index 1 'data: {"lastEventId":"nope\"x"}'
}

@test "serve: new clients get the --backlog, 0 gives none" {
	serve --backlog 2
	feed_sync a b c
	run get /events
	assert_output "$(printf 'id: '"$E"'-2\ndata: b\n\nid: '"$E"'-3\ndata: c\n')"
}

@test "serve: --backlog 0 starts new clients at the next event" {
	serve --backlog 0 --retry 500
	feed_sync a b
	bg_get "$BATS_TEST_TMPDIR/a" /events
	connected "$BATS_TEST_TMPDIR/a"
	feed c
	wait_file "$BATS_TEST_TMPDIR/a" 'data: c'
	run cat "$BATS_TEST_TMPDIR/a"
	assert_output "$(printf 'retry: 500\n\nid: '"$E"'-3\ndata: c\n')"
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
	run curl -s -o /dev/null -w '%{http_code}' -H 'Last-Event-ID: '"$E"'-2' \
		"http://127.0.0.1:$PORT/events"
	assert_output 204
	run get /events # a new client still gets the history, then the end
	assert_success
	assert_output "$(printf 'id: '"$E"'-1\ndata: a\n\nid: '"$E"'-2\ndata: b\n')"
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
	assert_output "$(printf 'retry: 100\n\nid: '"$E"'-1\ndata: x\n')"
}

@test "serve: --exit-on-eof waits at most 5 s for a client that does not read" {
	serve --exit-on-eof --retry 100
	local flag=$BATS_TEST_TMPDIR/connected
	# A client with a tiny receive buffer that takes the head, then never
	# reads again and never closes.
	start_bg timeout 60 python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
s.recv(64)
open(sys.argv[2], "w").write("yes\n")
time.sleep(55)
' "$PORT" "$flag" 8>&-
	wait_file "$flag" yes
	# Far more than the socket buffers hold.
	yes "$(head -c 1000 /dev/zero | tr '\0' x)" | head -n 20000 >&8
	end_input
	local t0=$SECONDS
	# 5 s of grace, and slack for a loaded machine; not libmicrohttpd's 60.
	wait_exit "$SRV" 400 || fail "still running after 20 s"
	[ "$WAITED" -eq 0 ]
	[ $((SECONDS - t0)) -ge 4 ] || fail "gave up after $((SECONDS - t0)) s"
}

@test "serve: --end-event sends a final event when stdin ends" {
	serve --end-event done --exit-on-eof --retry 100
	bg_get "$BATS_TEST_TMPDIR/a" /events
	connected "$BATS_TEST_TMPDIR/a"
	feed x
	end_input
	wait_exit "$SRV"
	run cat "$BATS_TEST_TMPDIR/a"
	assert_output "$(printf 'retry: 100\n\nid: '"$E"'-1\ndata: x\n\nevent: done\nid: '"$E"'-2\ndata: \n')"
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

@test "serve: sse listen receives the broadcast, up to the end event" {
	serve --end-event done
	feed one two
	end_input
	run timeout 10 sse listen -f '{event} {id} {data}\n' --until done \
		"http://127.0.0.1:$PORT/events" 8>&-
	assert_success
	assert_output "$(printf 'message %s-1 one\nmessage %s-2 two\ndone %s-3 \n' "$E" "$E" "$E")"
}

@test "serve: --token: Bearer header or ?token= accepted, others 401" {
	serve --token s3cret
	feed_sync_token() { AUTH=(-H 'Authorization: Bearer s3cret'); feed_sync "$@"; }
	feed_sync_token a
	run get -H 'Authorization: Bearer s3cret' /events
	assert_output "$(printf 'id: '"$E"'-1\ndata: a\n')"
	run get '/events?token=s3cret'
	assert_output "$(printf 'id: '"$E"'-1\ndata: a\n')"
	local h
	for h in 'Authorization: Bearer wrong' 'Authorization: Bearer s3cre' \
		'Authorization: Basic czNjcmV0' 'X-None: 1'; do
		run curl -s -o /dev/null -w '%{http_code}' -H "$h" \
			"http://127.0.0.1:$PORT/events"
		assert_output 401
	done
	run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/?token=nope"
	assert_output 401
	run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/?token=s3cret"
	assert_output 200
}

@test "serve: the token comes from SSE_TOKEN too" {
	SSE_TOKEN=envtok serve
	run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/events"
	assert_output 401
	run curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
		-H 'Authorization: Bearer envtok' "http://127.0.0.1:$PORT/events"
	assert_output 200
}

@test "serve: --cors answers preflights and marks responses for allowed origins" {
	serve --cors https://app.example --cors https://two.example
	run curl -s -D - -o /dev/null -X OPTIONS -H 'Origin: https://app.example' \
		-H 'Access-Control-Request-Method: GET' \
		-H 'Access-Control-Request-Headers: last-event-id' \
		"http://127.0.0.1:$PORT/events"
	assert_line --partial 'HTTP/1.1 204'
	assert_line --regexp '^Access-Control-Allow-Origin: https://app.example'
	assert_line --regexp '^Access-Control-Allow-Methods: GET'
	assert_line --regexp '^Access-Control-Allow-Headers: last-event-id'
	run curl -s -D - -o /dev/null -X OPTIONS -H 'Origin: https://evil.example' \
		-H 'Access-Control-Request-Method: GET' "http://127.0.0.1:$PORT/events"
	assert_line --partial 'HTTP/1.1 403'
	refute_line --partial 'Access-Control-Allow-Origin'
	run curl -s -D - -o /dev/null --max-time 1 -H 'Origin: https://two.example' \
		"http://127.0.0.1:$PORT/events"
	assert_line --regexp '^Access-Control-Allow-Origin: https://two.example'
	assert_line --regexp '^Vary: Origin'
	# The answer depends on Origin even when it is not allowed or absent:
	# a shared cache must not hand one origin's answer to another.
	run curl -s -D - -o /dev/null --max-time 1 -H 'Origin: https://evil.example' \
		"http://127.0.0.1:$PORT/events"
	refute_line --partial 'Access-Control-Allow-Origin'
	assert_line --regexp '^Vary: Origin'
	run curl -s -D - -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/events"
	assert_line --regexp '^Vary: Origin'
	run curl -s -D - -o /dev/null "http://127.0.0.1:$PORT/"
	assert_line --regexp '^Vary: Origin'
}

@test "serve: --cors '*' allows any origin" {
	serve --cors '*'
	run curl -s -D - -o /dev/null --max-time 1 -H 'Origin: http://x.example' \
		"http://127.0.0.1:$PORT/events"
	assert_line --regexp '^Access-Control-Allow-Origin: http://x.example'
}

@test "serve: --tls-cert and --tls-key serve HTTPS" {
	local d=$BATS_TEST_TMPDIR
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=127.0.0.1' \
		-addext 'subjectAltName=IP:127.0.0.1' \
		-keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null
	serve --tls-cert "$d/cert.pem" --tls-key "$d/key.pem"
	[[ $URL == https://127.0.0.1:* ]]
	feed secure
	run curl -sN --max-time 2 --cacert "$d/cert.pem" "https://127.0.0.1:$PORT/events"
	assert_output "$(printf 'id: '"$E"'-1\ndata: secure\n')"
	run curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/events"
	refute_output 200
}

@test "serve: a bad certificate or a lone --tls-key is an error" {
	printf 'junk\n' >"$BATS_TEST_TMPDIR/bad.pem"
	run sse serve -p 0 --tls-cert "$BATS_TEST_TMPDIR/bad.pem" \
		--tls-key "$BATS_TEST_TMPDIR/bad.pem" </dev/null
	assert_failure 1
	assert_output --partial 'sse: serve:'
	run sse serve -p 0 --tls-key "$BATS_TEST_TMPDIR/bad.pem" </dev/null
	assert_failure 2
	assert_output --partial 'go together'
	run sse serve -p 0 --tls-cert /nonexistent --tls-key /nonexistent </dev/null
	assert_failure 1
	assert_output --partial "cannot open '/nonexistent'"
}

@test "serve: --max-clients answers 503 beyond the limit" {
	serve --max-clients 2 --retry 100
	bg_get "$BATS_TEST_TMPDIR/a" /events
	bg_get "$BATS_TEST_TMPDIR/b" /events
	connected "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	run curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/events"
	assert_output 503
	run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/"
	assert_output 200 # the viewer still answers
}

@test "serve: a vanished client is found by the keepalive and freed" {
	serve --max-clients 1 --keepalive 0.2 --retry 100
	# A client that goes away without closing: its process is killed.
	bg_get "$BATS_TEST_TMPDIR/a" /events
	connected "$BATS_TEST_TMPDIR/a"
	kill -KILL "$BG_PID"
	local code tries=100
	while :; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 0.5 \
			"http://127.0.0.1:$PORT/events" 8>&- || true)
		[ "$code" = 200 ] && break
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "the slot was never freed (last $code)"
		sleep 0.1
	done
}

@test "serve: HEAD on /events and /, and --no-viewer" {
	serve
	run curl -s -I "http://127.0.0.1:$PORT/events"
	assert_line --partial 'HTTP/1.1 200'
	assert_line --regexp '^Content-Type: text/event-stream'
	run curl -s "http://127.0.0.1:$PORT/"
	assert_output --partial '<title>sse viewer</title>'
	stop_bg
	exec 8>&-
	rm -f "$IN"
	mkfifo "$IN"
	serve --no-viewer
	run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/"
	assert_output 404
}

# heads PATH: the status line and headers, less Date, of HEAD then GET.
heads() {
	curl -s -I --max-time 2 "http://127.0.0.1:$PORT$1" | tr -d '\r' | grep -v '^Date:'
	echo ---
	curl -s -D - -o /dev/null --max-time 1 "http://127.0.0.1:$PORT$1" |
		tr -d '\r' | grep -v '^Date:'
}

@test "serve: HEAD answers with GET's status and headers" {
	serve --cors https://app.example
	feed_sync one two
	local p out head get
	for p in / /events '/events?lastEventId='"$E"'-1' '/events?lastEventId=zz'; do
		out=$(heads "$p")
		head=${out%%---*}
		get=${out#*---}
		[ "$(printf '%s' "$head" | sed '/^$/d')" = "$(printf '%s' "$get" | sed '/^$/d')" ] ||
			fail "HEAD $p: $head, GET $p: $get"
	done
	[[ $(heads /) == *"Content-Length: $(curl -s "http://127.0.0.1:$PORT/" | wc -c)"* ]]
	# After the input ended, a client that has everything is told 204.
	end_input
	local tries=50
	until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
		"http://127.0.0.1:$PORT/events?lastEventId=$E-2")" = 204 ]; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "GET never said 204"
		sleep 0.1
	done
	out=$(heads '/events?lastEventId='"$E"'-2')
	head=${out%%---*}
	get=${out#*---}
	[[ $head == *'HTTP/1.1 204'* ]] || fail "HEAD: $head"
	[ "$(printf '%s' "$head" | sed '/^$/d')" = "$(printf '%s' "$get" | sed '/^$/d')" ] ||
		fail "HEAD: $head, GET: $get"
}

@test "serve: -e/--event sets the type, --id none drops ids" {
	serve -e log --id none
	feed_sync x
	run get /events
	assert_output "$(printf 'event: log\ndata: x\n')"
	# Its start-up line announces no ids it will never send (review2 #8).
	run grep -c "epoch $E: a new stream (--id none: events carry no id of ours)" "$ERR"
	assert_output 1
	refute grep -q "ids $E-1 on" "$ERR"
}

@test "serve: --input sse relays types, ids, retry and multi-line data" {
	serve --input sse
	printf 'event: build\nid: b1\ndata: one\ndata: two\n\n: comment\nretry: 500\ndata: plain\n\n' >&8
	until_has '/events?lastEventId=b1' 'data: plain'
	run get /events
	assert_output "$(printf 'event: build\nid: b1\ndata: one\ndata: two\n\nid: '"$E"'-2\nretry: 500\ndata: plain\n')"
}

@test "serve: --input json, bad lines warn with their number and serving goes on" {
	serve --input json
	feed '{"event":"e","id":"x1","data":"hi"}' 'not json' '[1]' \
		'{"data":{"k":[1,2]},"retry":300}' '{"id":7,"data":"n"}' \
		'{"event":3}'
	until_has '/events?lastEventId=x1' 'data: n'
	run get /events
	assert_output "$(printf 'event: e\nid: x1\ndata: hi\n\nid: '"$E"'-2\nretry: 300\ndata: {"k":[1,2]}\n\nid: 7\ndata: n\n')"
	run cat "$ERR"
	assert_line --partial 'line 2: invalid JSON'
	assert_line --partial 'line 3: not a JSON object'
	assert_line --partial 'line 6: "event" is not a string'
}

@test "serve: --id seq numbers only the events sent; rejected lines take no number" {
	serve --input json
	feed '{"data":"a"}' '{"id":"x\ny","data":"bad"}' '{"data":"b"}' \
		'{"event":"e\rf","data":"bad"}' '{"data":"c"}'
	until_has /events 'data: c'
	run get /events
	assert_output "$(printf 'id: '"$E"'-1\ndata: a\n\nid: '"$E"'-2\ndata: b\n\nid: '"$E"'-3\ndata: c\n')"
	run cat "$ERR"
	assert_line --regexp '^sse: serve: line 2: '
	assert_line --regexp '^sse: serve: line 4: '
}

@test "serve: --input json: a scalar and an array are both not a JSON object" {
	serve --input json
	feed '"text"' '42' 'true' 'null' '[1]' '{"data":"end"}'
	until_has /events 'data: end'
	run cat "$ERR"
	local n
	for n in 1 2 3 4 5; do
		assert_line "sse: serve: line $n: not a JSON object"
	done
}

@test "serve: a line over --max-event-size is skipped with a warning" {
	serve --max-event-size 1K
	feed short
	head -c 5000 /dev/zero | tr '\0' x >&8
	feed '' after
	until_has '/events?lastEventId='"$E"'-1' 'data: after'
	run get '/events?lastEventId='"$E"'-1'
	assert_output "$(printf 'id: '"$E"'-2\ndata: after\n')"
	run cat "$ERR"
	assert_line --partial 'line 2: longer than --max-event-size (1024 bytes), skipped'
}

@test "serve: an oversized --input sse event is skipped to its blank line, the rest of the read is kept" {
	serve --input sse --max-event-size 1K
	local x500 x3000
	x500=$(head -c 500 /dev/zero | tr '\0' x)
	x3000=$(head -c 3000 /dev/zero | tr '\0' x)
	# One write, so one read of the server holds it all: a line too long,
	# then later in the same event a data line that must not show up; an
	# event too big by its many lines, CRLF-ended; events after each.
	{
		printf 'data: small1\n\n'
		printf 'data: %s\ndata: tail-of-big\n\n' "$x3000"
		printf 'event: t\ndata: after1\n\ndata: after2\nid: 77\n\n'
		printf 'data: after3\n\n'
		printf 'data: %s\r\ndata: %s\r\ndata: %s\r\ndata: tail2\r\n\r\n' \
			"$x500" "$x500" "$x500"
		printf 'data: after4\r\n\r\n'
	} >&8
	until_has /events 'data: after4'
	run get /events
	assert_output "$(printf 'id: '"$E"'-1\ndata: small1\n\nevent: t\nid: '"$E"'-2\ndata: after1\n\nid: 77\ndata: after2\n\nid: '"$E"'-4\ndata: after3\n\nid: '"$E"'-5\ndata: after4\n')"
	run cat "$ERR"
	assert_line --partial 'event 2: event too large, skipped'
	assert_line --partial 'too large, skipped'
	[ "$(grep -c 'too large, skipped' "$ERR")" -eq 2 ]
}

@test "serve: --history-bytes bounds the ring" {
	serve --history-bytes 8K --max-event-size 16
	local i
	for i in $(seq 1000); do printf 'line-%04d\n' "$i"; done >&8
	until_has '/events?lastEventId='"$E"'-999' 'line-1000'
	run get '/events?lastEventId='"$E"'-1'
	assert_line --index 0 'event: sse-lost'
	[ "${#output}" -lt 8300 ]
	assert_line 'data: line-1000'
}

@test "serve: a lone slow client loses nothing: stdin waits for it" {
	serve --history 1000 --exit-on-eof --retry 100
	local d=$BATS_TEST_TMPDIR
	# A client that reads its first line, then nothing for 2 s: far more
	# than the ring, the socket and the pipe hold arrives meanwhile.
	start_bg bash -c 'curl -sN --max-time 120 "$1" 8>&- |
		{ IFS= read -r l; echo "$l" >"$2/started"; sleep 2; cat >"$2/out"; }' \
		_ "http://127.0.0.1:$PORT/events" "$d" 8>&-
	wait_file "$d/started" '^retry: 100'
	timeout 120 seq 2000000 >&8
	end_input
	wait_exit "$SRV" 2400
	[ "$WAITED" -eq 0 ]
	wait_exit "$BG_PID" 200
	seq 2000000 >"$d/want"
	sed -n 's/^data: //p' "$d/out" | cmp - "$d/want"
	run grep -c '^id: ' "$d/out"
	assert_output 2000000
}

# stalled_client FILE: a client that asks for the stream and never reads;
# FILE says "sent" once it has asked.
stalled_client() {
	start_bg python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
open(sys.argv[2], "w").write("sent\n")
time.sleep(120)
' "$PORT" "$1" 8>&-
	wait_file "$1" sent
}

@test "serve: --max-stall: a client that takes nothing holds stdin that long at most" {
	serve --history-bytes 512K --max-event-size 1K --max-stall 0.5 --backlog 1
	stalled_client "$BATS_TEST_TMPDIR/sent"
	# Far more than the ring and the socket buffers hold: without the
	# limit this would wait for libmicrohttpd's 60 s timeout.
	timeout 30 seq 1000000 >&8
	feed_sync last
	grep -q 'no client took anything for 0.5 s: input goes on without them' "$ERR"
	# The server goes on: a new client gets the newest events.
	run get /events
	assert_line 'data: last'
}

@test "serve: --max-stall 0: stdin never waits for clients" {
	serve --history-bytes 512K --max-event-size 1K --max-stall 0 --backlog 1
	stalled_client "$BATS_TEST_TMPDIR/sent"
	timeout 30 seq 1000000 >&8
	feed_sync last
	run grep -c 'took anything' "$ERR"
	assert_output 0
}

@test "serve: --max-stall: a client that reads, if slowly, is not stalled behind one that stopped" {
	serve --history 10000000 --history-bytes 48M --max-event-size 1K \
		--max-stall 3 --backlog 0
	# About 12 MB of history, no client yet: nothing waits.
	seq 500000 >&8
	until_has '/events?lastEventId='"$E"'-499999' 'data: 500000'
	stalled_client "$BATS_TEST_TMPDIR/sent"
	# A client 12 MB behind the stalled one (the most advanced, by what
	# its socket buffers took): it reads about 1 MB/s for 7 s, which the
	# server sees as a take every second or so (a socket's send buffer
	# only wakes the writer once a third of it is free), then all it
	# can, to the end. It never catches up the stalled one that early.
	start_bg timeout 120 python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /events HTTP/1.0\r\nLast-Event-ID: %s-1\r\n\r\n" % sys.argv[2].encode())
slow = time.monotonic() + 7
buf, want, ok = b"", 2, True
while True:
    b = s.recv(65536)
    if not b:
        break
    if time.monotonic() < slow:
        time.sleep(0.05)
    buf += b
    *lines, buf = buf.split(b"\n")
    for l in lines:
        if l.startswith(b"id: "):
            ok = ok and int(l[4:].split(b"-")[-1]) == want
            want += 1
        if l == b"data: last":
            print("all" if ok else "gap", want - 1)
            sys.exit(0)
print("cut", want - 1)
' "$PORT" "$E" >"$BATS_TEST_TMPDIR/slow" 8>&-
	local slow=$BG_PID
	# Far more than the ring: were the reading client taken for stalled,
	# input would go on without it and it would fall out of the history.
	timeout 60 seq 500001 3000000 >&8
	feed last
	wait_exit "$slow" 2400
	run cat "$BATS_TEST_TMPDIR/slow"
	assert_output 'all 3000001'
	run grep -c 'took anything' "$ERR"
	assert_output 0
}

@test "serve: --max-stall: a stalled client out of the history holds stdin once, not again" {
	serve --history-bytes 512K --max-event-size 1K --max-stall 0.5 --backlog 1
	stalled_client "$BATS_TEST_TMPDIR/sent"
	timeout 30 seq 1000000 >&8
	# A client that comes, keeps up for a while, and leaves.
	MAXT=1 bg_get "$BATS_TEST_TMPDIR/a" /events
	feed mid
	wait_file "$BATS_TEST_TMPDIR/a" 'data: mid'
	wait_exit "$BG_PID" 200
	# What the stalled client was owed is long gone: it must not hold
	# stdin for another --max-stall (nor be warned about again).
	timeout 30 seq 1000000 >&8
	feed_sync last
	run grep -c 'took anything' "$ERR"
	assert_output 1
}

@test "serve: a client too slow while another keeps up is disconnected" {
	serve --history-bytes 512K --max-event-size 1K --retry 100 --exit-on-eof
	# A client that asks and then does not read until all input is in
	# (not for a fixed time: a loaded machine may not have sent it enough
	# by then to leave it behind).
	start_bg python3 -c '
import os, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
open(sys.argv[2], "w").write("sent\n")
t = time.monotonic() + 120
while not os.path.exists(sys.argv[3]) and time.monotonic() < t:
    time.sleep(0.05)
s.settimeout(10)
n = 0
while True:
    b = s.recv(65536)
    if not b:
        break
    n += len(b)
print(n)
' "$PORT" "$BATS_TEST_TMPDIR/sent" "$BATS_TEST_TMPDIR/go" >"$BATS_TEST_TMPDIR/slow" 8>&-
	local slow=$BG_PID
	wait_file "$BATS_TEST_TMPDIR/sent" sent
	MAXT=120 bg_get "$BATS_TEST_TMPDIR/fast" /events
	connected "$BATS_TEST_TMPDIR/fast"
	# About 25 MB of events: far more than the ring and the stalled
	# client's socket buffers (up to 4 MB each way here) hold.
	timeout 120 seq 1000000 >&8
	end_input
	: >"$BATS_TEST_TMPDIR/go"
	wait_exit "$slow" 300
	[ "$WAITED" -eq 0 ] # it saw the end of the connection, not a timeout
	local got
	got=$(cat "$BATS_TEST_TMPDIR/slow")
	[ "$got" -lt 20000000 ]
	wait_exit "$SRV" 600
	[ "$WAITED" -eq 0 ]
	seq 1000000 >"$BATS_TEST_TMPDIR/want"
	sed -n 's/^data: //p' "$BATS_TEST_TMPDIR/fast" | cmp - "$BATS_TEST_TMPDIR/want"
}

@test "serve: an address in use exits 3 naming it" {
	serve
	run sse serve -p "$PORT" </dev/null
	assert_failure 3
	assert_output --partial "sse: serve: cannot bind 127.0.0.1:$PORT: Address already in use"
}

@test "serve: -b binds IPv6 too" {
	python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null ||
		skip "no IPv6 loopback"
	serve -b ::1
	[[ $URL == http://\[::1\]:* ]]
	feed v6
	run curl -sN --max-time 1 "http://[::1]:$PORT/events"
	assert_output "$(printf 'id: '"$E"'-1\ndata: v6\n')"
}

@test "serve: bad option values exit 2" {
	local args
	for args in '--input xml' '--id uuid' '--retry -1' '--history 0' \
		'--backlog x' '--max-event-size 1Q' '--keepalive -1' \
		'--max-clients 0' '-p 70000' '--event' '--cors ""' \
		'--history-bytes 2K' '--max-stall soon' '--max-stall -1' 'extra'; do
		eval "run sse serve $args </dev/null"
		[ "$status" -eq 2 ] || fail "serve $args: exit $status: $output"
		assert_output --partial 'usage: sse serve'
	done
	run sse serve -e $'a\nb' </dev/null
	assert_failure 2
	assert_output --partial "invalid event type"
}

@test "serve: --keepalive 0 sends no comments" {
	serve --keepalive 0
	MAXT=1 run get /events
	refute_output --partial ':'
}

@test "serve: a client that shuts down only its sending side keeps its stream" {
	serve --keepalive 30
	feed one
	# It sends its request, shuts its side down (as nc -N does), and reads.
	start_bg python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
s.shutdown(socket.SHUT_WR)
s.settimeout(10)
d = b""
while b"data: three" not in d:
    b = s.recv(65536)
    if not b:
        break
    d += b
sys.stdout.write(d.decode())
' "$PORT" >"$BATS_TEST_TMPDIR/out" 8>&-
	local client=$BG_PID
	until_has /events 'data: one'
	sleep 0.5 # its hang-up has come while it waited
	feed two three
	wait_exit "$client" 300
	[ "$WAITED" -eq 0 ]
	run grep '^data: ' "$BATS_TEST_TMPDIR/out"
	assert_output "$(printf 'data: one\ndata: two\ndata: three')"
}

@test "serve: vanished clients are freed at once, not after the keepalive" {
	serve --max-clients 4 --keepalive 30 --retry 100
	nfds() { find "/proc/$SRV/fd" -mindepth 1 -maxdepth 1 | wc -l; }
	local base i pids=() tries
	base=$(nfds)
	for i in 1 2 3 4; do
		MAXT=60 bg_get "$BATS_TEST_TMPDIR/c$i" /events
		pids+=("$BG_PID")
	done
	connected "$BATS_TEST_TMPDIR"/c[1-4]
	[ "$(nfds)" -ge $((base + 4)) ]
	# They go away without closing: their processes are killed.
	kill -KILL "${pids[@]}"
	tries=100 # 5 s, far below the 30 s keepalive
	until [ "$(nfds)" -le "$base" ]; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "descriptors: $(nfds), before: $base"
		sleep 0.05
	done
	# --max-clients no longer counts them: four new clients get streams.
	for i in 5 6 7 8; do
		MAXT=60 bg_get "$BATS_TEST_TMPDIR/c$i" /events
	done
	connected "$BATS_TEST_TMPDIR"/c[5-8]
}

@test "serve: with one client, events 1 ms apart are each sent at once, not held" {
	# Coalescing holds a wake only for a few times what a flush of the
	# streams costs: for one client, microseconds. (A fixed 2 ms window
	# sent these in pairs, the first of each a millisecond late.)
	serve --backlog 0
	start_bg python3 -c '
import socket, statistics, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
f = s.makefile("rb")
while f.readline() not in (b"\r\n", b""):
    pass
open(sys.argv[2], "w").write("ready\n")
chunks = events = 0
lat = []
while events < 500:
    size = int(f.readline().strip(), 16)
    data = f.read(size + 2)
    now = time.monotonic_ns()
    chunks += 1
    for line in data.split(b"\n"):
        if line.startswith(b"data: "):
            events += 1
            lat.append((now - int(line[6:])) / 1e6)
print(chunks, events, "%.3f" % statistics.median(lat))
' "$PORT" "$BATS_TEST_TMPDIR/ready" >"$BATS_TEST_TMPDIR/count" 8>&-
	local client=$BG_PID
	wait_file "$BATS_TEST_TMPDIR/ready" ready
	# 500 events, one write each, 1 ms apart, each stamped as written.
	python3 -c '
import os, time
t = time.monotonic()
for i in range(500):
    t += 0.001
    time.sleep(max(0, t - time.monotonic()))
    os.write(8, b"%d\n" % time.monotonic_ns())
'
	wait_exit "$client" 400
	local chunks events med
	read -r chunks events med <"$BATS_TEST_TMPDIR/count"
	[ "$events" -eq 500 ]
	# One write each (some slack for a busy machine, which may make the
	# loop late and so send two events at once now and then).
	[ "$chunks" -ge 400 ] ||
		fail "$chunks writes for $events events (median latency $med ms)"
}

@test "serve: request heads of every shape are served, from either pool" {
	serve --cors '*'
	feed one
	# Heads of eight shapes costing 2,000 to 6,000 by the small pool's
	# rule: those at its limit must fit it, the rest go to the large one.
	run python3 "$BATS_TEST_DIRNAME/heads.py" "$PORT" sweep
	assert_success
	refute_output --partial FAILED
	[[ ${lines[-1]} =~ ^([0-9]+)\ tried$ ]]
	[ "${BASH_REMATCH[1]}" -gt 400 ]
}

@test "serve: 8 KB of cookies and 60 headers are served; a 70 KB header gets 431" {
	serve
	feed one
	run python3 "$BATS_TEST_DIRNAME/heads.py" "$PORT" big
	assert_output --regexp '^[0-9]{4,} 200 data$'
	run curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
		-H "Cookie: $(printf 'c%d=%070d; ' $(seq 1 110))" "http://127.0.0.1:$PORT/"
	assert_output 200
	run python3 "$BATS_TEST_DIRNAME/heads.py" "$PORT" huge
	assert_output 431
	feed two # and the server goes on
	run get /events
	assert_line 'data: two'
}

@test "serve: a head of 60 KB is served; 40 KB of cookies (counted twice) get 431" {
	serve
	feed one
	local big
	big=$(printf '%060000d' 0)
	run curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H "X-Big: $big" \
		"http://127.0.0.1:$PORT/"
	assert_output 200
	run curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
		-H "Cookie: c=${big:0:40000}" "http://127.0.0.1:$PORT/"
	assert_output 431
}

@test "serve: a browser with 16 KB of cookies gets the stream and the page" {
	serve
	feed one
	# 170 cookies of 100 bytes (Chromium keeps up to 180 for a site).
	local cookie='' v i
	v=$(printf '%086d' 0)
	for i in $(seq 100 269); do cookie+="session$i=$v; "; done
	cookie=${cookie%; }
	[ ${#cookie} -ge 16384 ]
	run get -H "Cookie: $cookie" -H 'Accept: text/event-stream' /events
	assert_line 'data: one'
	run curl -s --max-time 2 -H "Cookie: $cookie" "http://127.0.0.1:$PORT/"
	assert_output --partial '<title>sse viewer</title>'
	# With every header of Chromium's EventSource request, too.
	run python3 "$BATS_TEST_DIRNAME/heads.py" "$PORT" browser 16
	assert_output 200
}

@test "serve: heads that never end get 431, and the server's memory stays bounded" {
	serve
	feed one
	# 20 connections each send a header line of 1 MB at once: each is
	# answered 431 once its 64 KiB pool is full, the rest never taken in.
	run python3 "$BATS_TEST_DIRNAME/heads.py" "$PORT" endless 20 "$SRV"
	assert_success
	assert_line --index 0 431:20
	[ "${lines[1]}" -lt 8192 ] ||
		fail "the server's peak memory grew by ${lines[1]} KiB for 20 MB of heads"
	run get /events
	assert_line 'data: one'
}

@test "serve: an idle stream costs under 8 KiB, under 20 KiB with a browser's head and 2 KB of cookies" {
	grep -q __asan_init "$(command -v sse)" &&
		skip "memory is not measured under the sanitizers"
	serve
	feed one
	# 26 KiB before the large pool's send buffer was given back (door_wrote).
	run python3 "$BATS_TEST_DIRNAME/heads.py" "$PORT" idle-cost 200 2 "$SRV"
	assert_success
	[ "$output" -lt 20480 ] || fail "$output bytes a stream"
	run python3 "$BATS_TEST_DIRNAME/heads.py" "$PORT" idle-cost 200 0 "$SRV"
	assert_success
	[ "$output" -lt 8192 ] || fail "$output bytes a stream"
}

@test "serve: a client that sends half its request holds up no one" {
	serve
	feed one
	local i
	for i in 1 2 3; do
		start_bg python3 "$BATS_TEST_DIRNAME/heads.py" "$PORT" stall
	done
	run get /events
	assert_line 'data: one'
	run curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/"
	assert_output 200
}

@test "serve: out of descriptors, it stops accepting and starts again" {
	command -v prlimit >/dev/null || skip "no prlimit"
	serve
	feed one
	prlimit --pid "$SRV" --nofile=40:40 || skip "cannot lower the limit"
	# 40 streams take every descriptor the server has left: a request
	# waits in the listen queue until they go, then is served.
	run python3 "$BATS_TEST_DIRNAME/heads.py" "$PORT" starve-streams 100
	assert_output "$(printf 'waits\n200')"
	run get /events
	assert_line 'data: one'
}

@test "serve: out of descriptors, connections that sent nothing make room" {
	command -v prlimit >/dev/null || skip "no prlimit"
	serve
	feed one
	prlimit --pid "$SRV" --nofile=40:40 || skip "cannot lower the limit"
	# 60 idle connections would take every descriptor the server has
	# left: the oldest are closed for the request, which is served at once.
	run python3 "$BATS_TEST_DIRNAME/heads.py" "$PORT" starve 60
	assert_output "$(printf 'answered\n200')"
}

@test "serve: beyond 1024 connections that send nothing, the oldest are closed" {
	ulimit -n 4096 || skip "cannot raise the descriptor limit"
	serve
	feed one
	run python3 "$BATS_TEST_DIRNAME/heads.py" "$PORT" flood 1100
	assert_success
	# The normal request is served; of the first 550 idle connections,
	# the 77 oldest (1,101 - 1,024) were closed to make room.
	assert_line --index 0 200
	[ "${lines[1]}" -ge 76 ] && [ "${lines[1]}" -le 77 ]
}
