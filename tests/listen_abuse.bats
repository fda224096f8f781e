#!/usr/bin/env bats
# sse listen against a hostile or broken server: a connection cut inside
# the response head, a line that never ends, a head that never ends, a
# gzip bomb, a trickle; and secrets never shown with -v. Each ends with a
# clear message and a documented status, in bounded memory.

setup() {
	load helper
	load listen_helper
}

# abuse MODE [N]: start tests/abuse_server.py; sets PORT and URL.
abuse() {
	: >"$T/port"
	start_bg python3 "$TESTS_DIR/abuse_server.py" "$@" >"$T/port"
	wait_file "$T/port" . || fail "the abuse server did not start"
	PORT=$(head -1 "$T/port")
	URL=http://127.0.0.1:$PORT/
}

# measured ARGS...: sse listen ARGS under run, its peak RSS (KiB) in $T/rss.
measured() {
	run --separate-stderr /usr/bin/env time -f '%M' -o "$T/rss" timeout -k 5 30 sse listen "$@"
}

@test "abuse: a connection cut inside the response head is retried, not refused (issue 15)" {
	abuse headcut 2
	run --separate-stderr lsn --retry-delay 0.05 -f data -n 1 "$URL"
	assert_success
	assert_output whole
	[[ $stderr == *"closed inside the response head"* ]] || fail "$stderr"
	# with --no-reconnect, a lost connection: exit 3, not 4
	stop_bg
	abuse headcut 1
	lsn_fails 3 "closed inside the response head" --no-reconnect "$URL"
}

@test "abuse: a line that never ends stops at --max-event-size (exit 7), memory bounded" {
	serve <<'EOF2'
send "data: "
repeat 4000 "x" * 1000
hang 10
EOF2
	measured --max-event-size 1M -f data "$URL"
	assert_failure 7
	[[ $stderr == *"larger than --max-event-size"* ]] || fail "$stderr"
	[ "$(tail -1 "$T/rss")" -lt 100000 ] || fail "peak RSS $(tail -1 "$T/rss") KiB"
}

@test "abuse: a response head that never ends is refused at 256 KiB (exit 4)" {
	abuse endless-head
	lsn_fails 4 "response head larger than 256 KiB" "$URL"
}

@test "abuse: a gzip bomb with --compressed stops at --max-event-size (exit 7), memory bounded" {
	abuse gzip-bomb
	measured --compressed -f data "$URL"
	assert_failure 7
	[[ $stderr == *"larger than --max-event-size (1048576 bytes)"* ]] || fail "$stderr"
	[ "$(tail -1 "$T/rss")" -lt 100000 ] || fail "peak RSS $(tail -1 "$T/rss") KiB"
}

@test "abuse: a redirect loop ends at --max-redirs (exit 4)" {
	serve <<'EOF2'
status 302 Found
header Location: /again
EOF2
	lsn_fails 4 "redirect" --max-redirs 5 "$URL"
	[ "$(nreq)" = 6 ]
}

@test "abuse: a trickle of a byte a second is bounded by --timeout (exit 5), not by --idle-timeout" {
	abuse trickle
	lsn_fails 5 "timed out after 2.5 s" --idle-timeout 2 --timeout 2.5 "$URL"
}

@test "secrets: -v and -vv never show the token, the password or a ?token= value" {
	serve <<'EOF2'
send "data: x\n\n"
EOF2
	local u=${URL/http:\/\//http://user:PASSWORD1@}
	run --separate-stderr lsn -vv --no-reconnect -f data --oauth2-bearer TOKEN1 \
		-H 'Cookie: s=COOKIE1' "${u}?token=TOKEN2&a=1"
	assert_success
	[[ $stderr == *"Authorization: Bearer <redacted>"* ]] || fail "$stderr"
	[[ $stderr == *"?token=***&a=1"* ]] || fail "$stderr"
	[[ $stderr != *TOKEN1* && $stderr != *TOKEN2* && $stderr != *PASSWORD1* && $stderr != *COOKIE1* ]] ||
		fail "a secret shown: $stderr"
	# sent all the same
	[ "$(hdr 1 Authorization)" = "Bearer TOKEN1" ]
	[ "$(req 1 'r["path"]')" = "/?token=TOKEN2&a=1" ]
}
