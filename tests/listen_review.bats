#!/usr/bin/env bats
# sse listen, the reviewer's findings (/work/wt/review.md numbers in the
# names): --state is at-least-once with --exec, --timeout holds while a
# command runs, a first connection with no answer exits 3, --expect against
# a restarted sse serve, --retry-connect polls, and the messages.
#
# Against tests/sse_server.py and `sse serve` on 127.0.0.1.

setup() {
	load helper
	load listen_helper
}

# srv INPUT [ARGS...]: `sse serve -p 0 ARGS` reading what the shell
# commands INPUT print; sets PORT and SURL (its /events).
srv() {
	: >"$T/srv.err"
	start_bg bash -c "($1) | sse serve -p 0 ${*:2} 2>'$T/srv.err'"
	wait_file "$T/srv.err" 'sse: serving' || fail "sse serve did not start: $(cat "$T/srv.err")"
	PORT=$(sed -n 's|^sse: serving https*://127.0.0.1:\([0-9]*\)/.*|\1|p' "$T/srv.err" | head -1)
	SURL=http://127.0.0.1:$PORT/events
}

# closer: a TCP server that closes every connection at once, without a
# word; sets PORT.
closer() {
	: >"$T/port"
	start_bg python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    c.close()' >"$T/port"
	wait_file "$T/port" . || fail "the server did not start"
	PORT=$(head -1 "$T/port")
}

# counter FILE: the N of the EPOCH-N id in FILE.
counter() {
	sed 's/.*-//' "$1"
}

@test "15: --state never passes an event whose --exec command failed (at least once)" {
	srv 'seq 1 6; sleep 30'
	# --exec-stop: exit 1 at event 3; the state stays at event 2
	run --separate-stderr lsn --state "$T/st" --exec-stop --exec 'read d; [ "$d" != 3 ]' -f data "$SURL"
	assert_failure 1
	assert_output $'1\n2\n3'
	[ "$(counter "$T/st")" = 2 ] || fail "state: $(cat "$T/st")"
	# so the next run gets event 3 again
	lsn_prints 3 --state "$T/st" -n 1 -f data "$SURL"
	# without --exec-stop: a warning, the run goes on, and the state is
	# held before the failed event for the rest of the run
	rm "$T/st"
	run --separate-stderr lsn --state "$T/st" -n 6 --exec 'read d; [ "$d" != 3 ]' -f data "$SURL"
	assert_success
	assert_output $'1\n2\n3\n4\n5\n6'
	[[ $stderr == *"--exec: 'read d; [ \"\$d\" != 3 ]' exited 1"* ]] || fail "$stderr"
	[[ $stderr == *"--state: '$T/st' stays before this event"* ]] || fail "$stderr"
	[ "$(counter "$T/st")" = 2 ]
	# a command that succeeds moves it on, as before
	lsn_prints $'3\n4' --state "$T/st" -n 2 --exec 'cat >/dev/null' -f data "$SURL"
	[ "$(counter "$T/st")" = 4 ]
}

@test "12: --timeout holds while an --exec command runs: the command is stopped (SIGTERM, then SIGKILL)" {
	srv 'echo one; sleep 30'
	local t0 t1
	t0=$(date +%s.%N)
	run --separate-stderr lsn --timeout 1 -f data --exec 'exec sleep 31.25' "$SURL"
	t1=$(date +%s.%N)
	assert_failure 5
	[[ $stderr == *"timed out after 1 s (--timeout); --exec: 'exec sleep 31.25' stopped"* ]] || fail "$stderr"
	ge 3 "$(awk "BEGIN { print $t1 - $t0 }")"
	! pgrep -f 'sleep 31.25' || fail "the command was left running"
	# one that ignores SIGTERM is killed a second later, and what it
	# started goes with it
	t0=$(date +%s.%N)
	run --separate-stderr lsn --timeout 1 -f data --exec 'trap "" TERM; sleep 31.5; :' "$SURL"
	t1=$(date +%s.%N)
	assert_failure 5
	ge 4 "$(awk "BEGIN { print $t1 - $t0 }")"
	sleep 0.2
	! pgrep -f 'sleep 31.5' || fail "the command was left running"
}

@test "33: a first connection that gets no answer exits 3, as a refused one; --retry-connect waits for it" {
	closer
	run --separate-stderr lsn -n 1 "http://127.0.0.1:$PORT/"
	assert_failure 3
	[[ $stderr == *"no answer from 'http://127.0.0.1:$PORT/'"* ]] || fail "$stderr"
	[[ $stderr != *"retrying"* ]] || fail "$stderr"
	run --separate-stderr lsn -n 1 --retry-connect 0.5 "http://127.0.0.1:$PORT/"
	assert_failure 3
	[[ $stderr == *"retrying in 0.1 s"* ]] || fail "$stderr"
	[[ $stderr == *"(--retry-connect)"* ]] || fail "$stderr"
	# http:// to a TLS port: the commonest typo
	make_cert
	srv 'echo tls; sleep 30' --tls-cert "$T/cert.pem" --tls-key "$T/key.pem"
	run --separate-stderr lsn -n 1 "http://127.0.0.1:$PORT/events"
	assert_failure 3
	[[ $stderr == *"no answer from"* ]] || fail "$stderr"
}

@test "28: --expect: a golden file recorded from sse serve matches the next run of it; ids only when the file has them" {
	srv 'printf "a\nb\n"; sleep 30'
	lsn -q --record "$T/golden.jsonl" -n 2 -f data "$SURL" >/dev/null
	stop_bg
	srv 'printf "a\nb\n"; sleep 30'
	lsn_prints $'a\nb' --expect "$T/golden.jsonl" -f data "$SURL"
	# the counter still counts
	srv 'printf "b\na\n"; sleep 30'
	printf 'id: x1-2\ndata: a\n\nid: x1-1\ndata: b\n\n' >"$T/g.sse"
	run --separate-stderr lsn --expect "$T/g.sse" -f data "$SURL"
	assert_failure 9
	# README's hand-written golden file, no ids, against a server with ids
	printf 'data: b\n\ndata: a\n\n' >"$T/golden.sse"
	lsn_prints $'b\na' --expect "$T/golden.sse" -f data "$SURL"
}

@test "review2 #1: --expect: a multi-topic golden file matches the next run, place by place" {
	srv 'printf "{\"topic\":\"a\",\"data\":\"x\"}\n{\"topic\":\"b\",\"data\":\"y\"}\n"; sleep 30' --input json
	lsn -q --record "$T/golden.jsonl" -n 2 -f data "$SURL?topic=a&topic=b" >/dev/null
	stop_bg
	srv 'printf "{\"topic\":\"a\",\"data\":\"x\"}\n{\"topic\":\"b\",\"data\":\"y\"}\n"; sleep 30' --input json
	lsn_prints $'x\ny' --expect "$T/golden.jsonl" -f data "$SURL?topic=a&topic=b"
	# a place's counter, a topic's name and the number of places count
	local bad
	for bad in 'b:q1-1 a:q1-2' 'b:q1-1 c:q1-1' 'b:q1-1' 'b:q1-1 a:q1-1 c:q1-1'; do
		printf 'id: a:q1-1\ndata: x\n\nid: %s\ndata: y\n\n' "$bad" >"$T/g.sse"
		run --separate-stderr lsn --expect "$T/g.sse" -f data "$SURL?topic=a&topic=b"
		assert_failure 9
	done
	printf 'id: a:q1-1\ndata: x\n\nid: b:q1-1 a:q1-1\ndata: y\n\n' >"$T/g.sse"
	lsn_prints $'x\ny' --expect "$T/g.sse" -f data "$SURL?topic=a&topic=b"
}

@test "11: --expect says the exit status it returns; an empty file is met at once; --help lists it after --exec-stop" {
	srv 'printf "a\nb\nc\n"; sleep 30'
	printf 'data: a\n\ndata: b\n\ndata: c\n\ndata: d\n\n' >"$T/g.sse"
	run --separate-stderr lsn --timeout 1 --expect "$T/g.sse" -f data "$SURL"
	assert_failure 9
	[[ $stderr == *"3 of the 4 events of '$T/g.sse' came before --timeout (exit 9)"* ]] || fail "$stderr"
	run --separate-stderr lsn -n 1 --expect "$T/g.sse" -f data "$SURL"
	assert_failure 9
	[[ $stderr == *"(exit 9)"* ]] || fail "$stderr"
	: >"$T/empty.sse"
	run --separate-stderr lsn --expect "$T/empty.sse" -f data "$SURL"
	assert_success
	assert_output ''
	run sse listen --help
	[[ $output == *"--exec-stop"*"--expect FILE"* ]] || fail "$output"
}

@test "14: --retry-connect polls a starting server from 0.1 s on, doubling" {
	local port t0 t1
	port=$(free_port)
	t0=$(date +%s.%N)
	start_bg bash -c "timeout 20 sse listen --retry-connect 10 -n 1 -f data http://127.0.0.1:$port/events >'$T/out' 2>'$T/err'"
	local lsnpid=$BG_PID
	sleep 1
	start_bg bash -c "(echo hello; sleep 30) | sse serve -p $port 2>/dev/null"
	wait "$lsnpid"
	t1=$(date +%s.%N)
	[ "$(cat "$T/out")" = hello ]
	ge 2.5 "$(awk "BEGIN { print $t1 - $t0 }")"
	grep -q 'retrying in 0.1 s' "$T/err"
	grep -q 'retrying in 0.2 s' "$T/err"
	grep -q 'retrying in 0.4 s' "$T/err"
}

@test "13: -v: a stream's events come before the line that says it ended" {
	serve <<'EOF'
send "data: a\n\ndata: b\n\n"
EOF
	lsn -v --retry-delay 0.1 -n 3 -f data "$URL" >"$T/all" 2>&1
	grep -v '^[<>]' "$T/all" >"$T/lines"
	[ "$(grep -n '^b$' "$T/lines" | head -1 | cut -d: -f1)" -lt \
		"$(grep -n 'stream ended' "$T/lines" | head -1 | cut -d: -f1)" ] || fail "$(cat "$T/lines")"
}

@test "21: a non-UTF-8 charset is named as the reason" {
	serve <<'EOF'
header Content-Type: text/event-stream; charset=iso-8859-1
send "data: a\n\n"
EOF
	lsn_fails 4 "(HTTP status 200): a charset other than utf-8" "$URL"
}

@test "23, 32: messages name the right option, say 'cannot connect' only when no connection was made" {
	printf '\377' >"$T/st"
	lsn_fails 1 "--state: '$T/st' does not hold an event ID: not valid UTF-8" --state "$T/st" http://127.0.0.1:1/
	lsn_fails 2 "a path has no empty member names" -f '.a..b' http://127.0.0.1:1/
	lsn_fails 2 "a path has no empty member names" -f '{data.a.}' http://127.0.0.1:1/
	serve <<'EOF'
status 302 Found
header Location: /again
EOF
	run --separate-stderr lsn "$URL"
	assert_failure 4
	[[ $stderr == *"redirects"* && $stderr != *"cannot connect"* ]] || fail "$stderr"
	serve <<'EOF'
send "data: a\n\n"
hang 10
EOF
	lsn_fails 1 "--output: cannot write '/dev/full'" -o /dev/full "$URL"
}

@test "19: --oauth2-bearer @FILE and SSE_BEARER keep the token off the command line" {
	serve <<'EOF'
send "data: a\n\n"
EOF
	printf 'filetok\n' >"$T/tok"
	lsn_prints a --no-reconnect -f data --oauth2-bearer "@$T/tok" "$URL"
	[ "$(hdr 1 Authorization)" = 'Bearer filetok' ]
	serve <<'EOF'
send "data: a\n\n"
EOF
	SSE_BEARER=envtok lsn_prints a --no-reconnect -f data "$URL"
	[ "$(hdr 1 Authorization)" = 'Bearer envtok' ]
	lsn_fails 2 "--oauth2-bearer: cannot read '$T/nope'" --oauth2-bearer "@$T/nope" "$URL"
}

@test "32: --retry-on-http-error with a request body says that it needs --reconnect" {
	serve <<'EOF2'
status 503 Busy
EOF2
	run --separate-stderr lsn --retry-on-http-error --json '{}' "$URL"
	assert_failure 4
	[[ $stderr == *"--retry-on-http-error: a request with a body is sent once; --reconnect sends it again"* ]] || fail "$stderr"
	run --separate-stderr lsn -q --retry-on-http-error --json '{}' "$URL"
	[[ $stderr != *"--reconnect sends"* ]] || fail "$stderr"
}

@test "19: -vv never shows an API key header either (X-Api-Key, X-Auth-Token)" {
	serve <<'EOF2'
send "data: x\n\n"
EOF2
	run --separate-stderr lsn -vv --no-reconnect -f data -H 'X-Api-Key: KEY1' \
		-H 'X-Auth-Token: KEY2' -H 'X-Plain: shown' "${URL}keys:1"
	assert_success
	[[ $stderr == *"X-Api-Key: <redacted>"* && $stderr == *"X-Auth-Token: <redacted>"* ]] || fail "$stderr"
	[[ $stderr == *"X-Plain: shown"* && $stderr == *"GET /keys:1 HTTP"* ]] || fail "$stderr"
	[[ $stderr != *KEY1* && $stderr != *KEY2* ]] || fail "a secret shown: $stderr"
	[ "$(hdr 1 X-Api-Key)" = KEY1 ]
}
