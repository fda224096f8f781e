#!/usr/bin/env bats
# sse replay: recordings and plain streams played to stdout and as a
# server, with their timing, pacing options and faults; sse listen --record.
#
# Timing checks measure offsets on the reading side (tests/stamp.py),
# relative to the first event, with a tolerance (TOL ms) that a loaded
# 2-core CI machine holds on events spaced 300 ms or more apart (the error
# is under 1 ms to stdout and under 10 ms through the server when the
# machine is quiet; with sanitizers and both cores busy, over 100 ms).

setup() {
	load helper
	TOL=${REPLAY_TOL:-200}
	# under the sanitizers every step is slower: twice the room
	[[ $SSE_BIN != */build-san/* ]] || TOL=${REPLAY_TOL:-400}
	T=$BATS_TEST_TMPDIR
	# Events whose data is their recorded offset: 0, 300, 700, 1000, ...
	rec "$T/timed.jsonl" 100:0 400:300:tick 800:700 1100:1000:tick
}

# rec FILE T:DATA[:TYPE]...: write a recording, each event with id = its
# position (1, 2, ...), after a header and an open marker.
rec() {
	local file=$1 e t d ty i=0
	shift
	{
		printf '{"format":"sse-recording","version":1,"url":"http://x/","start":"2026-01-01T00:00:00.000Z"}\n'
		printf '{"t":0,"open":200,"headers":["Content-Type: text/event-stream"]}\n'
		for e in "$@"; do
			IFS=: read -r t d ty <<<"$e"
			i=$((i + 1))
			printf '{"t":%s,"event":"%s","data":"%s","id":"%s"}\n' \
				"$t" "${ty:-message}" "$d" "$i"
		done
	} >"$file"
}

# check_offsets DIV < "MS<TAB>DATA" lines: each line arrived at
# (DATA - first DATA) / DIV ms after the first, within TOL.
check_offsets() {
	awk -F'\t' -v tol="$TOL" -v div="$1" '
		{ sub(/^data: /, "", $2) }
		NR == 1 { base = $2 }
		{ want = ($2 - base) / div; err = $1 - want; if (err < 0) err = -err
		  printf "event %s: at %.1f ms, want %.1f ms\n", $2, $1, want
		  if (err > tol) bad = 1 }
		END { exit bad }'
}

# serve_replay ARGS...: start sse replay --serve on a free port; sets URL.
serve_replay() {
	start_bg sse replay --serve -p 0 "$@" 2>"$T/server.err"
	wait_file "$T/server.err" 'serving http' || {
		cat "$T/server.err"
		return 1
	}
	URL=$(sed -n 's|^sse: serving \(http://[^ ]*/\).*|\1|p' "$T/server.err")events
}

# ---- stdout -------------------------------------------------------------

@test "replay: plays a recording's events in order with their timing" {
	run --separate-stderr tests/stamp.py sse replay -f data "$T/timed.jsonl"
	assert_success
	[ "${#lines[@]}" -eq 4 ]
	printf '%s\n' "${lines[@]}" | check_offsets 1
}

@test "replay: raw output is the stream as recorded" {
	run sse replay --no-delay -f raw "$T/timed.jsonl"
	assert_success
	assert_output "$(printf 'id: 1\ndata: 0\n\nevent: tick\nid: 2\ndata: 300\n\nid: 3\ndata: 700\n\nevent: tick\nid: 4\ndata: 1000')"
}

@test "replay: --speed 2 halves every pause" {
	run tests/stamp.py sse replay --speed 2 -f data "$T/timed.jsonl"
	assert_success
	printf '%s\n' "${lines[@]}" | check_offsets 2
}

@test "replay: --speed 0.5 doubles every pause" {
	rec "$T/short.jsonl" 0:0 300:300
	run tests/stamp.py sse replay --speed 0.5 -f data "$T/short.jsonl"
	assert_success
	printf '%s\n' "${lines[@]}" | check_offsets 0.5
}

@test "replay: --no-delay plays at once, whatever the recorded pauses" {
	rec "$T/slow.jsonl" 0:a 60000:b 120000:c
	run timeout 10 sse replay --no-delay -f data "$T/slow.jsonl"
	assert_success
	assert_output "$(printf 'a\nb\nc')"
}

@test "replay: --max-gap caps long pauses and keeps short ones" {
	# 0, 300, then 60 s later: capped to 0.5 s.
	rec "$T/gap.jsonl" 0:0 300:300 60300:800
	run timeout 10 tests/stamp.py sse replay --max-gap 0.5 -f data "$T/gap.jsonl"
	assert_success
	printf '%s\n' "${lines[@]}" | check_offsets 1
}

@test "replay: --rate paces a file without timing" {
	printf 'data: 0\n\ndata: 400\n\ndata: 800\n\n' >"$T/plain.sse"
	run tests/stamp.py sse replay --rate 2.5 -f data "$T/plain.sse"
	assert_success
	[ "${#lines[@]}" -eq 3 ]
	printf '%s\n' "${lines[@]}" | check_offsets 1
}

@test "replay: a plain text/event-stream file (as curl -N saves it)" {
	printf '\xef\xbb\xbf: comment\r\nretry: 100\r\nid: 7\r\nevent: add\r\ndata: {"a":1}\r\n\r\ndata: x\r\ndata: y\r\n\r\ndata: incomplete' >"$T/curl.sse"
	run sse replay -f json "$T/curl.sse"
	assert_success
	untime_output
	assert_output "$(printf '%s\n' '{"event":"add","data":"{\"a\":1}","id":"7"}' '{"event":"message","data":"x\ny","id":"7"}')"
	run sse replay -f raw - <"$T/curl.sse"
	assert_success
	assert_line 'retry: 100'
}

@test "replay: a recording is read from stdin with -" {
	run sse replay --no-delay -f data - <"$T/timed.jsonl"
	assert_success
	assert_output "$(printf '0\n300\n700\n1000')"
}

@test "replay: --loop=N plays N times, --loop alone forever" {
	run sse replay --no-delay --loop=3 -f data "$T/timed.jsonl"
	assert_success
	[ "${#lines[@]}" -eq 12 ]
	[ "${lines[4]}" = 0 ] && [ "${lines[11]}" = 1000 ]
	run timeout 10 sse replay --no-delay --loop -n 50 -f data "$T/timed.jsonl"
	assert_success
	[ "${#lines[@]}" -eq 50 ]
}

@test "replay: a loop starts over after the recording's last line" {
	# One loop lasts until the close marker at 1300 ms.
	rec "$T/l.jsonl" 0:0 300:300
	printf '{"t":600,"close":"eof"}\n' >>"$T/l.jsonl"
	run tests/stamp.py sse replay --loop=2 -f '{data}\n' "$T/l.jsonl"
	assert_success
	printf '0\t0\n300\t300\n600\t600\n900\t900\n' >"$T/want"
	paste <(cut -f1 <<<"$output") <(cut -f2 "$T/want") | check_offsets 1
}

@test "replay: --loop 3 FILE is caught with a hint" {
	run --separate-stderr sse replay --loop 3 "$T/timed.jsonl"
	assert_failure 2
	[[ $stderr == *"--loop=3"* ]]
}

@test "replay: --from-id starts just after that event, without waiting for it" {
	run tests/stamp.py sse replay --from-id 2 -f data "$T/timed.jsonl"
	assert_success
	[ "${#lines[@]}" -eq 2 ]
	[[ ${lines[0]} == *$'\t'700 ]]
	run --separate-stderr sse replay --from-id nope "$T/timed.jsonl"
	assert_failure 1
	[[ $stderr == *"no event with id 'nope'"* ]]
}

@test "replay: --stall pauses after --stall-after events" {
	rec "$T/s.jsonl" 0:0 300:300 600:600
	run tests/stamp.py sse replay --stall 0.8 --stall-after 2 -f data "$T/s.jsonl"
	assert_success
	printf '0\t0\n300\t300\n1400\t1400\n' >"$T/want"
	paste <(cut -f1 <<<"$output") <(cut -f2 "$T/want") | check_offsets 1
}

@test "replay: the output options of listen: -f json, -e, -n, --until" {
	run sse replay --no-delay -f json "$T/timed.jsonl"
	assert_success
	untime_output
	assert_line --index 1 '{"event":"tick","data":"300","id":"2"}'
	run sse replay --no-delay -f data -e tick "$T/timed.jsonl"
	assert_output "$(printf '300\n1000')"
	run sse replay --no-delay -f data -n 3 "$T/timed.jsonl"
	assert_success
	assert_output "$(printf '0\n300\n700')"
	run sse replay --no-delay -f data --until tick "$T/timed.jsonl"
	assert_success
	assert_output "$(printf '0\n300')"
	run sse replay --no-delay -f '{id}:{event}' "$T/timed.jsonl"
	assert_output '1:message2:tick3:message4:tick'
}

@test "replay: --timeout exits 5 with what was due already printed" {
	run --separate-stderr sse replay --timeout 0.5 -f data "$T/timed.jsonl"
	assert_failure 5
	assert_output "$(printf '0\n300')"
	# also when nothing ever waits: an endless loop without delays
	run --separate-stderr timeout 10 sse replay --no-delay --loop --timeout 0.3 \
		-f data "$T/timed.jsonl" >/dev/null
	assert_failure 5
}

@test "replay: --timeout holds while stdout's reader does not read" {
	local fifo=$T/stuck rcf=$T/rc
	mkfifo "$fifo"
	# Held open read-write and never read: replay's writes block once the
	# pipe is full.
	exec 7<>"$fifo"
	start_bg bash -c '"$SSE_BIN" replay --no-delay --loop --timeout 1 -f data "$1" >"$2" 7>&-; echo $? >"$3"' \
		_ "$T/timed.jsonl" "$fifo" "$rcf" 7>&-
	wait_file "$rcf" . || true
	exec 7>&-
	[ -s "$rcf" ] || fail "replay still blocked after 10 s"
	[ "$(cat "$rcf")" -eq 5 ]
}

@test "replay: a closed stdout ends quietly" {
	run bash -c 'sse replay --no-delay --loop -f data "$1" | head -2; echo "status ${PIPESTATUS[0]}"' _ "$T/timed.jsonl"
	assert_success
	assert_output "$(printf '0\n300\nstatus 0')"
}

@test "replay: SIGINT and SIGTERM end a replay with 130 and 143, output flushed" {
	rec "$T/long.jsonl" 0:first 60000:never
	local sig want
	for sig in INT TERM; do
		start_bg sse replay -f data "$T/long.jsonl" >"$T/out.$sig"
		wait_file "$T/out.$sig" first
		kill -"$sig" "$BG_PID"
		status=0
		wait "$BG_PID" || status=$?
		want=130
		[ "$sig" = TERM ] && want=143
		[ "$status" -eq "$want" ] || fail "SIG$sig: status $status"
		assert_equal "$(cat "$T/out.$sig")" first
	done
	# also in an endless loop that never sleeps
	start_bg sse replay --no-delay --loop -f data "$T/long.jsonl" >/dev/null
	sleep 0.3
	kill -INT "$BG_PID"
	status=0
	wait "$BG_PID" || status=$?
	[ "$status" -eq 130 ]
}

# ---- bad recordings -----------------------------------------------------

# bad_rec CONTENT LINE WHAT: replaying CONTENT exits 7 naming LINE and WHAT.
bad_rec() {
	printf '%b' "$1" >"$T/bad.jsonl"
	run --separate-stderr sse replay --no-delay "$T/bad.jsonl"
	assert_failure 7
	assert_output ''
	[[ $stderr == *"'$T/bad.jsonl' line $2: "*"$3"* ]] ||
		fail "want line $2 and '$3' in: $stderr"
}

H='{"format":"sse-recording","version":1}\n'

@test "replay: a truncated recording names its last line" {
	bad_rec "$H"'{"t":1,"data":"a"}\n{"t":2,"data":"b' 3 'incomplete last line'
}

@test "replay: a corrupt line is bad JSON, named with its column" {
	bad_rec "$H"'{"t":1,"data":"a"}\n{"t":2,data:"b"}\n{"t":3,"data":"c"}\n' 3 'bad JSON at column'
}

@test "replay: entries that are JSON but not a recording are named" {
	bad_rec "$H"'{"t":5,"data":"a"}\n{"t":4,"data":"b"}\n' 3 'goes back'
	bad_rec "$H"'{"t":"5","data":"a"}\n' 2 '"t" is not a whole number'
	bad_rec "$H"'{"data":"a"}\n' 2 '"t" (the offset) missing'
	bad_rec "$H"'{"t":1,"data":7}\n' 2 '"data" is not a string'
	bad_rec "$H"'{"t":1,"data":"a","id":"x\\ny"}\n' 2 '"id" contains CR or LF'
	bad_rec "$H"'{"t":1,"event":"a\\rb","data":""}\n' 2 '"event" contains CR or LF'
	bad_rec "$H"'{"t":1,"retry":-1}\n' 2 '"retry" is not a whole number'
	bad_rec "$H"'{"t":1,"chunk64":"!!"}\n' 2 '"chunk64" is not base64'
	bad_rec "$H"'{"t":1,"open":99}\n' 2 '"open" is not an HTTP status'
	bad_rec "$H"'{"t":5,"data":"a"}\n{"t":4,"hello":1}\n' 3 'goes back'
	bad_rec "$H"'{"hello":1}\n' 2 '"t" (the offset) missing'
	bad_rec "$H"'[1,2]\n' 2 'not a JSON object'
	bad_rec "$H"'{"t":1,"data":"a","data":"b"}\n' 2 'duplicate'
	bad_rec '{"t":1,"data":"a"}\n' 1 'no header'
	bad_rec '{"format":"sse-recording","version":9}\n' 1 'unsupported version 9'
	bad_rec '{"format":"har","version":1}\n' 1 'not an sse recording'
	bad_rec "$H$H" 2 'second header'
}

@test "replay: blank lines, unknown keys, lines of unknown keys only and a missing final newline are fine" {
	printf '%b' "$H"'\n{"t":1,"data":"a","extra":[1]}\n   \n{"t":2,"chunk":"data: a\\n\\n"}\n{"t":2,"foo":1}\n{"t":3,"event":"e"}' >"$T/ok.jsonl"
	run sse replay --no-delay -f json "$T/ok.jsonl"
	assert_success
	untime_output
	assert_output "$(printf '%s\n' '{"event":"message","data":"a","id":""}' '{"event":"e","data":"","id":""}')"
}

@test "replay: an unreadable file exits 1, bad options exit 2" {
	run --separate-stderr sse replay "$T/nope.jsonl"
	assert_failure 1
	[[ $stderr == *"cannot read '$T/nope.jsonl'"* ]]
	local args
	for args in "" "--speed 0 F" "--speed x F" "--max-gap -1 F" "--rate 0 F" \
		"--loop=0 F" "--stall-after 0 F" "--status 500 F" \
		"--disconnect-after 1 F" "--fail-first 1 F" "--retry 5 F" "-p 0 F" \
		"--serve -f json F" "--serve --timeout 1 F" "--no-delay --speed 2 F" \
		"--serve --fail-first 1 --status 200 F" "F G"; do
		# shellcheck disable=SC2086
		run --separate-stderr sse replay $args
		[ "$status" -eq 2 ] || fail "'$args': status $status: $stderr"
		[[ $stderr == *"usage: sse replay"* ]] || fail "'$args': $stderr"
	done
}

# ---- --serve ------------------------------------------------------------

@test "replay --serve: each client gets the events with their timing" {
	serve_replay "$T/timed.jsonl"
	run timeout 10 tests/stamp.py curl -sN "$URL"
	assert_success
	grep -c '^' <<<"$output" >/dev/null
	grep $'\tdata: ' <<<"$output" | check_offsets 1
	# the bytes are the recorded stream, serialized
	run timeout 10 curl -sN "$URL"
	assert_output "$(sse replay --no-delay -f raw "$T/timed.jsonl")"
}

@test "replay --serve: clients are paced independently" {
	serve_replay "$T/timed.jsonl"
	timeout 10 tests/stamp.py curl -sN "$URL" >"$T/a" &
	local a=$!
	sleep 0.5
	timeout 10 tests/stamp.py curl -sN "$URL" >"$T/b"
	wait "$a"
	grep $'\tdata: ' "$T/a" | check_offsets 1
	grep $'\tdata: ' "$T/b" | check_offsets 1
}

@test "replay --serve: Last-Event-ID and ?lastEventId= resume after that event" {
	serve_replay --no-delay "$T/timed.jsonl"
	run timeout 10 curl -sN -H 'Last-Event-ID: 2' "$URL"
	assert_success
	assert_output "$(printf 'id: 3\ndata: 700\n\nevent: tick\nid: 4\ndata: 1000')"
	run timeout 10 curl -sN "$URL?lastEventId=3"
	assert_output "$(printf 'event: tick\nid: 4\ndata: 1000')"
	# an id the recording does not hold: from the start
	run timeout 10 curl -sN -H 'Last-Event-ID: zzz' "$URL"
	assert_line --index 0 'id: 1'
	# a client with everything is told to stop (204)
	run timeout 10 curl -s -o /dev/null -w '%{http_code}' -H 'Last-Event-ID: 4' "$URL"
	assert_output 204
}

@test "replay --serve: --from-id sets where new clients start" {
	serve_replay --no-delay --from-id 3 "$T/timed.jsonl"
	run timeout 10 curl -sN "$URL"
	assert_output "$(printf 'event: tick\nid: 4\ndata: 1000')"
}

@test "replay --serve: --disconnect-after N ends each connection after N events" {
	serve_replay --no-delay --disconnect-after 3 "$T/timed.jsonl"
	run timeout 10 curl -sN "$URL"
	assert_success
	[ "$(grep -c '^data:' <<<"$output")" -eq 3 ]
	run timeout 10 curl -sN -H 'Last-Event-ID: 3' "$URL"
	assert_output "$(printf 'event: tick\nid: 4\ndata: 1000')"
}

@test "replay --serve: sse listen resumes across --disconnect-after and gets every event once" {
	serve_replay --no-delay --disconnect-after 1 --retry 50 "$T/timed.jsonl"
	run --separate-stderr timeout 20 sse listen -f data "$URL"
	assert_success
	assert_output "$(printf '0\n300\n700\n1000')"
}

@test "replay --serve: --loop=N with --disconnect-after: a resuming client gets exactly N passes, then 204" {
	printf '%s\n' '{"format":"sse-recording","version":1}' \
		'{"t":1,"id":"a","data":"1"}' \
		'{"t":2,"event":"ev","id":"b","data":"2","retry":50}' \
		'{"t":3,"id":"c","data":"3"}' >"$T/loop.jsonl"
	serve_replay --no-delay --loop=3 --disconnect-after 2 --retry 50 "$T/loop.jsonl"
	run --separate-stderr timeout 20 sse listen -f json "$URL"
	assert_success
	untime_output
	assert_output "$(printf '%s\n' \
		'{"event":"message","data":"1","id":"a"}' \
		'{"event":"ev","data":"2","id":"b"}' \
		'{"event":"message","data":"3","id":"c"}' \
		'{"event":"message","data":"1","id":"a~2"}' \
		'{"event":"ev","data":"2","id":"b~2"}' \
		'{"event":"message","data":"3","id":"c~2"}' \
		'{"event":"message","data":"1","id":"a~3"}' \
		'{"event":"ev","data":"2","id":"b~3"}' \
		'{"event":"message","data":"3","id":"c~3"}')"
	# An id of a pass that does not exist is unknown: from the start.
	run timeout 10 curl -s -H 'Last-Event-ID: c~4' "$URL"
	assert_line --index 1 'id: a'
	run timeout 10 curl -s -o /dev/null -w '%{http_code}' -H 'Last-Event-ID: c~3' "$URL"
	assert_output 204
}

@test "replay --serve: --fail-first K --status CODE fails the first K requests" {
	serve_replay --no-delay --fail-first 2 --status 500 "$T/timed.jsonl"
	local codes=() i
	for i in 1 2 3; do
		codes+=("$(timeout 10 curl -s -o /dev/null -w '%{http_code}' "$URL")")
	done
	assert_equal "${codes[*]}" "500 500 200"
	serve_replay --no-delay --fail-first 1 "$T/timed.jsonl"
	run timeout 10 curl -s -o /dev/null -w '%{http_code}' "$URL"
	assert_output 503
}

@test "replay --serve: --retry MS comes first on every connection" {
	serve_replay --no-delay --retry 1500 "$T/timed.jsonl"
	run timeout 10 curl -sN "$URL"
	assert_line --index 0 'retry: 1500'
	assert_line --index 1 'id: 1'
}

@test "replay --serve: --stall goes silent (no keepalives) mid-stream" {
	rec "$T/s.jsonl" 0:0 300:300 600:600
	serve_replay --stall 1 --stall-after 1 "$T/s.jsonl"
	run timeout 10 tests/stamp.py curl -sN "$URL"
	assert_success
	refute_output --partial $'\t:'
	printf '0\t0\n1300\t1300\n1600\t1600\n' >"$T/want"
	paste <(grep $'\tdata: ' <<<"$output" | cut -f1) <(cut -f2 "$T/want") |
		check_offsets 1
}

@test "replay --serve: --loop=N sends the recording N times, then ends" {
	serve_replay --no-delay --loop=2 "$T/timed.jsonl"
	run timeout 10 curl -sN "$URL"
	assert_success
	[ "$(grep -c '^data:' <<<"$output")" -eq 8 ]
}

@test "replay --serve: the front end's options apply (token, 404)" {
	serve_replay --no-delay --token s3cret "$T/timed.jsonl"
	run timeout 10 curl -s -o /dev/null -w '%{http_code}' "$URL"
	assert_output 401
	run timeout 10 curl -sN "$URL?token=s3cret"
	assert_line --index 0 'id: 1'
	run timeout 10 curl -s -o /dev/null -w '%{http_code}' "${URL%events}nope"
	assert_output 404
}

@test "replay --serve: a plain stream file is served too" {
	printf 'event: a\ndata: 1\n\ndata: 2\n\n' >"$T/p.sse"
	serve_replay "$T/p.sse"
	run timeout 10 curl -sN "$URL"
	assert_output "$(printf 'event: a\ndata: 1\n\ndata: 2')"
	# and SIGTERM stops the server with status 0
	kill -TERM "$BG_PID"
	status=0
	wait "$BG_PID" || status=$?
	[ "$status" -eq 0 ]
}

# ---- sse listen --record --------------------------------------------------

# script_server <SCRIPT: start tests/sse_server.py (see there); sets SRC.
script_server() {
	sse_server
	SRC=http://127.0.0.1:$PORT/
}

# listen_record LISTEN_ARGS... <SCRIPT: as `run`, sse listen --no-reconnect
# LISTEN_ARGS --record $T/r.jsonl against a script_server running SCRIPT.
listen_record() {
	script_server
	run --separate-stderr timeout 10 sse listen --no-reconnect "$@" \
		--record "$T/r.jsonl" "$SRC"
}

# A stream with known timing: data is each event's offset in ms (800 is
# dispatched when its second half arrives, at 800 ms).
TIMED_SCRIPT='send "retry: 2000\n\nid: 1\ndata: 0\n\n"
sleep 0.3
send "event: tick\nid: 2\ndata: 300\n\n"
sleep 0.4
send "data: 8"
sleep 0.1
send "00\n\n: a comment\n\n"
sleep 0.3
send "id: 4\ndata: 1100\ndata: two lines\n\n"'

@test "listen --record: records a stream with its timing; replay gives the same events" {
	listen_record -f json <<<"$TIMED_SCRIPT"
	assert_success
	untime_output
	local live=$output
	# the recording: a header, open, events with offsets, close
	run jq -c 'select(.format) | [.format, .version, .url]' "$T/r.jsonl"
	assert_output "[\"sse-recording\",1,\"$SRC\"]"
	run jq -r 'select(.open) | .open, (.headers[] | select(startswith("Content-Type")))' "$T/r.jsonl"
	assert_output "$(printf '200\nContent-Type: text/event-stream')"
	run jq -c 'select(.data) | [.event, .data, .id, .retry]' "$T/r.jsonl"
	assert_output "$(printf '%s\n' '["message","0","1",2000]' '["tick","300","2",null]' \
		'["message","800",null,null]' '["message","1100\ntwo lines","4",null]')"
	run jq -r 'select(.close) | .close' "$T/r.jsonl"
	assert_output 'stream ended'
	# offsets as sent (relative to the first event)
	jq -r 'select(.data) | "\(.t)\t\(.data | split("\n")[0])"' "$T/r.jsonl" |
		awk -F'\t' 'NR == 1 { b = $1 } { printf "%d\t%s\n", $1 - b, $2 }' |
		check_offsets 1
	# replayed: the same events as listen printed, at the same offsets
	run sse replay -f json "$T/r.jsonl"
	assert_success
	untime_output
	assert_equal "$output" "$live"
	# played at the recorded offsets (of the first line of each event)
	run tests/stamp.py sse replay -f '{data}\n' "$T/r.jsonl"
	assert_success
	grep -v 'two lines' <<<"$output" | cut -f1 |
		paste - <(jq 'select(.data) | .t' "$T/r.jsonl") |
		awk -F'\t' 'NR == 1 { b = $2 } { printf "%s\t%d\n", $1, $2 - b }' |
		check_offsets 1
}

@test "listen --record, replay --serve, listen: the events go through unchanged" {
	listen_record -f json <<<"$TIMED_SCRIPT"
	untime_output
	local live=$output
	serve_replay "$T/r.jsonl"
	# sse listen stops when the server answers 204 (it has everything)
	run --separate-stderr timeout 10 tests/stamp.py sse listen -f json "$URL"
	assert_success
	assert_equal "$(cut -f2 <<<"$output" | untimed)" "$live"
	cut -f1 <<<"$output" | paste - <(printf '0\n300\n800\n1100\n') | check_offsets 1
}

@test "listen --record: reconnects show as close and open, and replay plays across them" {
	script_server <<'SCRIPT'
send "id: 1\ndata: a\n\n"
sleep 0.1
drop
---
send "retry: 50\n\n"
sleep 0.1
send "id: 2\ndata: b\n\n"
SCRIPT
	run --separate-stderr timeout 10 sse listen --retry-delay 0.1 --max-reconnects 1 \
		-f data --record "$T/r.jsonl" "$SRC"
	run jq -r 'if .open then "open" elif .close then "close" elif .data then .data
		elif .retry then "retry" else "header" end' "$T/r.jsonl"
	assert_output "$(printf 'header\nopen\na\nclose\nopen\nb\nclose')"
	run sse replay --no-delay -f data "$T/r.jsonl"
	assert_output "$(printf 'a\nb')"
}

@test "listen --record: SIGINT, SIGTERM and a dropped connection leave a valid file" {
	local sig
	for sig in INT TERM; do
		script_server <<'SCRIPT'
send "id: 1\ndata: one\n\n"
send "id: 2\ndata: two\n\n"
hang 30
SCRIPT
		start_bg sse listen -f data --record "$T/$sig.jsonl" "$SRC" >"$T/out"
		wait_file "$T/$sig.jsonl" '"two"'
		kill -"$sig" "$BG_PID"
		wait "$BG_PID" || true
		run jq -r 'select(.close) | .close' "$T/$sig.jsonl"
		assert_output interrupted
		run sse replay --no-delay -f data "$T/$sig.jsonl"
		assert_success
		assert_output "$(printf 'one\ntwo')"
		stop_bg
	done
	# killed outright: every line written so far is whole, and it plays
	script_server <<'SCRIPT'
send "id: 1\ndata: one\n\n"
hang 30
SCRIPT
	start_bg sse listen -f data --record "$T/kill.jsonl" "$SRC" >"$T/out"
	wait_file "$T/kill.jsonl" '"one"'
	kill -KILL "$BG_PID"
	run sse replay --no-delay -f data "$T/kill.jsonl"
	assert_success
	assert_output one
}

@test "listen --record-chunks: the bytes as received, in order, beside the events" {
	listen_record -f data --record-chunks <<'SCRIPT'
send b"data: caf\xc3"
sleep 0.1
send b"\xa9\r\n\r\n"
sleep 0.1
send "data: ok\n\n"
sleep 0.1
send b"data: \xff\n\n"
SCRIPT
	assert_success
	# the chunks, decoded and joined, are the body byte for byte
	jq -r 'select(.chunk or .chunk64) | if .chunk then (.chunk | @base64) else .chunk64 end' "$T/r.jsonl" |
		while read -r b; do printf '%s' "$b" | base64 -d; done >"$T/body"
	printf 'data: caf\xc3\xa9\r\n\r\ndata: ok\n\ndata: \xff\n\n' | cmp - "$T/body"
	# UTF-8 as a string, anything else (a split character too) as base64
	run jq -r 'select(.chunk or .chunk64) | if .chunk then "chunk \(.chunk)" else "chunk64" end' "$T/r.jsonl"
	assert_output "$(printf 'chunk64\nchunk64\nchunk data: ok\n\n\nchunk64')"
	run sse replay --no-delay -f data "$T/r.jsonl"
	assert_output "$(printf 'café\nok\n\xef\xbf\xbd')"
}

@test "listen --record: an unwritable file exits 1 before connecting; --record-chunks alone is a usage error" {
	run --separate-stderr sse listen --record "$T/no/such/dir/r.jsonl" http://127.0.0.1:9/
	assert_failure 1
	[[ $stderr == *"cannot create recording '$T/no/such/dir/r.jsonl'"* ]]
	run --separate-stderr sse listen --record-chunks http://127.0.0.1:9/
	assert_failure 2
	[[ $stderr == *"--record-chunks needs --record"* ]]
}

@test "replay --exact: the recorded bytes, chunk by chunk, with their timing" {
	listen_record -f data --record-chunks <<'SCRIPT'
send b"\xef\xbb\xbf: hi\r\nid: 1\r\ndata: 0\r\n\r\nda"
sleep 0.4
send b"ta: 400\r\n\r\n"
sleep 0.4
send b"data: \xff\n\n"
SCRIPT
	assert_success
	printf '\xef\xbb\xbf: hi\r\nid: 1\r\ndata: 0\r\n\r\ndata: 400\r\n\r\ndata: \xff\n\n' >"$T/body"
	# to stdout: byte for byte
	sse replay --exact --no-delay "$T/r.jsonl" | cmp - "$T/body"
	# timing: each chunk at its recorded offset (lines 1, 5 and 7 end
	# with the bytes of chunks 1, 2 and 3)
	run tests/stamp.py sse replay --exact "$T/r.jsonl"
	assert_success
	sed -n '1p;5p;7p' <<<"$output" | cut -f1 |
		paste - <(jq 'select(.chunk or .chunk64) | .t' "$T/r.jsonl") |
		awk -F'\t' 'NR == 1 { b = $2 } { printf "%s\t%d\n", $1, $2 - b }' |
		check_offsets 1
	# as a server: the same bytes, whatever Last-Event-ID says
	serve_replay --no-delay --exact "$T/r.jsonl"
	timeout 10 curl -sN "$URL" | cmp - "$T/body"
	timeout 10 curl -sN -H 'Last-Event-ID: 1' "$URL" | cmp - "$T/body"
	# --disconnect-after counts the recorded events
	stop_bg
	serve_replay --no-delay --exact --disconnect-after 1 "$T/r.jsonl"
	run timeout 10 curl -sN "$URL"
	assert_output "$(printf '\xef\xbb\xbf: hi\r\nid: 1\r\ndata: 0\r\n\r\nda')"
}

@test "replay --exact: needs chunks, and plays no events" {
	run --separate-stderr sse replay --exact "$T/timed.jsonl"
	assert_failure 1
	[[ $stderr == *"has no chunks"*"--record-chunks"* ]]
	for args in "-f json" "-e x" "-n 1" "--until x" "--from-id 1"; do
		# shellcheck disable=SC2086
		run --separate-stderr sse replay --exact $args "$T/timed.jsonl"
		assert_failure 2
	done
}

# ---- standing in for the API it recorded --------------------------------

@test "replay --serve answers the recorded method and path with the recorded headers: the openai SDK works unchanged against it" {
	local dir=$TESTS_DIR/openai
	if [ ! -d "$dir/node_modules/openai" ]; then
		(cd "$dir" && timeout 300 npm ci --no-audit --no-fund >&2)
	fi
	cat >"$T/api_script" <<'EOS'
header X-Request-Id: req-42
send 'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n'
send 'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}\n\n'
send 'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}\n\n'
send 'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
send 'data: [DONE]\n\n'
EOS
	sse_server <"$T/api_script"
	run --separate-stderr timeout 20 sse listen --record "$T/api.jsonl" -f data \
		--oauth2-bearer k --json '{"model":"m","stream":true}' \
		"http://127.0.0.1:$PORT/v1/chat/completions"
	assert_success
	grep -q '"method":"POST"' "$T/api.jsonl"
	stop_bg
	serve_replay --no-delay "$T/api.jsonl"
	base=${URL%events}v1
	run --separate-stderr timeout 30 node "$dir/run.mjs" "$base"
	assert_success
	assert_output "Hello|done"
	# the recorded headers come back; GET /events still streams
	run --separate-stderr curl -sS -D - -o /dev/null -X POST -d '{}' \
		"${base}/chat/completions"
	assert_success
	assert_output --partial 'X-Request-Id: req-42'
	run --separate-stderr timeout 10 sse listen --no-reconnect -f data -n 1 "$URL"
	assert_success
	run --separate-stderr curl -sS -o /dev/null -w '%{http_code}' -X POST "${base}/other"
	assert_output 405
}

@test "replay --max-event-size: a larger event exits 7, in a recording and a plain file; a line with no end is not read whole" {
	local big
	big=$(head -c 2000 /dev/zero | tr '\0' x)
	rec "$T/big.jsonl" 0:a 10:"$big" 20:b
	# the default (1M) plays it
	run sse replay --no-delay -f '{data}\n' "$T/big.jsonl"
	assert_success
	assert_line --index 1 "$big"
	run sse replay --no-delay -f '{data}\n' --max-event-size 1K "$T/big.jsonl"
	[ "$status" -eq 7 ] || fail "exit $status: $output"
	assert_line "sse: replay: '$T/big.jsonl' line 4: an event's data longer than --max-event-size (1024 bytes)"
	run sse replay --no-delay -f '{data}\n' --max-event-size 2000 "$T/big.jsonl"
	assert_success
	# a plain text/event-stream file
	printf 'data: a\n\ndata: %s\n\n' "$big" >"$T/big.sse"
	run sse replay --no-delay -f '{data}\n' --max-event-size 1K "$T/big.sse"
	[ "$status" -eq 7 ] || fail "exit $status: $output"
	assert_line "sse: replay: '$T/big.sse': an event or line longer than --max-event-size (1024 bytes)"
	# 64 MB with no line end: refused after the first block read (past
	# six times the size), never held whole
	{ head -1 "$T/big.jsonl"; head -c 64000000 /dev/zero; } >"$T/noeol.jsonl"
	run sse replay --no-delay --max-event-size 1K "$T/noeol.jsonl"
	[ "$status" -eq 7 ] || fail "exit $status: $output"
	assert_line "sse: replay: '$T/noeol.jsonl' line 2: a line longer than any event could take with --max-event-size (1024 bytes)"
	run sse replay --max-event-size 0 "$T/big.jsonl"
	assert_failure 2
}
