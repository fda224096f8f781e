#!/usr/bin/env bats
# sse serve: ids that name one event of one life of a stream (EPOCH-N),
# what a client that the stream cannot resume is told, and --journal:
# restarts, torn and corrupted journals, the lock, write failures. Real
# servers on 127.0.0.1, real clients (curl, sse listen), killed by PID.

setup() {
	load helper
	load serve_helper
	serve_setup
}

# listen_bg OUT: sse listen on the stream in the background, one line an
# event ("TYPE ID DATA"), reconnecting 100 ms after the stream ends.
listen_bg() {
	start_bg timeout 60 sse listen -f '{event} {id} {data}\n' \
		--retry-delay 0.1 "http://127.0.0.1:$PORT/events" >"$1" 8>&-
}

@test "serve durable: ids are EPOCH-N, the epoch said at the start" {
	serve
	[[ $E =~ ^[0-9a-z]{8}$ ]] || fail "epoch '$E'"
	feed_sync a b
	run get /events
	assert_output "$(printf 'id: %s-1\ndata: a\n\nid: %s-2\ndata: b\n' "$E" "$E")"
	run cat "$ERR"
	assert_line "sse: serve: epoch $E: a new stream, ids $E-1 on"
}

@test "serve durable: an id of another epoch, from the future or with a NUL gets the loss signal and Last-Event-ID: earliest" {
	serve
	feed_sync a b
	local id
	for id in zzzzzzzz-1 "$E-3" "$E-99" "$E-1%00x" "$E-0" 1; do
		run curl -sN -i --max-time 1 "http://127.0.0.1:$PORT/events?lastEventId=$id"
		assert_line --partial 'Last-Event-ID: earliest'
		assert_line 'event: sse-lost'
		# everything held follows, from the first event
		assert_line "id: $E-1"
		assert_line "id: $E-2"
	done
	run curl -sN -i --max-time 1 "http://127.0.0.1:$PORT/events?lastEventId=$E-1%00x"
	assert_line "data: {\"lastEventId\":\"$E-1\\u0000x\"}"
	run curl -sN -i --max-time 1 -H "Last-Event-ID: $E-1" "http://127.0.0.1:$PORT/events"
	refute_line --partial 'Last-Event-ID'
	refute_line 'event: sse-lost'
	assert_line "id: $E-2"
}

@test "serve durable: a restart without a journal: reconnecting clients get the loss signal, never the new stream as the old one's continuation" {
	serve --retry 100
	local old=$E port=$PORT a=$BATS_TEST_TMPDIR/a b=$BATS_TEST_TMPDIR/b
	feed_sync 1 2 3
	listen_bg "$a"
	listen_bg "$b"
	wait_file "$a" " 3\$"
	wait_file "$b" " 3\$"
	kill -KILL "$SRV"
	wait_exit "$SRV"
	exec 8>&-
	rm -f "$IN"
	mkfifo "$IN"
	serve --retry 100 -p "$port"
	[ "$E" != "$old" ]
	feed 4 5
	wait_file "$a" " 5\$"
	wait_file "$b" " 5\$"
	local f
	for f in "$a" "$b"; do
		run cat "$f"
		assert_output "$(printf 'message %s-1 1\nmessage %s-2 2\nmessage %s-3 3\nsse-lost %s-3 {"lastEventId":"%s-3"}\nmessage %s-1 4\nmessage %s-2 5\n' \
			"$old" "$old" "$old" "$old" "$old" "$E" "$E")"
	done
}

@test "serve durable: --id none: after input ends a reconnecting client is told 204, not fed the backlog again" {
	serve --id none --retry 100
	feed 1 2 3
	end_input
	run timeout 10 sse listen -f data --retry-delay 0.1 "http://127.0.0.1:$PORT/events" 8>&-
	assert_success
	assert_output "$(printf '1\n2\n3\n')"
	# No id on any event; the stream ends with the bare id field.
	run get /events
	assert_output "$(printf 'retry: 100\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\nid: %s-end\n' "$E")"
	run curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
		-H "Last-Event-ID: $E-end" "http://127.0.0.1:$PORT/events"
	assert_output 204
}

@test "serve durable: --input json: explicit ids are the producer's, serve's own count every event" {
	serve --input json
	feed '{"data":"ok"}' '{"data":5,"id":7}' '{"event":"x"}'
	until_has /events 'event: x'
	run get /events
	assert_output "$(printf 'id: %s-1\ndata: ok\n\nid: 7\ndata: 5\n\nevent: x\nid: %s-3\ndata: \n' "$E" "$E")"
	# Resume works from either kind of id.
	run get "/events?lastEventId=7"
	assert_output "$(printf 'event: x\nid: %s-3\ndata: \n' "$E")"
	run get "/events?lastEventId=$E-1"
	assert_line 'id: 7'
}

# restart ARGS...: a new server on the same fifo and port.
restart() {
	local port=$PORT
	exec 8>&-
	serve -p "$port" "$@"
}

@test "serve durable: --journal: SIGKILL mid-stream, a restart on the same journal and port: every client gets every event once, in order" {
	local J=$BATS_TEST_TMPDIR/j a=$BATS_TEST_TMPDIR/a b=$BATS_TEST_TMPDIR/b
	serve --journal "$J" --retry 100
	local epoch=$E
	feed $(seq 1 100)
	listen_bg "$a"
	wait_file "$a" " 100\$"
	listen_bg "$b"
	feed $(seq 101 150)
	wait_file "$a" " 150\$"
	wait_file "$b" " 150\$"
	kill -KILL "$SRV"
	wait_exit "$SRV"
	[ -e "$J/open" ] # it could not say it stopped
	restart --journal "$J" --retry 100
	[ "$E" = "$epoch" ] || fail "a new epoch $E after $epoch"
	run cat "$ERR"
	assert_line "sse: serve: epoch $E: the history is back from the journal, up to $E-150; ids $E-151 on"
	feed $(seq 151 300)
	wait_file "$a" " 300\$"
	wait_file "$b" " 300\$"
	local f
	for f in "$a" "$b"; do
		run cut -d' ' -f3 "$f"
		assert_output "$(seq 1 300)"
		run cut -d' ' -f2 "$f"
		assert_output "$(seq 1 300 | sed "s/^/$E-/")"
	done
	# and a client that resumes is sent what follows, from the journal
	run get "/events?lastEventId=$E-120"
	[ "$(grep -c '^id: ' <<<"$output")" -eq 180 ]
	assert_line --index 1 "id: $E-121"
}

@test "serve durable: --journal: a torn last record is dropped with a warning, the rest kept" {
	local J=$BATS_TEST_TMPDIR/j
	serve --journal "$J"
	feed_sync a b c
	kill -TERM "$SRV"
	wait_exit "$SRV"
	[ ! -e "$J/open" ] # it said it stopped
	local seg
	seg=$(ls "$J"/*.ssej)
	# a record (a CRC, then a varint length) that says 200 bytes, of
	# which 5 came
	printf '\001\002\003\004\310\001abcde' >>"$seg"
	restart --journal "$J"
	run cat "$ERR"
	assert_line --regexp "^sse: serve: --journal: '.*\\.ssej' ends with a torn record \\(offset [0-9]+, a crash while writing\\): dropped\$"
	assert_line "sse: serve: epoch $E: the history is back from the journal, up to $E-3; ids $E-4 on"
	feed_sync d
	run get /events
	assert_output "$(printf 'id: %s-1\ndata: a\n\nid: %s-2\ndata: b\n\nid: %s-3\ndata: c\n\nid: %s-4\ndata: d\n' "$E" "$E" "$E" "$E")"
}

@test "serve durable: --journal: a corrupted record is an error naming the file and the offset, exit 1" {
	local J=$BATS_TEST_TMPDIR/j
	serve --journal "$J"
	feed_sync aaaa bbbb cccc
	kill -TERM "$SRV"
	wait_exit "$SRV"
	local seg
	seg=$(ls "$J"/*.ssej)
	# flip a byte in the first record (at 64: a CRC, a length, flags, a
	# time, the id's place, then the event, "id: \ndata: aaaa\n\n")
	printf 'X' | dd of="$seg" bs=1 seek=80 conv=notrunc 2>/dev/null
	run sse serve -p 0 --journal "$J" </dev/null
	assert_failure 1
	assert_output "sse: serve: --journal: '$seg' is corrupt at offset 64: a record's checksum is wrong"
}

@test "serve durable: --journal: a full-length last record with a wrong checksum is damage, not a torn write: serve and export exit 1" {
	local J=$BATS_TEST_TMPDIR/j seg size
	serve --journal "$J"
	feed_sync aaaa bbbb cccc
	kill -TERM "$SRV"
	wait_exit "$SRV"
	seg=$(ls "$J"/*.ssej)
	size=$(stat -c %s "$seg")
	# the last record ends "cccc\n\n": flip a c, the length left whole
	printf 'X' | dd of="$seg" bs=1 seek=$((size - 3)) conv=notrunc 2>/dev/null
	local msg="^sse: serve: --journal: '$seg' is corrupt at offset [0-9]+: a record's checksum is wrong\$"
	run sse serve -p 0 --journal "$J" </dev/null
	assert_failure 1
	assert_output --regexp "$msg"
	run sse serve --journal "$J" --journal-export
	assert_failure 1
	assert_line --regexp "$msg"
	refute_output --partial 'torn'
}

@test "serve durable: --journal: a deleted newest segment stops serve and export alike, exit 1" {
	local J=$BATS_TEST_TMPDIR/j seg i
	serve --journal "$J" --history 8
	for i in $(seq 1 9); do feed_sync "e$i"; done
	kill -TERM "$SRV"
	wait_exit "$SRV"
	seg=$(ls "$J"/*.ssej | tail -1)
	[ "$(ls "$J"/*.ssej | wc -l)" -gt 1 ] || fail "one segment"
	rm "$seg"
	local msg
	msg="sse: serve: --journal: '$J' ends at event $((10#$(basename "$seg" .ssej) - 1)), but events up to 9 were written: its newest segment was deleted or cut; move the directory aside to start a new stream"
	run sse serve --journal "$J" --journal-export
	assert_failure 1
	assert_line "$msg"
	run sse serve -p 0 --journal "$J" </dev/null
	assert_failure 1
	assert_output "$msg"
}

@test "serve durable: --journal in another format version is refused, saying so, exit 1" {
	local J=$BATS_TEST_TMPDIR/j seg
	serve --journal "$J"
	feed_sync a
	kill -TERM "$SRV"
	wait_exit "$SRV"
	seg=$(ls "$J"/*.ssej)
	# format 1's header: the version is the u32 at offset 8
	printf '\001' | dd of="$seg" bs=1 seek=8 conv=notrunc 2>/dev/null
	run sse serve -p 0 --journal "$J" </dev/null
	assert_failure 1
	assert_output "sse: serve: --journal: '$seg' is in journal format 1, which this sse does not read (it reads format 2): export it with the sse that wrote it (--journal-export)"
}

@test "serve durable: --journal: a newest segment cut before its header is dropped, the one before goes on whole" {
	local J=$BATS_TEST_TMPDIR/j
	serve --journal "$J"
	feed_sync a b
	kill -TERM "$SRV"
	wait_exit "$SRV"
	# a crash just as segment 3 was made: part of its header
	printf 'SSEJRNL\n' >"$J/00000000000000000003.ssej"
	restart --journal "$J"
	feed_sync c
	kill -TERM "$SRV"
	wait_exit "$SRV"
	restart --journal "$J"
	run get /events
	assert_output "$(printf 'id: %s-1\ndata: a\n\nid: %s-2\ndata: b\n\nid: %s-3\ndata: c\n' "$E" "$E" "$E")"
}

@test "serve durable: --journal: a second server on the same journal is refused" {
	local J=$BATS_TEST_TMPDIR/j
	serve --journal "$J"
	run sse serve -p 0 --journal "$J" </dev/null
	assert_failure 1
	assert_output "sse: serve: --journal: '$J' is in use by another server (pid $SRV)"
}

@test "serve durable: --journal: a write that fails stops input, says so, and gives up after 10 s with exit 1" {
	local J=$BATS_TEST_TMPDIR/j
	exec 8<>"$IN"
	# a file-size limit of 4 KiB: the segment fills up
	(ulimit -f 4 && exec sse serve -p 0 --journal "$J" <"$IN" 2>"$ERR" 8>&-) &
	SRV=$!
	BG_PIDS+=("$SRV")
	wait_file "$ERR" 'sse: serving'
	PORT=$(sed -n 's/^sse: serving .*:\([0-9]*\)\/$/\1/p' "$ERR")
	local i
	for i in $(seq 1 100); do printf 'line-%03d-%s\n' "$i" "$(head -c 60 /dev/zero | tr '\0' x)"; done >&8
	wait_file "$ERR" 'input waits until it can' || fail "$(cat "$ERR")"
	run cat "$ERR"
	assert_line --regexp "^sse: serve: --journal: cannot write '.*\\.ssej': File too large: input waits until it can \\(10 s at most\\)\$"
	wait_exit "$SRV" 400
	[ "$WAITED" -eq 1 ] || fail "exit $WAITED"
	run cat "$ERR"
	assert_line --regexp "giving up\$"
	# what was served is what the journal holds: nothing more
	run sse serve --journal "$J" --journal-export
	local n
	n=$(grep -c '"data":"line-' <<<"$output")
	[ "$n" -gt 10 ] && [ "$n" -lt 100 ] || fail "$n events in the journal"
}

@test "serve durable: --journal is bounded by the history: old segments go, a restart keeps the history" {
	local J=$BATS_TEST_TMPDIR/j
	serve --journal "$J" --history 20 --backlog 0
	local i
	for i in $(seq 1 200); do feed "e$i"; done
	until_has "/events?lastEventId=$E-199" 'data: e200'
	[ "$(ls "$J"/*.ssej | wc -l)" -le 6 ] || fail "$(ls "$J")"
	kill -TERM "$SRV"
	wait_exit "$SRV"
	restart --journal "$J" --history 20
	run get "/events?lastEventId=$E-190"
	assert_line --index 0 "id: $E-191"
	[ "$(grep -c '^id: ' <<<"$output")" -eq 10 ]
	run get "/events?lastEventId=$E-100"
	assert_line --index 0 'event: sse-lost'
}

@test "serve durable: --journal whose newest segment was deleted or cut is refused (exit 1), never its ids used again" {
	local J=$BATS_TEST_TMPDIR/j newest
	serve --journal "$J" --history 20 --backlog 0
	local i
	for i in $(seq 1 30); do feed "e$i"; done
	until_has "/events?lastEventId=$E-29" 'data: e30'
	kill -TERM "$SRV"
	wait_exit "$SRV"
	newest=$(ls "$J"/*.ssej | tail -1)
	cp "$newest" "$BATS_TEST_TMPDIR/kept"
	rm "$newest"
	run timeout 10 sse serve -p 0 --journal "$J" --history 20 </dev/null
	assert_failure 1
	assert_output --partial "but events up to 30 were written"
	# emptied rather than deleted: the same
	: >"$newest"
	run timeout 10 sse serve -p 0 --journal "$J" --history 20 </dev/null
	assert_failure 1
	assert_output --partial "but events up to 30 were written"
	# whole again, it goes on where it was
	cp "$BATS_TEST_TMPDIR/kept" "$newest"
	restart --journal "$J" --history 20
	run get "/events?lastEventId=$E-29"
	assert_line --index 0 "id: $E-30"
}

@test "serve durable: --journal: after an unclean stop before a reboot, the stream takes a new epoch" {
	local J=$BATS_TEST_TMPDIR/j
	serve --journal "$J"
	local old=$E
	feed_sync a b
	kill -KILL "$SRV"
	wait_exit "$SRV"
	# as if the machine had restarted since
	echo "00000000-0000-0000-0000-000000000000 other" >"$J/open"
	restart --journal "$J"
	[ "$E" != "$old" ]
	run cat "$ERR"
	assert_line --partial 'its last events may be lost, so the stream takes a new epoch'
	assert_line "sse: serve: epoch $E: a new life after 2 events in the journal, ids $E-3 on"
	# an event a client may have seen, lost with the tail: the loss signal
	run get -H "Last-Event-ID: $old-3" /events
	assert_line --index 0 'event: sse-lost'
	assert_line "id: $old-2"
	# one the journal kept resumes as ever
	run get -H "Last-Event-ID: $old-1" /events
	assert_output "$(printf 'id: %s-2\ndata: b\n' "$old")"
	# --fsync always: nothing a client saw is ever lost, the epoch stays
	kill -KILL "$SRV"
	wait_exit "$SRV"
	restart --journal "$J" --fsync always
	local e2=$E
	feed_sync c
	kill -KILL "$SRV"
	wait_exit "$SRV"
	sed -i 's/^[^ ]*/00000000-0000-0000-0000-000000000000/' "$J/open"
	restart --journal "$J"
	[ "$E" = "$e2" ]
}

@test "serve durable: --journal-export is a recording sse replay plays" {
	local J=$BATS_TEST_TMPDIR/j
	serve --journal "$J" --input sse
	printf 'event: t\ndata: one\n\nretry: 500\ndata: two\n\n' >&8
	until_has /events 'data: two'
	run sse serve --journal "$J" --journal-export
	assert_success
	assert_line --index 0 --regexp '^\{"format":"sse-recording","version":1,'
	run sse replay --no-delay -f '{event} {id} {data}\n' <(sse serve --journal "$J" --journal-export)
	assert_output "$(printf 't %s-1 one\nmessage %s-2 two\n' "$E" "$E")"
}

@test "serve durable: bad --journal and --fsync values exit 2" {
	local args
	for args in '--fsync sometimes' '--fsync 0' '--fsync -1' '--journal ""' \
		'--journal-export' '--journal x --redis redis://127.0.0.1'; do
		eval "run sse serve $args </dev/null"
		[ "$status" -eq 2 ] || fail "serve $args: exit $status: $output"
	done
	# --fsync says nothing without a journal to sync: refused, not ignored
	run sse serve --fsync always </dev/null
	assert_failure 2
	assert_output --partial -- '--fsync needs --journal'
}

@test "serve durable: --journal is the server's alone on disk (0700, files 0600): events may need the token" {
	umask 022
	serve --journal "$BATS_TEST_TMPDIR/j"
	feed_sync a
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/j")" = 700 ]
	for f in "$BATS_TEST_TMPDIR"/j/*; do
		[ "$(stat -c %a "$f")" = 600 ] || fail "$f: $(stat -c %a "$f")"
	done
}

@test "serve durable: --journal --id none: a restart continues the stream without the last run's end mark in it" {
	local J=$BATS_TEST_TMPDIR/j
	serve --journal "$J" --id none --exit-on-eof
	feed 1 2
	end_input
	wait_exit "$SRV"
	[ "$WAITED" -eq 0 ]
	serve --journal "$J" --id none -p "$PORT"
	feed 3
	until_has /events 'data: 3'
	# a new client: the events of both runs, and no "id: EPOCH-end"
	run get /events
	assert_output "$(printf 'data: 1\n\ndata: 2\n\ndata: 3\n')"
	# this run's end is marked as ever
	end_input
	until_has /events 'id: '
	run get /events
	assert_output "$(printf 'data: 1\n\ndata: 2\n\ndata: 3\n\nid: %s-end\n' "$E")"
}
