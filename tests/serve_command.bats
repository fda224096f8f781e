#!/usr/bin/env bats
# sse serve -- CMD: the command's stdout as the input, its stderr lines as
# events, its exit as an event, restarts, and its stop. Every server is
# stopped by PID in teardown; the commands print their own PID where a test
# checks that they are gone.

setup() {
	load helper
	load serve_helper
	serve_setup
}

# serve_cmd ARGS...: start `sse serve -p 0 ARGS` (stdin /dev/null); sets
# SRV, PORT and URL.
serve_cmd() {
	: >"$ERR"
	sse serve -p 0 "$@" </dev/null 2>"$ERR" &
	served $!
}

# gone PID: wait (bounded) until PID is no more (a zombie counts as gone).
gone() {
	local tries=100
	while kill -0 "$1" 2>/dev/null &&
		! grep -q '^State:.*zombie' "/proc/$1/status" 2>/dev/null; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.05
	done
}

# cmd_pids: the pids the command printed as its first event's data.
cmd_pids() {
	until_has /events '^data: [0-9]'
	get /events | sed -n 's/^data: \([0-9 ]*\)$/\1/p' | head -1
}

# term_all_gone PID...: SIGTERM to sse, which exits 0, and every PID is gone.
term_all_gone() {
	local pid
	kill -TERM "$SRV"
	wait_exit "$SRV"
	[ "$WAITED" -eq 0 ]
	for pid in "$@"; do gone "$pid"; done
}

@test "serve -- CMD: its stdout lines are events, its exit the last one" {
	serve_cmd --exit-on-eof -- sh -c 'sleep 0.5; printf "one\ntwo\nno end"'
	bg_get "$BATS_TEST_TMPDIR/a" /events
	wait_exit "$SRV"
	[ "$WAITED" -eq 0 ]
	run cat "$BATS_TEST_TMPDIR/a"
	assert_output --regexp "^$(printf 'id: %s-1\ndata: one\n\nid: %s-2\ndata: two\n\nid: %s-3\ndata: no end\n\nevent: exit\nid: %s-4\ndata: [{]"pid":[0-9]+,"status":0[}]' "$E" "$E" "$E" "$E")\$"
}

@test "serve -- CMD: a Python program that block-buffers into a pipe arrives line by line" {
	serve_cmd -- python3 -c 'import time
print("one")
time.sleep(2)
print("two")'
	bg_get "$BATS_TEST_TMPDIR/a" /events
	wait_file "$BATS_TEST_TMPDIR/a" '^data: one$'
	run grep -c '^data: two' "$BATS_TEST_TMPDIR/a"
	assert_output 0
	wait_file "$BATS_TEST_TMPDIR/a" '^data: two$'
}

@test "serve -- CMD: a Node program and a C stdio program too" {
	command -v node >/dev/null || skip "no node"
	serve_cmd -- node -e 'console.log("one"); setTimeout(() => console.log("two"), 2000)'
	bg_get "$BATS_TEST_TMPDIR/a" /events
	wait_file "$BATS_TEST_TMPDIR/a" '^data: one$'
	run grep -c '^data: two' "$BATS_TEST_TMPDIR/a"
	assert_output 0
	wait_file "$BATS_TEST_TMPDIR/a" '^data: two$'
	stop_bg
	serve_cmd -- sh -c '{ echo one; sleep 2; echo two; } | sed s/x/y/'
	bg_get "$BATS_TEST_TMPDIR/b" /events
	wait_file "$BATS_TEST_TMPDIR/b" '^data: one$'
	run grep -c '^data: two' "$BATS_TEST_TMPDIR/b"
	assert_output 0
}

@test "serve -- CMD: stdout is a terminal, lines end in LF, not CRLF" {
	serve_cmd -- sh -c 'test -t 1 && echo tty; printf "a\r\n"'
	until_has /events '"status":0'
	# (the line ends at LF: with a CR before it, it would not match)
	[ "$(get /events | grep -c '^data: tty$')" = 1 ]
	run sh -c "curl -s --max-time 1 http://127.0.0.1:$PORT/events | grep -c \$'\\r'"
	assert_output 0
}

@test "serve -- CMD: stderr lines are events of type stderr (or merged, or dropped)" {
	serve_cmd -- sh -c 'echo out; echo err >&2; sleep 0.2; exit 2'
	until_has /events '"status":2'
	run get /events
	assert_line 'data: out'
	assert_line --index 2 'event: stderr'
	assert_line 'data: err'
	stop_bg

	serve_cmd --stderr merge -- sh -c 'echo err >&2'
	until_has /events '"status":0'
	run get /events
	assert_line 'data: err'
	refute_line 'event: stderr'
	stop_bg

	serve_cmd --stderr drop -- sh -c 'echo err >&2; echo out'
	until_has /events '"status":0'
	run get /events
	refute_line 'data: err'
	assert_line 'data: out'
}

@test "serve -- CMD: a command killed by a signal says which" {
	serve_cmd -- sh -c 'kill -USR1 $$'
	until_has /events 'event: exit'
	run get /events
	assert_line --regexp '^data: \{"pid":[0-9]+,"signal":10,"name":"SIGUSR1"\}$'
}

@test "serve -- CMD: --restart on-failure starts it again with backoff, ids go on" {
	serve_cmd --restart on-failure --restart-delay 0.05 -- sh -c 'echo run; exit 1'
	until_has /events '"restart_in_ms":200'
	run get /events
	assert_line --index 0 "id: $E-1"
	assert_line --index 1 'data: run'
	assert_line --regexp '^data: \{"pid":[0-9]+,"status":1,"restart_in_ms":50\}$'
	assert_line --regexp '^data: \{"pid":[0-9]+,"status":1,"restart_in_ms":100\}$'
	assert_line "id: $E-3"
	assert_line "id: $E-4"
	[ "$(grep -c '^data: run$' <<<"$output")" -ge 3 ]
}

@test "serve -- CMD: on-failure stops after exit 0; always does not; never runs once" {
	serve_cmd --exit-on-eof --restart on-failure --restart-delay 0.05 -- echo hi
	wait_exit "$SRV"
	[ "$WAITED" -eq 0 ]

	serve_cmd --restart always --restart-delay 0.05 -- echo hi
	until_has /events '"restart_in_ms":100'

	serve_cmd --exit-on-eof --end-event done -- sh -c 'echo hi; exit 1'
	wait_exit "$SRV"
	[ "$WAITED" -eq 0 ]
}

@test "serve -- CMD: --end-event once the command has ended for good" {
	serve_cmd --end-event done -- echo hi
	until_has /events 'event: done'
	run get /events
	assert_line --index 2 'event: exit'
	assert_line --index 5 'event: done'
}

@test "serve -- CMD: --input json reads the command's stdout as JSON lines" {
	serve_cmd --input json -- echo '{"event":"tick","data":{"n":1}}'
	until_has /events 'event: exit'
	run get /events
	assert_line --index 0 'event: tick'
	assert_line --index 2 'data: {"n":1}'
}

@test "serve -- CMD: SIGTERM to sse stops the command by SIGTERM" {
	serve_cmd -- sh -c 'echo $$; exec sleep 60'
	local pid
	pid=$(cmd_pids)
	kill -0 "$pid"
	term_all_gone "$pid"
}

@test "serve -- CMD: a command that ignores SIGTERM gets SIGKILL after --kill-after, its children too" {
	serve_cmd --kill-after 0.3 -- sh -c 'trap "" TERM; sleep 60 & echo $$ $!; wait'
	local pids
	pids=$(cmd_pids)
	# shellcheck disable=SC2086 # two pids
	term_all_gone $pids
}

@test "serve -- CMD: what the command started and left behind, ignoring SIGTERM and SIGHUP, gets SIGKILL after --kill-after too" {
	# sh exits at SIGTERM; its child ignores TERM and HUP and stays in the
	# group: the wrapper case (sh -c, npm start, make)
	serve_cmd --kill-after 1 -- sh -c 'sh -c "trap \"\" TERM HUP; echo \$\$; while :; do sleep 0.1; done"; echo done'
	local pid
	pid=$(cmd_pids)
	kill -0 "$pid"
	term_all_gone "$pid"
}

@test "serve -- CMD: sse killed by SIGKILL takes the command with it" {
	serve_cmd -- sh -c 'echo $$; exec sleep 60'
	until_has /events '^data: [0-9]'
	local pid
	pid=$(get /events | sed -n 's/^data: \([0-9]*\)$/\1/p')
	kill -KILL "$SRV"
	gone "$pid"
}

@test "serve -- CMD: a command that cannot be run is an error, exit 1" {
	run sse serve -p 0 -- sse-no-such-command
	[ "$status" -eq 1 ]
	assert_line "sse: serve: cannot run 'sse-no-such-command': No such file or directory"
}

@test "serve: the command options need a command" {
	run sse serve -p 0 --restart always </dev/null
	[ "$status" -eq 2 ]
	assert_line --partial 'sse: serve: --stderr, --restart, --restart-delay and --kill-after need a command'
	run sse serve -p 0 --restart sometimes -- true
	[ "$status" -eq 2 ]
	assert_line --partial "invalid value 'sometimes'"
	run sse serve -p 0 --stderr both -- true
	[ "$status" -eq 2 ]
}

@test "serve: a command goes after --, nowhere else" {
	run sse serve -p 0 echo hi </dev/null
	[ "$status" -eq 2 ]
	assert_line --partial "unexpected argument 'echo' (a command goes after '--'"
	run sse serve -p 0 echo -- hi </dev/null
	[ "$status" -eq 2 ]
}
