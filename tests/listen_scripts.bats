#!/usr/bin/env bats
# sse listen for scripts, CI and language model APIs: a request with a body
# is sent once, the error body is shown, conditions on data, JSON members in
# templates, a dead URL fails at once, curl's names.
#
# Against real HTTP servers on 127.0.0.1 (tests/sse_server.py, scripted:
# see tests/listen_helper.bash).

setup() {
	load helper
	load listen_helper
}

# An OpenAI-style chat completions stream: text deltas, then [DONE], then
# the connection closes.
llm_stream() {
	serve <<'EOF'
send 'data: {"choices":[{"delta":{"role":"assistant"}}]}\n\n'
send 'data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n'
send 'data: {"choices":[{"delta":{"content":"lo, caf\\u00e9\\n"}}]}\n\n'
send 'data: {"choices":[{"delta":{}, "finish_reason":"stop"}]}\n\n'
send 'data: [DONE]\n\n'
EOF
}

@test "body: a request with a body is sent once, not again when the stream ends (unless --reconnect)" {
	llm_stream
	run --separate-stderr lsn -f data --json '{"stream": true}' "$URL"
	assert_success
	[ "$(nreq)" = 1 ]
	[ "$(req 1 'r["method"]')" = POST ]
	llm_stream
	run --separate-stderr lsn -f data -d 'a=1' --until notatype --timeout 2 "$URL"
	assert_success
	[ "$(nreq)" = 1 ]
	# --reconnect sends it again, as a GET would be
	llm_stream
	run --separate-stderr lsn -f data -n 7 --reconnect --retry-delay 0.05 --json '{}' "$URL"
	assert_success
	[ "$(nreq)" = 2 ]
	[ "$(req 2 'r["body"]')" = '{}' ]
	run --separate-stderr sse listen --reconnect --no-reconnect http://127.0.0.1:9/
	assert_failure 2
}

@test "body: a request with a body that fails is not retried either (exit 3)" {
	serve <<'EOF'
send "data: one\n\n"
drop
EOF
	lsn_fails 3 "connection to '$URL' lost" -f data --json '{}' "$URL"
	[ "$(nreq)" = 1 ]
}

@test "error: a refused answer shows the start of its body under the message, control bytes escaped; -v shows more" {
	serve <<'EOF'
status 401 Unauthorized
header Content-Type: application/json
send '{"error": {"message": "Incorrect API key"}}\n\x1b[2Jmore\n'
EOF
	run --separate-stderr lsn "$URL"
	assert_failure 4
	[[ $stderr == *"answered HTTP status 401 (content type 'application/json'), not 200"* ]] || fail "$stderr"
	[[ $stderr == *'  {"error": {"message": "Incorrect API key"}}'* ]] || fail "$stderr"
	[[ $stderr == *'  \x1B[2Jmore'* ]] || fail "$stderr"
	# 1 KB by default, 64 KB with -v
	serve <<'EOF'
status 500 Oops
header Content-Type: text/plain
send "x" * 3000 + "\nthe end\n"
EOF
	run --separate-stderr lsn "$URL"
	assert_failure 4
	[[ $stderr != *"the end"* ]] || fail "$stderr"
	[[ $stderr == *"  ..."* ]] || fail "$stderr"
	run --separate-stderr lsn -v "$URL"
	assert_failure 4
	[[ $stderr == *"  the end"* ]] || fail "$stderr"
	# a wrong content type with status 200 too
	serve <<'EOF'
header Content-Type: text/html
send "<h1>maintenance</h1>\n"
EOF
	lsn_fails 4 "  <h1>maintenance</h1>" "$URL"
}

@test "error: a refused answer whose body never comes is not waited for long" {
	serve <<'EOF'
status 403 Forbidden
header Content-Type: text/plain
send "no"
hang 30
EOF
	local t0=$SECONDS
	lsn_fails 4 "  no" "$URL"
	[ $((SECONDS - t0)) -lt 6 ]
}

@test "dead URL: the first connection that cannot be made exits 3 at once, as curl does; --retry-connect waits" {
	local port t0
	port=$(free_port)
	t0=$SECONDS
	lsn_fails 3 "cannot connect to 'http://127.0.0.1:$port/'" "http://127.0.0.1:$port/"
	[[ $stderr != *retrying* ]] || fail "$stderr"
	[ $((SECONDS - t0)) -lt 3 ]
	# --retry-connect: retries, then gives up when its time is over
	t0=$SECONDS
	lsn_fails 3 "(--retry-connect)" --retry-connect 1 --retry-delay 0.1 "http://127.0.0.1:$port/"
	[[ $stderr == *retrying* ]] || fail "$stderr"
	[ $((SECONDS - t0)) -lt 4 ]
	# ... and connects to a server that comes up meanwhile
	start_bg bash -c "sleep 1; exec python3 -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((\"127.0.0.1\", $port))
s.listen(1)
c, _ = s.accept()
c.recv(65536)
c.sendall(b\"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: up\n\n\")
c.close()'"
	lsn_prints up --retry-connect 10 --retry-delay 0.1 --no-reconnect -f data "http://127.0.0.1:$port/"
}

@test "match: --match prints only events whose data matches (with -e: both); --until-match and --until-data end the output" {
	serve <<'EOF'
send 'data: {"ok": false, "n": 1}\n\n'
send 'event: log\ndata: {"ok": false, "n": 2}\n\n'
send 'data: line one\ndata: ready\n\n'
send 'data: {"ok": true, "n": 3}\n\n'
send 'data: [DONE]\n\n'
send 'data: after\n\n'
EOF
	lsn_prints $'{"ok": false, "n": 1}\n{"ok": true, "n": 3}' -f data --match '"ok"' -e message --no-reconnect "$URL"
	# ^ and $ hold at the ends of each line of the data
	lsn_prints $'line one\nready' -f data --match '^ready$' --no-reconnect "$URL"
	lsn_prints $'{"ok": false, "n": 1}\n{"ok": false, "n": 2}\nline one\nready\n{"ok": true, "n": 3}' \
		-f data --until-match '"ok": *true' "$URL"
	# --until-match looks at events --match does not print
	lsn_prints '{"ok": false, "n": 1}' -f data --match 'n": 1' --until-match 'n": 2' "$URL"
	lsn_prints $'{"ok": true, "n": 3}' -f data --match true --until-data '[DONE]' "$URL"
	# -n counts printed events
	lsn_prints $'{"ok": false, "n": 1}\n{"ok": false, "n": 2}' -f data --match '"ok"' -n 2 "$URL"
	run --separate-stderr sse listen --match '(' "$URL"
	assert_failure 2
	[[ $stderr == *"--match: invalid value '('"* ]] || fail "$stderr"
}

@test "match: a condition that never comes is bounded by --timeout (exit 5)" {
	serve <<'EOF'
send 'data: waiting\n\n'
hang 30
EOF
	lsn_fails 5 "timed out" -f data --until-match ready --timeout 0.5 "$URL"
	assert_output waiting
}

@test "json: {data.PATH} prints a member of JSON data: strings as text, escapes decoded, others as compact JSON, nothing when absent" {
	llm_stream
	run --separate-stderr lsn -f '{data.choices.0.delta.content}' --until-data '[DONE]' "$URL"
	assert_success
	assert_output $'Hello, caf\u00e9'
	serve <<'EOF'
send 'data: {"a": {"b": [1, {"c": "x"}]}, "s": "t\\"q"}\n\n'
send 'data: not json\n\n'
send 'data: [10, 20]\n\n'
EOF
	lsn_prints $'<{"b":[1,{"c":"x"}]}|x|t"q||>\n<||||>\n<||||20>' \
		-f '<{data.a}|{data.a.b.1.c}|{data.s}|{data.nope}|{data.1}>\n' --no-reconnect "$URL"
	# .PATH: one line per event
	lsn "$URL" -f .a.b --no-reconnect >"$T/out"
	[ "$(cat "$T/out")" = '[1,{"c":"x"}]' ] && [ "$(wc -l <"$T/out")" = 3 ]
	run --separate-stderr sse listen -f '{data}' -f '.a{b}' "$URL"
	assert_failure 2
}

@test "examples: sse-listen(1)'s language model example, as written, against a local stream" {
	local cmd
	llm_stream
	cmd=$(mandoc -Tascii "$ROOT_DIR/man/sse-listen.1" | col -b |
		awk '/Stream the reply of a language model/ {on=1; next} on && /\$ sse listen/ {p=1} p {print} p && /completions/ {exit}')
	[[ $cmd == *"sse listen"* ]] || fail "example not found"
	cmd=${cmd//https:\/\/api.example.com\/v1\/chat\/completions/$URL}
	cmd=${cmd#*$ }
	API_KEY=k run --separate-stderr timeout 20 bash -c "$cmd"
	assert_success
	assert_output $'Hello, caf\u00e9'
	[ "$(nreq)" = 1 ]
	[ "$(hdr 1 authorization)" = "Bearer k" ]
}

@test "curl names: -N and -L are accepted, -s is --quiet, -m is --timeout (units too), -o writes a file, -i prints the head" {
	serve <<'EOF2'
header X-Test: yes
send "data: one\n\n"
hang 5
EOF2
	run --separate-stderr lsn -N -L -s -m 500ms -o "$T/out" -f data "$URL"
	assert_failure 5
	[ "$(cat "$T/out")" = one ]
	[ -z "$output" ]
	serve <<'EOF2'
header X-Test: yes
send "data: one\n\n"
EOF2
	run --separate-stderr lsn -i -f data --no-reconnect "$URL"
	assert_success
	assert_line --index 0 --regexp $'^HTTP/1.1 200 OK\r$'
	assert_line $'X-Test: yes\r'
	assert_line one
	# a mistyped long option gets a suggestion, in every command
	run --separate-stderr sse listen --formt json "$URL"
	assert_failure 2
	[[ $stderr == *"did you mean '--format'"* ]] || fail "$stderr"
	run --separate-stderr sse replay --no-dealy x
	assert_failure 2
	[[ $stderr == *"did you mean '--no-delay'"* ]] || fail "$stderr"
}

@test "until: --until TYPE fires on a block of that type with no data (the Flask tutorial's done), which -v reports as dropped" {
	serve <<'EOF2'
send "id: 1\ndata: one\n\nid: 11\nevent: done\n\n"
hang 10
EOF2
	run --separate-stderr lsn -v -f data --until done "$URL"
	assert_success
	assert_output one
	[[ $stderr == *"* dropped a block with no data (event: done), last event ID '11'"* ]] || fail "$stderr"
	# without --until: dropped, as EventSource drops it
	run --separate-stderr lsn -f data --timeout 0.5 "$URL"
	assert_failure 5
	assert_output one
}

@test "state: --state FILE starts from the ID it holds and keeps the last event ID there, written whole" {
	serve <<'EOF2'
send "id: 1\ndata: one\n\nid: 2\ndata: two\n\nid: 3\nevent: done\n\n"
EOF2
	lsn_prints $'one\ntwo' -f data --until done --state "$T/state" "$URL"
	[ "$(cat "$T/state")" = 3 ]
	[ "$(hdr 1 Last-Event-ID)" = '<none>' ]
	ls "$T" | grep -qv 'state\..*tmp' || true
	[ -z "$(find "$T" -name 'state.*.tmp')" ]
	serve <<'EOF2'
send "id: 4\ndata: four\n\n"
EOF2
	lsn_prints four -f data --no-reconnect --state "$T/state" "$URL"
	[ "$(hdr 1 Last-Event-ID)" = 3 ]
	[ "$(cat "$T/state")" = 4 ]
	# an unwritable place is an error that ends listen
	lsn_fails 1 "--state: cannot write" -f data --no-reconnect --state "$T/nodir/state" "$URL"
}

@test "exec: --exec CMD runs for each printed event, in order, data on stdin and fields in the environment; --exec-stop" {
	serve <<'EOF2'
send "id: 7\nevent: a\ndata: x\ndata: y\n\nevent: b\ndata: skip\n\nevent: a\ndata: z\n\n"
EOF2
	run --separate-stderr lsn -e a -f '{data}|\n' --no-reconnect \
		--exec 'printf "<%s %s %s>" "$SSE_EVENT" "$SSE_ID" "$SSE_DATA"; tr "\n" + ; echo' "$URL"
	assert_success
	assert_output $'x\ny|\n<a 7 x\ny>x+y\nz|\n<a 7 z>z'
	# a failing command: a warning, then on; with --exec-stop, exit 1
	run --separate-stderr lsn -f data --no-reconnect --exec 'exit 3' "$URL"
	assert_success
	[[ $stderr == *"--exec: 'exit 3' exited 3"* ]] || fail "$stderr"
	lsn_fails 1 "--exec: 'exit 3' exited 3" -f data --no-reconnect --exec 'exit 3' --exec-stop "$URL"
	assert_output $'x\ny'
}

@test "comments: --comments prints comment lines in raw, json and pretty" {
	serve <<'EOF2'
send ": keep\ndata: one\n\n"
EOF2
	lsn_prints $': keep\ndata: one' -f raw --comments --no-reconnect "$URL"
	lsn_json $'{"comment":" keep"}\n{"event":"message","data":"one","id":""}' -f json --comments --no-reconnect "$URL"
	lsn_prints one -f data --comments --no-reconnect "$URL"
}

@test "terminal: --color always|never, FORCE_COLOR; pretty indents JSON data and colours each event type its own way" {
	serve <<'EOF2'
send 'event: tick\ndata: {"a": [1, true], "s": "x"}\n\ndata: {"a": 1}\n\ndata: not {json\n\n'
EOF2
	run --separate-stderr lsn -f pretty --no-reconnect "$URL"
	assert_success
	[[ $output != *$'\e['* ]] || fail "colour with NO_COLOR: $output"
	assert_line --index 1 '  {'
	assert_line --index 2 '    "a": ['
	assert_line --index 3 '      1,'
	assert_line --index 5 '    ],'
	assert_line --index 6 '    "s": "x"'
	assert_line --index 7 '  }'
	assert_line '  not {json'
	run --separate-stderr lsn -f pretty --color always --no-reconnect "$URL"
	assert_success
	[[ $output == *$'\e[32m"x"\e[0m'* ]] || fail "no string colour: $output"
	# tick and message in colours of their own
	[[ $output == *$'\e[1;36mmessage'* ]] || fail "$output"
	[[ $output != *$'\e[1;36mtick'* ]] || fail "$output"
	FORCE_COLOR=1 run --separate-stderr lsn -f pretty --no-reconnect "$URL"
	[[ $output == *$'\e['* ]] || fail "FORCE_COLOR: no colour"
	FORCE_COLOR=1 run --separate-stderr lsn -f pretty --color never --no-reconnect "$URL"
	[[ $output != *$'\e['* ]] || fail "--color never: colour"
	run --separate-stderr sse listen --color maybe "$URL"
	assert_failure 2
	[[ $stderr == *"--color: invalid value 'maybe': not auto, always or never"* ]] || fail "$stderr"
}

@test "terminal: a status line on stderr when connected and when connected again (not with -q or -v)" {
	reconnects 'send "retry: 10\ndata: one\n\n"'
	run script -qec "timeout -k 5 20 sse listen -f data -n 2 '$URL'" /dev/null
	assert_success
	assert_output --partial "connected to $URL"
	assert_output --partial "reconnected to $URL"
	reconnects 'send "retry: 10\ndata: one\n\n"'
	run script -qec "timeout -k 5 20 sse listen -q -f data -n 2 '$URL'" /dev/null
	refute_output --partial "connected to"
	# not on a pipe
	reconnects 'send "retry: 10\ndata: one\n\n"'
	run --separate-stderr lsn -f data -n 2 "$URL"
	[[ $stderr != *connected* ]] || fail "$stderr"
}

@test "expect: --expect FILE exits 0 once its events have come, 9 with a diff at one that differs or when some are missing" {
	printf 'id: 1\ndata: one\n\nevent: t\ndata: two\n\n' >"$T/want.sse"
	serve <<'EOF2'
send "id: 1\ndata: one\n\nevent: t\ndata: two\n\ndata: more\n\n"
hang 10
EOF2
	run --separate-stderr lsn -f data --expect "$T/want.sse" "$URL"
	assert_success
	assert_output $'one\ntwo'
	# a recording works as well: timing is ignored
	lsn --record "$T/rec.jsonl" -n 2 -f data "$URL" >/dev/null
	run --separate-stderr lsn -f data --expect "$T/rec.jsonl" "$URL"
	assert_success
	# a difference: exit 9, both sides shown
	printf 'id: 1\ndata: one\n\nevent: t\ndata: zwei\n\n' >"$T/want.sse"
	run --separate-stderr lsn -f data --expect "$T/want.sse" "$URL"
	assert_failure 9
	[[ $stderr == *"--expect: event 2 differs from '$T/want.sse' (- expected, + received)"* ]] || fail "$stderr"
	[[ $stderr == *"  - data:  zwei"* ]] || fail "$stderr"
	[[ $stderr == *"  + data:  two"* ]] || fail "$stderr"
	[[ $stderr == *"  + id:    1"* ]] || fail "$stderr"
	# events missing when the stream stops (or --timeout): exit 9
	printf 'data: one\n\ndata: two\n\ndata: three\n\n' >"$T/want.sse"
	serve <<'EOF2'
send "data: one\n\ndata: two\n\n"
EOF2
	lsn_fails 9 "--expect: 2 of the 3 events of '$T/want.sse' came" -f data --no-reconnect --expect "$T/want.sse" "$URL"
	lsn_fails 1 "cannot read" --expect "$T/nope" "$URL"
}

# readme_cmd START END: the command of README's tour from the line that
# starts with START to the one that contains END.
readme_cmd() {
	awk -v s="$1" -v e="$2" 'index($0, s) == 1 {p=1} p {print} p && index($0, e) {exit}' \
		"$ROOT_DIR/README.md"
}

@test "examples: README's CI and LLM examples, as written, against local streams" {
	local cmd
	# wait for a condition in CI
	serve <<'EOF2'
send 'data: {"ready": false}\n\n'
send 'data: {"ready": true}\n\n'
hang 10
EOF2
	cmd=$(readme_cmd "sse listen --until-match" "events")
	[ -n "$cmd" ] || fail "not in README"
	cmd=${cmd//https:\/\/ci.example\/deploy\/42\/events/$URL}
	run --separate-stderr timeout 20 bash -c "$cmd"
	assert_success
	assert_output $'{"ready": false}\n{"ready": true}'
	# the golden test
	printf 'data: {"ready": false}\n\ndata: {"ready": true}\n\n' >"$T/golden.sse"
	serve <<'EOF2'
send 'data: {"ready": false}\n\n'
send 'data: {"ready": true}\n\n'
EOF2
	cmd=$(readme_cmd "sse listen --expect" "events")
	cmd=${cmd//https:\/\/ci.example\/build\/42\/events/$URL}
	(cd "$T" && timeout 40 bash -c "$cmd" >/dev/null)
	# the LLM stream, sent once
	llm_stream
	cmd=$(readme_cmd "sse listen --oauth2-bearer" "completions")
	cmd=${cmd//https:\/\/api.example\/v1\/chat\/completions/$URL}
	API_KEY=k run --separate-stderr timeout 20 bash -c "$cmd"
	assert_success
	assert_output $'Hello, caf\u00e9'
	[ "$(nreq)" = 1 ]
	# --state and --exec
	serve <<'EOF2'
send 'id: 5\nevent: note\ndata: hi\n\n'
EOF2
	cmd=$(readme_cmd "sse listen --state" "events")
	cmd=${cmd//https:\/\/example.com\/events/$URL --no-reconnect}
	mkdir -p "$T/bin"
	printf '#!/bin/sh\necho "notified: $1 $2" >>"%s/notes"\n' "$T" >"$T/bin/notify-send"
	chmod +x "$T/bin/notify-send"
	(cd "$T" && PATH=$T/bin:$PATH timeout 20 bash -c "$cmd" >/dev/null)
	[ "$(cat "$T/notes")" = "notified: note hi" ]
	[ "$(cat "$T/last-id")" = 5 ]
}
