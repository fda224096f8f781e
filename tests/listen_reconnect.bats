#!/usr/bin/env bats
# sse listen, reconnection: the WHATWG rules for the reconnection time, Last-Event-ID,
# discarded partial events, backoff on failures, --max-reconnects.
#
# Against real HTTP servers on 127.0.0.1 (tests/sse_server.py, scripted:
# see tests/listen_helper.bash). Conformance cases are named after their
# public sources:
#   WHATWG   the HTML Standard, "Server-sent events" (the rule is quoted)
#   wpt      web-platform-tests, eventsource/ (file name)
#   LD       LaunchDarkly sse-contract-tests, ssetests/ (test name)

setup() {
	load helper
	load listen_helper
}

@test "reconnect: a stream that ends is reestablished (WHATWG: reestablish the connection; wpt eventsource-reconnect)" {
	serve <<'EOF'
send "retry: 2\ndata: ok\n\n"
---
send "data: data\n\n"
hang 10
EOF
	lsn_prints $'ok\ndata' -f data -n 2 "$URL"
	[ "$(nreq)" = 2 ]
}

@test "reconnect: the default reconnection time is 3 s (WHATWG: the reconnection time is initially an implementation-defined value)" {
	reconnects 'send "data: one\n\n"'
	run --separate-stderr lsn -f data -n 2 "$URL"
	assert_success
	ge "$(gap 2)" 2.95
}

@test "reconnect: the delay honours retry: and --retry-delay (WHATWG: set the event stream's reconnection time to that integer; wpt format-field-retry)" {
	# "02000" is 2000 in base ten, not octal; 1 s here to keep it short
	reconnects 'send "retry: 01000\ndata: one\n\n"'
	run --separate-stderr lsn -f data -n 2 --retry-delay 0.05 "$URL"
	assert_success
	ge "$(gap 2)" 0.95
	reconnects 'send "data: one\n\n"'
	run --separate-stderr lsn -f data -n 2 --retry-delay 0.6 "$URL"
	assert_success
	ge "$(gap 2)" 0.55
}

@test "reconnect: a bogus retry: value is ignored (wpt format-field-retry-bogus)" {
	reconnects 'send "retry: 800\nretry: 100x\nretry: -1\nretry: 1 0\nretry: 99999999999999999999999\ndata: x\n\n"'
	run --separate-stderr lsn -f data -n 2 --retry-delay 0.05 "$URL"
	assert_success
	ge "$(gap 2)" 0.75
}

@test "reconnect: an empty retry: resets the reconnection time to the default, as Chromium does" {
	reconnects 'send "retry: 5000\nretry:\ndata: x\n\n"'
	run --separate-stderr lsn -v -f data -n 2 --retry-delay 0.2 "$URL"
	assert_success
	[[ $stderr == *"stream ended; reconnecting in 0.2 s"* ]] || fail "$stderr"
	ge "$(gap 2)" 0.15
}

@test "reconnect: Last-Event-ID carries the last event ID, persisting across connections (LD sends ID of last received event; ... that had an ID if later events did not)" {
	serve <<'EOF'
send "retry: 10\nid: abc\ndata: Hello\n\ndata: World\n\n"
---
send "data: no id here\n\n"
---
send "id: …\ndata: third\n\n"
---
send "data: x\n\n"
hang 10
EOF
	run --separate-stderr lsn -f data -n 5 "$URL"
	assert_success
	[ "$(hdr 1 Last-Event-ID)" = '<none>' ]
	[ "$(hdr 2 Last-Event-ID)" = abc ]
	[ "$(hdr 3 Last-Event-ID)" = abc ]
	# wpt format-field-id: a non-ASCII id goes back as UTF-8
	[ "$(req 4 "h['last-event-id'].encode('latin-1').decode('utf-8')")" = '…' ]
}

@test "reconnect: no Last-Event-ID once an empty id field cleared it (WHATWG: only if the last event ID string is not the empty string)" {
	serve <<'EOF'
send "retry: 10\nid: 1\ndata: one\n\nid\ndata: two\n\n"
---
send "data: x\n\n"
hang 10
EOF
	run --separate-stderr lsn -f data -n 3 "$URL"
	assert_success
	[ "$(hdr 2 Last-Event-ID)" = '<none>' ]
}

@test "reconnect: Last-Event-ID after events relayed as they came (raw format, runs of id and data events)" {
	serve <<'EOF'
send "retry: 10\n\nid: 1\ndata: a\n\nid: 2\ndata: b\n\ndata: c\n\n"
---
send "id: 3\ndata: d\n\nid: \ndata: e\n\n"
---
send "data: f\n\n"
EOF
	run --separate-stderr lsn --max-reconnects 2 "$URL"
	assert_failure 8
	assert_output "$(printf 'id: 1\ndata: a\n\nid: 2\ndata: b\n\ndata: c\n\nid: 3\ndata: d\n\nid: \ndata: e\n\ndata: f\n')"
	[ "$(hdr 2 Last-Event-ID)" = 2 ]
	[ "$(hdr 3 Last-Event-ID)" = '<none>' ]
}

@test "reconnect: with --reconnect, the request body is sent again (LD resends request body if any when reconnecting)" {
	reconnects 'send "retry: 10\ndata: one\n\n"'
	run --separate-stderr lsn -f data -n 2 --reconnect -H 'content-type: application/json; charset=utf-8' \
		-d '{"hello": "world"}' "$URL"
	assert_success
	[ "$(req 2 'r["method"]')" = POST ]
	[ "$(req 2 'r["body"]')" = '{"hello": "world"}' ]
	[ "$(hdr 2 Content-Type)" = 'application/json; charset=utf-8' ]
}

@test "reconnect: an incomplete event at a disconnect is discarded (WHATWG: once the end of the file is reached, any pending data must be discarded)" {
	serve <<'EOF'
send "retry: 10\ndata: complete\n\nevent: x\ndata: partial"
cut
---
send "data: after\n\n"
hang 10
EOF
	run --separate-stderr lsn -f json -n 2 "$URL"
	assert_success
	refute_output --partial partial
	assert_line --index 1 --partial '"after"'
	refute_output --partial '"x"'
}

@test "reconnect: a dropped connection (RST) is retried with a warning; -q silences it" {
	reconnects 'send "retry: 10\ndata: one\n\n"
drop'
	lsn_prints $'one\ntwo' -f data -n 2 "$URL"
	[[ $stderr == *"connection to '$URL' lost"* ]]
	[[ $stderr == *"reconnecting in"* ]]
	reconnects 'send "retry: 10\ndata: one\n\n"
drop'
	run --separate-stderr lsn -q -f data -n 2 "$URL"
	assert_success
	[ -z "$stderr" ]
}

@test "reconnect: a connection cut inside the response head is retried: a transport failure, not a refusal" {
	# after the status line, before Content-Type; then after every header
	# line but before the blank line that ends the head
	serve <<'EOF'
send "retry: 10\ndata: one\n\n"
---
rawhead "HTTP/1.1 200 OK\r\nServer: x\r\n"
cut
---
rawhead "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
cut
---
send "data: two\n\n"
hang 10
EOF
	lsn_prints $'one\ntwo' -f data -n 2 --retry-max-delay 0.1 "$URL"
	[[ $stderr == *"inside the response head"* ]] || fail "$stderr"
}

@test "reconnect: a reset during the TLS handshake and an HTTP/0.9 answer are retried, not futile (exit 8 with --max-reconnects)" {
	# libcurl takes a reset at once for a connection not made: the first
	# one is waited for with --retry-connect
	rawsrv rst
	run --separate-stderr lsn --retry-connect 30 --max-reconnects 2 --retry-delay 0 \
		--retry-max-delay 0.2 "https://127.0.0.1:$PORT/"
	assert_failure 8
	[[ $stderr == *"giving up after 2 reconnects"* ]]
	[ "$(wc -l <"$T/conns")" -eq 3 ]
	stop_bg
	rawsrv http09
	run --separate-stderr lsn --max-reconnects 1 --retry-delay 0 \
		--retry-max-delay 0.2 "http://127.0.0.1:$PORT/"
	assert_failure 8
	[[ $stderr == *"HTTP/0.9"* ]]
	[ "$(wc -l <"$T/conns")" -eq 2 ]
}

@test "reconnect: consecutive failures back off exponentially with jitter, capped by --retry-max-delay" {
	# a server that answers, but not in HTTP/1.x (--retry-connect polls
	# for a server that is not there yet in its own way)
	rawsrv http09
	local port=$PORT
	run --separate-stderr lsn --retry-delay 0.1 --max-reconnects 4 "http://127.0.0.1:$port/"
	assert_failure 8
	# retrying in d1..d4: targets 0.2, 0.4, 0.8, 1.6 s; each in [target/2, target]
	mapfile -t d < <(delays)
	[ "${#d[@]}" = 4 ] || fail "$stderr"
	ge "${d[0]}" 0.1 && ge 0.2 "${d[0]}"
	ge "${d[1]}" 0.2 && ge 0.4 "${d[1]}"
	ge "${d[2]}" 0.4 && ge 0.8 "${d[2]}"
	ge "${d[3]}" 0.8 && ge 1.6 "${d[3]}"
	run --separate-stderr lsn --retry-delay 0.1 --retry-max-delay 0.3 --max-reconnects 4 "http://127.0.0.1:$port/"
	assert_failure 8
	mapfile -t d < <(delays)
	[ "${#d[@]}" = 4 ]
	ge 0.3 "${d[3]}" && ge "${d[3]}" 0.15
}

@test "reconnect: an open connection resets the backoff: the next delay is the reconnection time" {
	reconnects 'status 503 Busy
---
status 503 Busy
---
send "retry: 100\ndata: one\n\n"'
	run --separate-stderr lsn -v --retry-on-http-error --retry-delay 0.1 -f data -n 2 "$URL"
	assert_success
	[[ $stderr == *"stream ended; reconnecting in 0.1 s"* ]] || fail "$stderr"
}

@test "reconnect: --no-reconnect exits 0 when the stream ends" {
	serve <<'EOF'
send "data: one\n\n"
EOF
	lsn_prints one --no-reconnect -f data "$URL"
	[ "$(nreq)" = 1 ]
}

@test "reconnect: --max-reconnects N reconnects N times, then exits 8" {
	serve <<'EOF'
send "retry: 1\ndata: x\n\n"
EOF
	run --separate-stderr lsn --max-reconnects 2 -f data "$URL"
	assert_failure 8
	assert_output $'x\nx\nx'
	[ "$(nreq)" = 3 ]
	[[ $stderr == *"giving up after 2 reconnects"* ]]
}
