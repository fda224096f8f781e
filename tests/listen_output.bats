#!/usr/bin/env bats
# sse listen, output formats (raw, pretty, json, data, data0), filters (-e, -n,
# --until), -v, and interoperability with other servers and with sse serve.
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

@test "format: json, data and data0 of events in runs are those of the same events one by one (sse replay)" {
	local b fmt
	b='data: {"seq":1,"msg":"tick tock"}\n\ndata: \n\nid: 7\ndata: "q"\n\n'
	b+='data: after id\n\nid: a"b\\c\ndata: \x01\t\xe2\x80\xa8\n\nid: 9\n\n'
	b+='data: after id-only\n\nevent: t"y\ndata: typed\n\ndata: a\ndata: b\n\n'
	b+='data: crlf\r\n\r\nid: 1\rdata: cr\n\ndata: \xe2\x80\xa9 \xff\n\n'
	b+='data: """"""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""\n\n'
	python3 -c 'import ast, sys
sys.stdout.buffer.write(ast.literal_eval("b\x27" + sys.argv[1] + "\x27"))' "$b" >"$T/stream.sse"
	serve <<EOF
send b'$b'
EOF
	for fmt in json data data0; do
		lsn --no-reconnect -f "$fmt" "$URL" >"$T/listen.$fmt"
		sse replay --no-delay -f "$fmt" "$T/stream.sse" >"$T/replay.$fmt"
		untimed_if "$fmt" "$T/listen.$fmt"
		untimed_if "$fmt" "$T/replay.$fmt"
		cmp "$T/listen.$fmt" "$T/replay.$fmt"
	done
	grep -qxF '{"event":"message","data":"after id","id":"7"}' "$T/listen.json"
	grep -qxF '{"event":"message","data":"\"q\"","id":"7"}' "$T/listen.json"
	[ "$(wc -l <"$T/listen.json")" = 12 ]
}

@test "format: -f json objects end with the receive time: in the run's wall-clock window, shared by the events of one read (listen), the time written out (replay)" {
	serve <<'EOF'
send "data: a\n\nid: 1\ndata: b\n\nevent: t\ndata: c\n\n"
sleep 0.4
send "data: d\n\n"
EOF
	printf '%s\n' '{"format":"sse-recording","version":1,"start":"2001-02-03T04:05:06.789Z"}' \
		'{"t":0,"data":"x"}' '{"t":400,"data":"y"}' >"$T/rec.jsonl"
	local t0 t1
	t0=$(date +%s%3N)
	lsn --no-reconnect -f json "$URL" >"$T/listen.json"
	sse replay -f json "$T/rec.jsonl" >"$T/replay.json"
	t1=$(date +%s%3N)
	run python3 - "$t0" "$t1" "$T/listen.json" "$T/replay.json" <<'PY'
import datetime, json, sys
t0, t1 = int(sys.argv[1]), int(sys.argv[2])
def times(path):
    out = []
    for line in open(path, encoding="utf-8"):
        e = json.loads(line)
        assert list(e) == ["event", "data", "id", "time"], line
        d = datetime.datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
        ms = round(d.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
        assert t0 <= ms <= t1, (t0, ms, t1, line)
        out.append(ms)
    return out
a, b, c, d = times(sys.argv[3])
assert a == b == c, "one read, one time: %r" % [a, b, c]
assert d - a >= 350, "the second read's time: %r" % [a, d]
x, y = times(sys.argv[4])
assert y - x >= 350, "replay: the time written out: %r" % [x, y]
print("ok")
PY
	assert_output ok
}

@test "format: json, data and data0 of a stream read in random pieces match a WHATWG reference (tests/sse_ref.py), runs or not" {
	local fmt seed
	for seed in 1 2 3; do
		mkdir -p "$T/$seed"
		python3 "$TESTS_DIR/sse_ref.py" "$seed" "$T/$seed"
		serve <"$T/$seed/script"
		for fmt in json data data0; do
			lsn --no-reconnect -f "$fmt" "$URL" >"$T/got.$fmt"
			untimed_if "$fmt" "$T/got.$fmt"
			cmp "$T/$seed/want.$fmt" "$T/got.$fmt"
			# -n turns the runs off: events one by one
			lsn --no-reconnect -n 100000 -f "$fmt" "$URL" >"$T/got.$fmt"
			untimed_if "$fmt" "$T/got.$fmt"
			cmp "$T/$seed/want.$fmt" "$T/got.$fmt"
		done
		[ "$(wc -l <"$T/$seed/want.json")" -gt 200 ]
	done
}

@test "format: events that repeat a long last event ID are written out a batch at a time (memory stays bounded)" {
	serve <<'EOF'
send "id: " + "i" * 100000 + "\n\n"
repeat 2000 "data: x\n\n"
EOF
	# 2000 json lines of 100 KB each: 200 MB written, never held at once.
	run python3 -c 'import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE).stdout
print(r.count(b"\n"), len(r) // 1000000, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)' \
		timeout -k 5 20 sse listen --no-reconnect -f json "$URL"
	assert_success
	local lines mb rss
	read -r lines mb rss <<<"$output"
	[ "$lines" = 2000 ] && [ "$mb" = 200 ] || fail "got: $output"
	[ "$rss" -lt 100 ] || fail "peak RSS $rss MB"
}

@test "output: raw is the default in a pipe and relays the stream (ids, types, multi-line data)" {
	serve <<'EOF'
send "id: 7\nevent: add\ndata: a\ndata: b\n\n: comment\ndata: plain\n\n"
EOF
	lsn_prints "$(printf 'event: add\nid: 7\ndata: a\ndata: b\n\ndata: plain\n')" --no-reconnect "$URL"
}

@test "output: raw keeps last event IDs set or cleared by id-only blocks, within a read and across reconnections" {
	serve <<'EOF'
send "id: 7\n\ndata: a\n\nid\n\ndata: b\n\ndata: c\n\nid: 9\n\n"
---
send "data: d\n\n"
EOF
	run --separate-stderr lsn --max-reconnects 1 --retry-delay 0 -f raw "$URL"
	assert_failure 8
	assert_output "$(printf 'id: 7\ndata: a\n\nid: \ndata: b\n\ndata: c\n\nid: 9\ndata: d\n')"
	# and what was written parses back to the same lastEventIds
	printf '%s\n\n' "$output" >"$T/raw"
	serve <<EOF
send $(python3 -c 'import sys; print(repr(open(sys.argv[1], "rb").read()))' "$T/raw")
EOF
	run --separate-stderr evs --no-reconnect "$URL"
	assert_success
	assert_output "$(printf '%s\n' '["message", "a", "7"]' '["message", "b", ""]' \
		'["message", "c", ""]' '["message", "d", "9"]')"
}

@test "output: raw copies canonical events as they came, byte for byte what serializing them writes, in any chunking (tests/fixtures)" {
	local f name i n=0
	serve < <(chunkings "$TESTS_DIR"/fixtures/*.sse)
	for f in "$TESTS_DIR"/fixtures/*.sse; do
		name=${f##*/}
		for i in 1 2 3 4; do
			lsn --no-reconnect "$URL" >"$T/out$i" 2>"$T/err$i" ||
				fail "$name, response $i: exit $?: $(cat "$T/err$i")"
		done
		n=$((n + 4))
		[ "$(nreq)" = "$n" ] || fail "$name: $(nreq) requests, not $n"
		for i in 2 3 4; do
			cmp "$T/out1" "$T/out$i" || fail "$name: response $i differs from the serialized events"
		done
		[ "$name" != simple.sse ] || [ "$(cat "$T/out1")" = "$(printf '%s\n' \
			'event: greeting' 'id: 1' 'data: hello' 'data: world' '' \
			'id: 2' 'data: {"n": 2, "text": "json payload"}' '' \
			'event: update' 'data: no space after colon' '' \
			'id: 3' 'data: last one')" ] || fail "simple.sse: $(cat "$T/out1")"
	done
	[ "$n" -ge 80 ]
}

@test "output: raw with -e, -n and --until, events copied and serialized again in one stream" {
	serve <<'EOF'
send "event: add\ndata: 1\n\nevent: tick\ndata: 2\n\nid: 3\nevent: add\ndata: 3\n\ndata: 4\n\n"
hang 10
EOF
	lsn_prints "$(printf 'event: add\ndata: 1\n\nevent: add\nid: 3\ndata: 3\n')" -e add -n 2 "$URL"
	lsn_prints "$(printf 'event: add\ndata: 1\n\nevent: tick\ndata: 2\n')" --until tick "$URL"
}

@test "output: pretty on a terminal, with colour unless NO_COLOR is set" {
	serve <<'EOF'
send "event: add\ndata: hello-tty\n\n"
EOF
	run script -qec "env -u NO_COLOR timeout -k 5 20 sse listen --no-reconnect '$URL'" /dev/null
	assert_success
	assert_output --partial hello-tty
	refute_output --partial 'data: hello-tty'
	[[ $output == *$'\e['* ]] || fail "no colour: $output"
	run script -qec "NO_COLOR=1 timeout -k 5 20 sse listen --no-reconnect '$URL'" /dev/null
	assert_success
	assert_output --partial hello-tty
	[[ $output != *$'\e['* ]] || fail "colour with NO_COLOR: $output"
}

@test "output: -f json lines for jq, -f data, -f data0" {
	serve <<'EOF'
send "id: 1\nevent: add\ndata: {\"n\": 1}\n\ndata: two\ndata: lines\n\n"
EOF
	run --separate-stderr bash -c 'timeout -k 5 20 sse listen --no-reconnect -f json "$1" | jq -r .data' _ "$URL"
	assert_success
	assert_output $'{"n": 1}\ntwo\nlines'
	run --separate-stderr lsn --no-reconnect --format data "$URL"
	assert_output $'{"n": 1}\ntwo\nlines'
	lsn --no-reconnect -f data0 "$URL" >"$T/d0"
	[ "$(od -An -c "$T/d0" | tr -s ' ' | tr -d '\n')" = ' { " n " : 1 } \0 t w o \n l i n e s \0' ]
}

@test "output: a bad --format is a usage error" {
	run --separate-stderr sse listen -f '{nope' http://127.0.0.1:9/
	assert_failure 2
	[[ $stderr == *"invalid format"* ]]
}

@test "filter: -e prints only the given types (repeatable), --until ends after its type whatever -e says" {
	serve <<'EOF'
send "event: add\ndata: 1\n\nevent: tick\ndata: 2\n\nevent: del\ndata: 3\n\nevent: done\ndata: 4\n\nevent: add\ndata: 5\n\n"
hang 10
EOF
	lsn_prints $'1\n3' -f data -e add --event del --until done "$URL"
	lsn_prints $'1\n2\n3\n4' -f data --until done "$URL"
}

@test "filter: -n N exits 0 after N printed events" {
	serve <<'EOF'
send "data: 1\n\nevent: x\ndata: 2\n\ndata: 3\n\ndata: 4\n\n"
hang 10
EOF
	lsn_prints $'1\n3' -f data -n 2 -e message "$URL"
	run --separate-stderr sse listen -n 0 "$URL"
	assert_failure 2
	[[ $stderr == *"--max-events: invalid value '0'"* ]]
}

@test "output: events reach stdout as they arrive, not when the stream ends" {
	serve <<'EOF'
send "data: early\n\n"
hang 30
EOF
	start_bg timeout -k 5 20 sse listen -f data "$URL" >"$T/out"
	wait_file "$T/out" early
}

@test "output: many events in one chunk are written with few write(2) calls" {
	command -v strace >/dev/null || skip "strace is not installed"
	strace -o /dev/null true 2>/dev/null || skip "strace cannot trace here"
	serve <<'EOF'
repeat 2000 "data: {i}\n\n"
EOF
	# LeakSanitizer cannot run under ptrace; the leak check is elsewhere
	run --separate-stderr env ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=write \
		-o "$T/trace" timeout -k 5 20 sse listen --no-reconnect -f data "$URL"
	assert_success
	[ "${#lines[@]}" = 2000 ]
	local writes
	writes=$(grep -c 'write(1,' "$T/trace")
	[ "$writes" -le 10 ] || fail "$writes writes for 2000 events"
}

@test "output: a closed stdout ends the program quietly, with status 0" {
	serve <<'EOF'
send "data: one\n\n"
hang 30
EOF
	local t0=$SECONDS
	run bash -c 'timeout -k 5 20 sse listen -f data "$1" 2>"$2" | head -1; echo "status ${PIPESTATUS[0]}"' _ "$URL" "$T/err"
	assert_success
	assert_output $'one\nstatus 0'
	[ ! -s "$T/err" ]
	[ $((SECONDS - t0)) -lt 10 ]
}

@test "output: -v reports the status and headers on stderr, never on stdout" {
	serve <<'EOF'
header X-Probe: yes
send "data: one\n\n"
EOF
	lsn_prints one -v --no-reconnect -f data "$URL"
	[[ $stderr == *"< HTTP/1.1 200 OK"* ]]
	[[ $stderr == *"< X-Probe: yes"* ]]
	[[ $stderr == *"connecting to $URL"* ]]
}

@test "output: -vv adds libcurl's trace on stderr, each header once" {
	serve <<'EOF'
header X-Probe: yes
send "data: one\n\n"
EOF
	lsn_prints one -vv --no-reconnect -f data "$URL"
	[[ $stderr == *"> GET / HTTP/1.1"* ]]
	[[ $stderr == *"* Connected to 127.0.0.1"* ]]
	[ "$(grep -c '^< X-Probe: yes' <<<"$stderr")" = 1 ]
	[ "$(grep -c '^< HTTP/1.1 200' <<<"$stderr")" = 1 ]
	[ "$(grep -c '^> Accept: text/event-stream' <<<"$stderr")" = 1 ]
}

@test "output: -v shows headers, comments and ids from the network with control characters escaped, NUL included" {
	printf '%s\n' $'header X-Evil: a\e]0;pwn\ab\xc3\xbfd' \
		'send ": hi\x1b[2Jthere\x00null\n\nid: \x1b[31mred\ndata: x\n\n"' >"$T/evil"
	serve <"$T/evil"
	run --separate-stderr lsn -v --max-reconnects 1 --retry-delay 0 -f data "$URL"
	assert_failure 8
	[[ $stderr == *'< X-Evil: a\x1B]0;pwn\x07b\xFFd'* ]]
	[[ $stderr == *'* comment: hi\x1B[2Jthere\x00null'* ]]
	[[ $stderr == *'> Last-Event-ID: \x1B[31mred'* ]]
	[[ $stderr != *$'\e'* ]]
	[[ $stderr != *$'\a'* ]]
	# and so is a refused content type in the error message
	printf '%s\n' $'header Content-Type: text/html\e[31m' 'send "x"' >"$T/evil"
	serve <"$T/evil"
	lsn_fails 4 "content type 'text/html\\x1B[31m'" "$URL"
}

@test "interop: a Flask /stream endpoint (id, event: add, JSON data, a final done event) with --until done" {
	python3 -c 'import flask' 2>/dev/null || skip "python3-flask is not installed"
	: >"$T/port"
	start_bg python3 "$TESTS_DIR/flask_stream.py" >"$T/port" 2>"$T/flask.log"
	wait_file "$T/port" . || fail "flask did not start: $(cat "$T/flask.log")"
	PORT=$(head -1 "$T/port")
	run evs --until done "http://127.0.0.1:$PORT/stream"
	assert_success
	assert_output '["add", "{\"n\": 1, \"item\": \"apple\"}", "1"]
["add", "{\"n\": 2, \"item\": \"pear\"}", "2"]
["add", "{\"n\": 3, \"item\": \"fig\"}", "3"]
["done", "{\"count\": 3}", "4"]'
	# and the data is JSON that jq reads
	run bash -c 'timeout -k 5 20 sse listen -f json -e add --until done "$1" | jq -r ".data | fromjson | .item"' _ "http://127.0.0.1:$PORT/stream"
	assert_success
	assert_output $'apple\npear\nfig'
}

@test "interop: sse listen URL | sse serve --input sse relays a stream (raw is the default in a pipe)" {
	serve <<'EOF'
send "id: 7\nevent: add\ndata: relayed\n\n"
hang 30
EOF
	mkfifo "$T/relay"
	start_bg bash -c 'exec sse serve --input sse -p 0 --no-viewer <"$1" 2>"$2"' _ \
		"$T/relay" "$T/serve.err"
	start_bg bash -c 'exec sse listen "$1" >"$2"' _ "$URL" "$T/relay"
	wait_file "$T/serve.err" 'sse: serving' || fail "$(cat "$T/serve.err")"
	local surl
	surl=$(sed -n 's/^sse: serving \(.*\)$/\1/p' "$T/serve.err")
	run curl -sN --max-time 3 "${surl%/}/events"
	assert_line 'event: add'
	assert_line 'data: relayed'
}
