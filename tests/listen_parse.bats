#!/usr/bin/env bats
# sse listen, parsing over the network: chunk boundaries, line endings, BOM, fields,
# ids, UTF-8, sizes (the parser's own tests are in unit/).
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

@test "parse: events split across reads, one byte at a time (LD one-line message in two chunks; multi-byte characters sent in single-byte pieces)" {
	serve <<EOF
$(chunks 1 '"data: €豆腐\n\nevent: greeting\nid: abc\ndata: Hel"')
send "lo\n\n"
EOF
	events_are '["message", "€豆腐", ""]
["greeting", "Hello", "abc"]'
}

@test "parse: LF, CRLF and CR separators in 1-byte, 2-byte and whole chunks (LD linefeeds)" {
	local term n lit
	for term in '\n' '\r\n' '\r'; do
		lit="\"data: event 1${term}${term}${term}data: event 2 line 1${term}data: event 2 line 2${term}${term}data:${term}data: line2${term}${term}\""
		for n in 1 2 1000; do
			serve <<EOF
$(chunks "$n" "$lit")
EOF
			events_are '["message", "event 1", ""]
["message", "event 2 line 1\nevent 2 line 2", ""]
["message", "\nline2", ""]'
		done
	done
}

@test "parse: CRLF with the CR at the end of a chunk (LD CRLF where CR is end of 1 chunk)" {
	serve <<'EOF'
send "data: Hello\r"
sleep 0.02
send "\ndata: World\r"
sleep 0.02
send "\n\r\ndata: OK\r"
sleep 0.02
send "\n"
sleep 0.02
send "\r"
sleep 0.02
send "\n"
EOF
	events_are '["message", "Hello\nWorld", ""]
["message", "OK", ""]'
}

@test "parse: a BOM split byte by byte is stripped once (LD BOM split byte by byte across chunks; only first BOM at start is stripped)" {
	serve <<'EOF'
send b"\xef"
sleep 0.02
send b"\xbb"
sleep 0.02
send b"\xbf"
sleep 0.02
send b"data: \xef\xbb\xbfHello\n\n"
EOF
	events_are $'["message", "\xef\xbb\xbfHello", ""]'
}

@test "parse: ids (LD event with ID, ID field is ignored if it contains a null, last ID persists, last ID can be overridden by an empty value; wpt format-field-id-3)" {
	serve <<'EOF'
send "id: 1\ndata: 1\n\ndata: 2\n\nid: a\x00bc\ndata: 3\n\nid: 2\ndata: 4\n\nid:\ndata: 5\n\ndata: 6\n\n"
EOF
	events_are '["message", "1", "1"]
["message", "2", "1"]
["message", "3", "1"]
["message", "4", "2"]
["message", "5", ""]
["message", "6", ""]'
}

@test "parse: fields (LD fields in reverse order, unknown field is ignored, extra leading space, field with no colon, empty data)" {
	serve <<'EOF'
send "data: Hello\nid: abc\nevent: greeting\n\nevent: greeting\ncolor: blue\ndata: Hello\n\nevent:  greeting\ndata:  Hello\n\ndata\n\ndata\ndata\n\ndata:\n\n"
EOF
	events_are '["greeting", "Hello", "abc"]
["greeting", "Hello", "abc"]
[" greeting", " Hello", "abc"]
["message", "", "abc"]
["message", "\n", "abc"]
["message", "", "abc"]'
}

@test "parse: invalid UTF-8 becomes U+FFFD, and -f json stays valid JSON (wpt format-utf-8)" {
	serve <<'EOF'
send b"data: ok \xe2\x82\xac \xff \xe2\x82\n\n"
EOF
	events_are $'["message", "ok \xe2\x82\xac \xef\xbf\xbd \xef\xbf\xbd", ""]'
}

@test "parse: 100 events in rapid succession arrive in order (LD many messages in rapid succession)" {
	serve <<'EOF'
repeat 100 "data: message {i}\n\n"
EOF
	sent -f data
	[ "${#lines[@]}" = 100 ]
	[ "${lines[0]}" = 'message 0' ]
	[ "${lines[99]}" = 'message 99' ]
}

@test "parse: payloads around buffer sizes, up to 1 MiB, are delivered whole (LD payload of N bytes is delivered promptly)" {
	local size
	for size in 1023 4096 8195 65536 1048576; do
		serve <<EOF
send "data: " + "x" * $size + "\n\n"
hang 10
EOF
		run --separate-stderr lsn -f data -n 1 "$URL"
		assert_success
		[ "${#output}" = "$size" ] || fail "$size: got ${#output} bytes"
	done
}

@test "parse: comments go to stderr with -v, never to stdout (LD comments)" {
	serve <<'EOF'
send ":Hello\n"
send "data: Hello\n\n"
send ":World\n"
EOF
	lsn_prints Hello --no-reconnect -v -f data "$URL"
	[[ $stderr == *"comment:Hello"* ]]
	[[ $stderr == *"comment:World"* ]]
}
