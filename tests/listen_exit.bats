#!/usr/bin/env bats
# sse listen, exit statuses, one test or more for each in sse-listen(1), EXIT STATUS,
# signals included.
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

@test "exit 0: --until met" {
	serve <<'EOF'
send "data: a\n\nevent: done\ndata: b\n\n"
hang 30
EOF
	lsn_prints $'a\nb' -f data --until done "$URL"
}

@test "exit 1: stdout cannot be written" {
	[ -w /dev/full ] || skip "no /dev/full"
	serve <<'EOF'
send "data: a\n\n"
hang 30
EOF
	run --separate-stderr bash -c 'timeout -k 5 20 sse listen -f data "$1" >/dev/full' _ "$URL"
	assert_failure 1
	[[ $stderr == *"cannot write to stdout"* ]]
}

@test "exit 1: stdout closed at start is an error said at once, and no event goes into a descriptor that took its number" {
	serve <<'EOF'
send "data: a\n\n"
hang 30
EOF
	run --separate-stderr bash -c 'timeout -k 5 20 sse listen -f data "$1" >&-' _ "$URL"
	assert_failure 1
	[ "$stderr" = "sse: listen: cannot write to stdout: Bad file descriptor" ]
	# stdin and stderr closed: the events still go to stdout, messages nowhere
	run --separate-stderr bash -c 'timeout -k 5 20 sse listen -n 1 -f data "$1" <&- 2>&-' _ "$URL"
	assert_success
	assert_output a
	[ -z "$stderr" ]
	run --separate-stderr bash -c 'timeout -k 5 20 sse listen --no-reconnect -d @- "$1" <&-' _ "$URL"
	assert_failure 2
	[[ $stderr == *"--data: cannot read '-': Bad file descriptor"* ]]
}

@test "exit 2: bad option values, no URL, a bad URL" {
	local args
	for args in "--timeout abc" "--idle-timeout -1" "--max-event-size 1X" \
		"--max-reconnects -2" "--retry-delay x" "--connect-timeout y" \
		"--max-redirs z" "--retry-max-delay q"; do
		# shellcheck disable=SC2086
		run --separate-stderr sse listen $args http://127.0.0.1:9/
		assert_failure 2
		[[ $stderr == "sse: listen: ${args%% *}: invalid value '${args#* }': "* ]] ||
			fail "$args: $stderr"
	done
	# decimal numbers only: not what strtod(3) or strtoll(3) also take
	for args in "--timeout|0x10|not a decimal number" "--timeout|1e3|not a decimal number" \
		"--idle-timeout|inf|unknown unit (use ms, s, m or h)" "--retry-delay| 5|not a decimal number" \
		"--max-reconnects|+5|not a whole number" "--max-redirs|0x5|not a whole number" \
		"--max-event-size| -5|not a size" "-n|0|too small"; do
		IFS='|' read -r opt val why <<<"$args"
		run --separate-stderr sse listen "$opt" "$val" http://127.0.0.1:9/
		assert_failure 2
		[ "$stderr" = "sse: listen: ${opt/#-n/--max-events}: invalid value '$val': $why" ] ||
			fail "$opt $val: $stderr"
	done
	run --separate-stderr sse listen
	assert_failure 2
	[[ $stderr == *"no URL given"* ]]
	run --separate-stderr sse listen a b
	assert_failure 2
	run --separate-stderr sse listen 'ftp://127.0.0.1/'
	assert_failure 2
	[[ $stderr == *"invalid URL 'ftp://127.0.0.1/'"* ]]
	run --separate-stderr sse listen --timeout
	assert_failure 2
	[[ $stderr == *"'--timeout' needs a value"* ]]
}

@test "exit 3: cannot connect, with --no-reconnect; an unknown host fails at once" {
	local port
	port=$(free_port)
	lsn_fails 3 "cannot connect to 'http://127.0.0.1:$port/'" --no-reconnect "http://127.0.0.1:$port/"
	lsn_fails 3 "cannot connect to 'http://sse-no-such-host.invalid/'" --connect-timeout 5 http://sse-no-such-host.invalid/
	[[ $stderr != *retrying* ]]
}

@test "exit 3: https:// to a port that never answers the TLS handshake (a plain HTTP server waiting for a head) gives up after the default connect timeout, 10 s" {
	local port t0 t1
	port=$(free_port)
	# accepts, reads, never answers, for 60 s (sse serve holds such a
	# connection for its 30 s head timeout)
	start_bg python3 -c 'import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
c, _ = s.accept()
c.recv(4096)
time.sleep(60)' "$port"
	wait_port "$port"
	t0=$(date +%s)
	run --separate-stderr timeout -k 5 25 sse listen "https://127.0.0.1:$port/events"
	t1=$(date +%s)
	assert_failure 3
	[[ $stderr == *"'https://127.0.0.1:$port/events'"* ]] || fail "stderr: $stderr"
	[ $((t1 - t0)) -ge 9 ] && [ $((t1 - t0)) -le 15 ] || fail "exit after $((t1 - t0)) s"
}

@test "exit 3: the connection is lost mid-stream, with --no-reconnect" {
	serve <<'EOF'
send "data: a\n\n"
drop
EOF
	run --separate-stderr lsn --no-reconnect -f data "$URL"
	assert_failure 3
	assert_output a
	[[ $stderr == *"connection to '$URL' lost"* ]]
}

@test "exit 4: HTTP status refused" {
	serve <<'EOF'
status 401 Unauthorized
header Content-Type: application/json
EOF
	lsn_fails 4 "'$URL' answered HTTP status 401 (content type 'application/json'), not 200" "$URL"
}

@test "exit 5: --timeout" {
	serve <<'EOF'
send "data: a\n\n"
hang 30
EOF
	run --separate-stderr lsn -f data --timeout 0.5 "$URL"
	assert_failure 5
	assert_output a
	[[ $stderr == *"timed out after 0.5 s"* ]]
}

@test "exit 0: --timeout 0 and --idle-timeout 0 mean no limit, as curl's --max-time 0 does; a tiny value is not 0" {
	serve <<'EOF'
send "data: a\n\n"
sleep 0.5
send "data: b\n\n"
EOF
	lsn_prints $'a\nb' --no-reconnect -f data --timeout 0 --idle-timeout 0 "$URL"
	lsn_fails 5 "timed out after 0.001 s (--timeout)" --no-reconnect -f data --timeout 0.0001 "$URL"
}

@test "exit 5: --timeout also bounds the wait between reconnects" {
	local port
	port=$(free_port)
	local t0=$SECONDS
	run --separate-stderr lsn --retry-connect 60 --timeout 0.5 "http://127.0.0.1:$port/"
	assert_failure 5
	[ $((SECONDS - t0)) -lt 3 ]
}

@test "exit 6: --idle-timeout, counting comments as bytes (LD can set read timeout)" {
	serve <<'EOF'
send "data: a\n\n"
sleep 0.3
send ": keepalive\n"
sleep 0.3
send ": keepalive\n"
sleep 0.3
send "data: b\n\n"
hang 30
EOF
	run --separate-stderr lsn -f data --idle-timeout 0.6 "$URL"
	assert_failure 6
	assert_output $'a\nb'
	[[ $stderr == *"nothing received for 0.6 s"* ]]
}

@test "exit 5 and 6: --timeout and --idle-timeout hold while stdout's reader never reads" {
	serve <<'EOF'
send "data: " + "x" * 8000 + "\n\n"
hang 30
EOF
	mkfifo "$T/fifo"
	stalled_reader "$T/fifo" "$T/out"
	local t0=$SECONDS reader=$BG_PID
	lsn_exits 5 "$T/fifo" -f data --timeout 1 "$URL"
	[ $((SECONDS - t0)) -lt 8 ]
	grep -q "timed out after 1 s (--timeout)" "$T/err"
	# Gone for good before the next writer opens the fifo: a dying reader
	# could still take that open and then leave it with EPIPE (exit 0).
	kill "$reader"
	wait "$reader" 2>/dev/null || true

	# nothing more comes and nothing waits unread: the server is idle
	stalled_reader "$T/fifo" "$T/out"
	t0=$SECONDS
	lsn_exits 6 "$T/fifo" -f data --idle-timeout 1 "$URL"
	[ $((SECONDS - t0)) -lt 8 ]
	grep -q "nothing received for 1 s (--idle-timeout)" "$T/err"
}

@test "exit 0: --idle-timeout does not fire while stdout's reader is slow and the server has sent more" {
	serve <<'EOF'
repeat 20000 "data: {i} 0123456789012345678901234567890123456789\n\n"
EOF
	mkfifo "$T/fifo"
	stalled_reader "$T/fifo" "$T/out" 2
	local pid=$BG_PID
	lsn_exits 0 "$T/fifo" --no-reconnect -f data --idle-timeout 0.5 "$URL"
	wait "$pid"
	[ "$(wc -l <"$T/out")" -eq 20000 ]
	[ "$(tail -1 "$T/out" | cut -d' ' -f1)" = 19999 ]
}

@test "exit 7: an event larger than --max-event-size, with a message naming the limit" {
	serve <<'EOF'
send "data: small\n\n"
send "data: " + "x" * 2000 + "\n\n"
hang 30
EOF
	run --separate-stderr lsn -f data --max-event-size 1K "$URL"
	assert_failure 7
	assert_output small
	[[ $stderr == *"larger than --max-event-size (1024 bytes)"* ]]
	# exactly at the limit and one past it, in the raw format, in one chunk
	serve <<'EOF'
send "data: small\n\n" + "data: " + "x" * 1024 + "\n\n" + "data: " + "y" * 1025 + "\n\ndata: z\n\n"
hang 30
EOF
	lsn --max-event-size 1K "$URL" >"$T/out" 2>"$T/err" && fail "exit 0" || [ $? = 7 ] || fail "exit $?"
	[ "$(cat "$T/out")" = "$(printf 'data: small\n\ndata: %s\n' "$(printf 'x%.0s' $(seq 1024))")" ] ||
		fail "$(head -c 100 "$T/out")"
	grep -q 'larger than --max-event-size (1024 bytes)' "$T/err"
}

@test "exit 7: memory stays bounded on an endless line (default limit 1 MiB)" {
	serve <<'EOF'
send "data: "
repeat 64 "y" * 65536
hang 30
EOF
	lsn_fails 7 "--max-event-size (1048576 bytes)" -f data "$URL"
}

@test "exit 8: reconnects exhausted" {
	local port
	port=$(free_port)
	lsn_fails 8 "giving up after 1 reconnects" --retry-connect 60 --retry-delay 0.01 --max-reconnects 1 "http://127.0.0.1:$port/"
}

@test "exit 130 and 143: SIGINT and SIGTERM, with what was received on stdout" {
	local sig want
	for sig in INT TERM; do
		serve <<'EOF'
send "data: before\n\n"
hang 30
EOF
		bg_lsn "$T/out" -f data "$URL"
		wait_file "$T/out" before
		want=130
		[ "$sig" = INT ] || want=143
		killed_with "$sig" "$want"
		[ "$(cat "$T/out")" = before ]
	done
}

@test "exit 130: SIGINT during the wait between reconnects" {
	serve <<'EOF'
send "retry: 60000\ndata: one\n\n"
EOF
	bg_lsn "$T/out" -f data "$URL"
	wait_file "$T/out" one
	sleep 0.2
	killed_with INT 130
}

@test "exit 130: SIGINT ends the program even while stdout's reader has stalled" {
	serve <<'EOF'
repeat 20000 "data: 0123456789012345678901234567890123456789\n\n"
hang 30
EOF
	mkfifo "$T/fifo"
	start_bg bash -c 'exec sleep 30 <"$1"' _ "$T/fifo"
	bg_lsn "$T/fifo" -f data "$URL"
	sleep 1
	kill -0 "$LSN" # still there, blocked writing
	killed_with INT 130
}
