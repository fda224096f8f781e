#!/usr/bin/env bats
# sse listen against real HTTP servers on 127.0.0.1: tests/sse_server.py
# (scripted: exact bytes, chunk boundaries, delays, statuses, dropped
# connections; it logs every request it gets) and a Flask app.
#
# Conformance cases are named after their public sources:
#   WHATWG   the HTML Standard, "Server-sent events" (the rule is quoted)
#   wpt      web-platform-tests, eventsource/ (file name)
#   LD       LaunchDarkly sse-contract-tests, ssetests/ (test name)
# CORS cases of wpt do not apply to a command-line client.

setup() {
	load helper
	T=$BATS_TEST_TMPDIR
}

# serve [--tls] <SCRIPT: start tests/sse_server.py with the script on
# stdin; sets PORT and URL. The server logs requests to $T/requests.
serve() {
	local tls=()
	if [ "${1:-}" = --tls ]; then
		make_cert
		tls=(--tls "$T/cert.pem" "$T/key.pem")
	fi
	: >"$T/requests"
	sse_server --log "$T/requests" "${tls[@]}"
	URL=http://127.0.0.1:$PORT/
	[ -z "${tls[*]}" ] || URL=https://127.0.0.1:$PORT/
}

make_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 \
		-keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
}

# nreq: the number of requests the server got.
nreq() {
	wc -l <"$T/requests" | tr -d ' '
}

# req N EXPR: a Python expression over request N: r (the JSON object) and
# h (its headers, names in lower case).
req() {
	python3 -c 'import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
r = rs[int(sys.argv[2]) - 1]
h = {k.lower(): v for k, v in r["headers"]}
print(eval(sys.argv[3]))' "$T/requests" "$1" "$2"
}

# hdr N NAME: header NAME of request N, or <none>.
hdr() {
	req "$1" "h.get('${2,,}', '<none>')"
}

# gap N: seconds between request N-1 and request N.
gap() {
	python3 -c 'import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
print("%.3f" % (rs[n - 1]["t"] - rs[n - 2]["t"]))' "$T/requests" "$1"
}

# events_are EXPECTED: sse listen --no-reconnect gets the events EXPECTED
# from $URL (as evs prints them) and exits 0.
events_are() {
	run evs --no-reconnect "$URL"
	assert_success
	assert_output "$1"
}

# content_type_ok CT...: a stream sent with each Content-Type CT is taken.
content_type_ok() {
	local ct
	for ct in "$@"; do
		serve <<EOF
header Content-Type: $ct
send "data: ok\n\n"
EOF
		run --separate-stderr lsn --no-reconnect -f data "$URL"
		assert_success
		assert_output ok
	done
}

# reconnects FIRST: serve the script lines FIRST (one connection or more),
# then a last connection that sends "data: two" and stays open.
reconnects() {
	serve <<EOF
$1
---
send "data: two\n\n"
hang 10
EOF
}

# ge A B: A >= B, as decimal numbers.
ge() {
	python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' "$1" "$2" ||
		fail "$1 is not >= $2"
}

lsn() {
	timeout 20 sse listen "$@"
}

# evs ARGS...: sse listen -f json ARGS, each event printed as a JSON
# array [type, data, lastEventId]; the exit status is sse's.
evs() {
	local rc=0
	timeout 20 sse listen -f json "$@" >"$T/json" 2>"$T/err" || rc=$?
	python3 -c 'import json, sys
for line in sys.stdin:
    e = json.loads(line)
    print(json.dumps([e["event"], e["data"], e["id"]], ensure_ascii=False))' <"$T/json"
	return $rc
}

# chunks N LITERAL: script lines sending LITERAL's bytes N at a time, 5 ms
# apart, so that they reach the client as separate reads.
chunks() {
	python3 - "$1" "$2" <<'PY'
import ast, sys
n = int(sys.argv[1])
b = ast.literal_eval(sys.argv[2])
b = b.encode() if isinstance(b, str) else b
for i in range(0, len(b), n):
    print("send " + repr(b[i:i + n]))
    print("sleep 0.005")
PY
}

# ---- request -------------------------------------------------------------

@test "request: GET with Accept: text/event-stream, Cache-Control: no-cache, no Last-Event-ID (LD default method and headers; wpt request-accept, request-cache-control)" {
	serve <<'EOF'
send "data: x\n\n"
EOF
	run lsn --no-reconnect "$URL"
	assert_success
	[ "$(req 1 'r["method"]')" = GET ]
	[ "$(hdr 1 Accept)" = text/event-stream ]
	[ "$(hdr 1 Cache-Control)" = no-cache ]
	[ "$(hdr 1 Last-Event-ID)" = '<none>' ]
	[ "$(hdr 1 User-Agent)" = "sse/$(sse --version | cut -d' ' -f2)" ]
}

@test "request: -H adds headers, and replaces Accept (LD custom headers)" {
	serve <<'EOF'
send "data: x\n\n"
EOF
	run lsn --no-reconnect -H 'header-name-1: value-1' \
		--header 'header-name-2: value-2' -H 'Accept: text/event-stream, */*' "$URL"
	assert_success
	[ "$(hdr 1 header-name-1)" = value-1 ]
	[ "$(hdr 1 header-name-2)" = value-2 ]
	[ "$(req 1 "[v for k, v in r['headers'] if k.lower() == 'accept']")" = "['text/event-stream, */*']" ]
}

@test "request: -H without a colon is a usage error" {
	run --separate-stderr sse listen -H 'nocolon' http://127.0.0.1:9/
	assert_failure 2
	[[ $stderr == *"--header: invalid value 'nocolon'"* ]]
}

@test "request: -X, -d and --json send the method, body and content type (LD POST request, REPORT request)" {
	serve <<'EOF'
send "data: x\n\n"
EOF
	run lsn --no-reconnect -H 'content-type: application/json; charset=utf-8' \
		-d '{"hello": "world"}' "$URL"
	assert_success
	[ "$(req 1 'r["method"]')" = POST ]
	[ "$(req 1 'r["body"]')" = '{"hello": "world"}' ]
	[ "$(hdr 1 Content-Type)" = 'application/json; charset=utf-8' ]

	run lsn --no-reconnect -X REPORT --json '{"a":' --json '1}' "$URL"
	assert_success
	[ "$(req 2 'r["method"]')" = REPORT ]
	[ "$(req 2 'r["body"]')" = '{"a":1}' ]
	[ "$(hdr 2 Content-Type)" = application/json ]
	# --json keeps Accept: text/event-stream (curl's --json would not)
	[ "$(hdr 2 Accept)" = text/event-stream ]
}

@test "request: -d @FILE drops newlines as curl does, --data-binary keeps them, @- reads stdin, several -d join with &" {
	serve <<'EOF'
send "data: x\n\n"
EOF
	printf 'a=1\nb=2\r\n' >"$T/body"
	run lsn --no-reconnect -d @"$T/body" "$URL"
	assert_success
	[ "$(req 1 'repr(r["body"])')" = "'a=1b=2'" ]
	run lsn --no-reconnect --data-binary @"$T/body" "$URL"
	assert_success
	[ "$(req 2 'repr(r["body"])')" = "'a=1\\nb=2\\r\\n'" ]
	run bash -c 'printf "from-stdin" | timeout 20 sse listen --no-reconnect -d @- -d x=1 "$1"' _ "$URL"
	assert_success
	[ "$(req 3 'r["body"]')" = 'from-stdin&x=1' ]
	run --separate-stderr sse listen -d @"$T/missing" "$URL"
	assert_failure 2
	[[ $stderr == *"--data: cannot read '$T/missing'"* ]]
}

@test "request: -u, --oauth2-bearer and -A set Authorization and User-Agent" {
	serve <<'EOF'
send "data: x\n\n"
EOF
	run lsn --no-reconnect -u alice:secret -A 'probe/1.0' "$URL"
	assert_success
	[ "$(hdr 1 Authorization)" = "Basic $(printf alice:secret | base64)" ]
	[ "$(hdr 1 User-Agent)" = probe/1.0 ]
	run lsn --no-reconnect --oauth2-bearer tok-123 --user-agent x/2 "$URL"
	assert_success
	[ "$(hdr 2 Authorization)" = 'Bearer tok-123' ]
	[ "$(hdr 2 User-Agent)" = x/2 ]
}

@test "request: --last-event-id is sent on the first request (LD sends Last-Event-Id in initial request if set)" {
	serve <<'EOF'
send "data: x\n\n"
EOF
	run lsn --no-reconnect --last-event-id abc "$URL"
	assert_success
	[ "$(hdr 1 Last-Event-ID)" = abc ]
	# -H Last-Event-ID is taken the same way, not sent twice
	run lsn --no-reconnect -H 'Last-Event-ID: xyz' "$URL"
	assert_success
	[ "$(req 2 "[v for k, v in r['headers'] if k.lower() == 'last-event-id']")" = "['xyz']" ]
}

@test "request: a CR or LF in a value sent in the request head is refused (exit 2, no request), and so is a Last-Event-ID that is not UTF-8" {
	serve <<'EOF'
send "data: x\n\n"
EOF
	local args
	for args in "--last-event-id|a"$'\r\n'"X-Injected: yes" \
		"-H|Last-Event-ID: a"$'\n'"X-Injected: yes" \
		"-H|X-A: 1"$'\r\n'"X-Injected: yes" \
		"-A|agent"$'\r\n'"X-Injected: yes" \
		"-X|GET / HTTP/1.1"$'\r\n'"X-Injected: yes"$'\r\n'"X:" \
		"--oauth2-bearer|token"$'\n'"X-Injected: yes"; do
		run --separate-stderr lsn --no-reconnect "${args%%|*}" "${args#*|}" "$URL"
		assert_failure 2
		[[ $stderr == *"invalid value '"*'\x0AX-Injected: yes'*"': contains a line break (CR or LF)" ]] ||
			fail "${args%%|*}: $stderr"
	done
	run --separate-stderr lsn --no-reconnect --last-event-id $'caf\xe9' "$URL"
	assert_failure 2
	[ "$stderr" = "sse: listen: --last-event-id: invalid value 'caf\\xE9': the ID is not valid UTF-8" ]
	run --separate-stderr lsn --no-reconnect -H $'Last-Event-ID: \xff' "$URL"
	assert_failure 2
	[[ $stderr == *"the ID is not valid UTF-8"* ]]
	[ "$(nreq)" = 0 ]
	# UTF-8 is sent as it is
	run --separate-stderr lsn --no-reconnect --last-event-id 'café' "$URL"
	assert_success
	[ "$(req 1 "h['last-event-id'].encode('latin-1').decode('utf-8')")" = 'café' ]
}

@test "request: --proxy sends the request through the proxy" {
	serve <<'EOF'
send "data: via-proxy\n\n"
EOF
	run --separate-stderr lsn --no-reconnect -f data --proxy "http://127.0.0.1:$PORT" http://sse.example.invalid/events
	assert_success
	assert_output via-proxy
	[ "$(req 1 'r["path"]')" = http://sse.example.invalid/events ]
}

@test "request: the *_proxy environment variables are used" {
	serve <<'EOF'
send "data: via-env\n\n"
EOF
	run --separate-stderr env http_proxy="http://127.0.0.1:$PORT" \
		timeout 20 sse listen --no-reconnect -f data http://env.example.invalid/
	assert_success
	assert_output via-env
	[ "$(req 1 'r["path"]')" = http://env.example.invalid/ ]
}

@test "request: https: verified with --cacert, refused without it (exit 3, no retry), -k skips the check" {
	serve --tls <<'EOF'
send "data: secure\n\n"
EOF
	run --separate-stderr lsn -f data "$URL"
	assert_failure 3
	[[ $stderr == *"cannot connect to '$URL'"* ]]
	run --separate-stderr lsn --no-reconnect -f data --cacert "$T/cert.pem" "$URL"
	assert_success
	assert_output secure
	run --separate-stderr lsn --no-reconnect -f data -k "$URL"
	assert_success
	assert_output secure
	run --separate-stderr lsn --no-reconnect -f data --insecure "$URL"
	assert_success
}

@test "request: --connect-timeout gives up on a server that never answers the TLS handshake (exit 3)" {
	serve <<'EOF'
hang 30
EOF
	local t0=$SECONDS
	run --separate-stderr lsn --no-reconnect --connect-timeout 0.5 "https://127.0.0.1:$PORT/"
	assert_failure 3
	[ $((SECONDS - t0)) -lt 10 ]
	[[ $stderr == *"cannot connect to 'https://127.0.0.1:$PORT/'"* ]]
}

@test "request: redirects 301, 302, 303, 307 are followed (wpt request-redirect)" {
	local code
	for code in 301 302 303 307; do
		serve <<EOF
status $code Moved
header Location: /moved
---
send "data: after-$code\n\n"
EOF
		run --separate-stderr lsn --no-reconnect -f data "$URL"
		assert_success
		assert_output "after-$code"
		[ "$(req 2 'r["path"]')" = /moved ]
	done
}

@test "request: --max-redirs limits the redirects followed (exit 4)" {
	serve <<'EOF'
status 302 Found
header Location: /again
EOF
	run --separate-stderr lsn --max-redirs 3 "$URL"
	assert_failure 4
	[ "$(nreq)" = 4 ]
	[[ $stderr == *"redirect"* ]] || [[ $stderr == *"Redirect"* ]]
}

@test "request: a reconnection goes to the URL given, not to where it was redirected" {
	serve <<'EOF'
status 307 Temporary Redirect
header Location: /target
---
send "retry: 10\ndata: one\n\n"
---
status 307 Temporary Redirect
header Location: /target
---
send "data: two\n\n"
---
status 204
EOF
	run --separate-stderr lsn -f data "${URL}start"
	assert_success
	assert_output $'one\ntwo'
	[ "$(req 3 'r["path"]')" = /start ]
	[ "$(req 4 'r["path"]')" = /target ]
}

# ---- response: status and content type ------------------------------------

@test "response: a status other than 200 fails the connection without reconnecting, naming status and type (wpt request-status-error: 205 210 299 404 410 503)" {
	local code
	for code in 205 210 299 404 410 503; do
		serve <<EOF
status $code TEST
header Content-Type: text/html
send "data: never\n\n"
EOF
		run --separate-stderr lsn --retry-delay 0 "$URL"
		assert_failure 4
		assert_output ''
		[[ $stderr == *"HTTP status $code"* ]] || fail "$code: $stderr"
		[[ $stderr == *"'text/html'"* ]] || fail "$code: $stderr"
		[ "$(nreq)" = 1 ]
	done
}

@test "response: 204 No Content stops the client, exit 0 (WHATWG: a client can be told to stop reconnecting using 204; wpt reconnect-fail)" {
	serve <<'EOF'
send "retry: 2\ndata: opened\n\n"
---
send "data: reconnected\n\n"
---
status 204 NO CONTENT (CLOSE)
send "data: closed\n\n"
EOF
	run --separate-stderr lsn -f data "$URL"
	assert_success
	assert_output $'opened\nreconnected'
	[ "$(nreq)" = 3 ]
	[ -z "$stderr" ]
}

@test "response: a wrong content type fails the connection (wpt format-mime-valid-bogus; text/event-stream-foobar; no type)" {
	local ct
	for ct in text/x-bogus text/event-stream-foobar text/plain; do
		serve <<EOF
header Content-Type: $ct
send "data: never\n\n"
EOF
		run --separate-stderr lsn "$URL"
		assert_failure 4
		assert_output ''
		[[ $stderr == *"content type '$ct'"* ]] || fail "$stderr"
		[[ $stderr == *"HTTP status 200"* ]] || fail "$stderr"
		[ "$(nreq)" = 1 ]
	done
	serve <<'EOF'
noheader Content-Type
send "data: never\n\n"
EOF
	run --separate-stderr lsn "$URL"
	assert_failure 4
	[[ $stderr == *"content type ''"* ]]
}

@test "response: content type essence is case-insensitive and parameters are ignored (wpt format-mime-trailing-semicolon)" {
	content_type_ok 'text/event-stream;' 'Text/Event-Stream; charset=UTF-8' \
		'text/event-stream ; charset="utf-8"' 'TEXT/EVENT-STREAM;foo=bar'
}

@test "response: an empty charset is taken as none, as Chromium's EventSource does" {
	content_type_ok 'text/event-stream; charset=' 'text/event-stream;charset=""' \
		'text/event-stream; charset= ; foo=bar'
}

@test "response: a charset other than UTF-8 is refused, as Chromium's EventSource does" {
	serve <<'EOF'
header Content-Type: text/event-stream; charset=windows-1251
send "data: never\n\n"
EOF
	run --separate-stderr lsn "$URL"
	assert_failure 4
	[[ $stderr == *"charset=windows-1251"* ]]
}

# zipped KIND TEXT: a Python bytes literal of TEXT (backslash escapes as in
# Python) compressed as gzip or deflate (zlib format, as HTTP's deflate is).
zipped() {
	python3 -c 'import codecs, gzip, sys, zlib
b = codecs.decode(sys.argv[2], "unicode_escape").encode()
print(repr(gzip.compress(b) if sys.argv[1] == "gzip" else zlib.compress(b)))' "$1" "$2"
}

@test "response: a compressed body is decoded even when not asked for (as browsers do); no Accept-Encoding without --compressed" {
	local kind
	for kind in gzip deflate; do
		serve <<EOF
header Content-Encoding: $kind
framing close
send $(zipped "$kind" "data: zipped $kind\n\n")
EOF
		run --separate-stderr lsn --no-reconnect -f data "$URL"
		assert_success
		assert_output "zipped $kind"
		[ "$(hdr 1 Accept-Encoding)" = '<none>' ]
	done
}

@test "request: --compressed asks for a compressed response and decodes it; -H Accept-Encoding is sent as given" {
	serve <<EOF
header Content-Encoding: gzip
framing close
send $(zipped gzip "id: 1\ndata: asked\n\n")
EOF
	run --separate-stderr lsn --no-reconnect --compressed -f json "$URL"
	assert_success
	assert_output '{"event":"message","data":"asked","id":"1"}'
	[[ $(hdr 1 Accept-Encoding) == *gzip* ]]
	[[ $(hdr 1 Accept-Encoding) == *deflate* ]]
	run --separate-stderr lsn --no-reconnect -H 'Accept-Encoding: gzip' -f data "$URL"
	assert_success
	assert_output asked
	[ "$(hdr 2 Accept-Encoding)" = gzip ]
}

@test "response: --retry-on-http-error reconnects after 5xx and 429, not after 404" {
	serve <<'EOF'
status 503 Service Unavailable
---
status 429 Too Many Requests
---
send "data: finally\n\n"
EOF
	run --separate-stderr lsn --retry-on-http-error --retry-delay 0.05 -f data -n 1 "$URL"
	assert_success
	assert_output finally
	[ "$(nreq)" = 3 ]
	[[ $stderr == *"'$URL' answered HTTP status 503; retrying in"* ]] || fail "$stderr"
	# with --no-reconnect there is nothing to retry: the status is refused
	serve <<'EOF'
status 503 Service Unavailable
EOF
	run --separate-stderr lsn --no-reconnect --retry-on-http-error "$URL"
	assert_failure 4
	[[ $stderr == *"HTTP status 503"* ]]
	serve <<'EOF'
status 404 Not Found
EOF
	run --separate-stderr lsn --retry-on-http-error --retry-delay 0.05 "$URL"
	assert_failure 4
	[ "$(nreq)" = 1 ]
}

@test "response: a body framed by the connection closing or by Content-Length ends the stream cleanly" {
	local framing
	for framing in close length; do
		serve <<EOF
framing $framing
send "data: a\n\n"
sleep 0.05
send "data: b\n\n"
EOF
		run --separate-stderr lsn --no-reconnect -f data "$URL"
		assert_success
		assert_output $'a\nb'
	done
}

# ---- parsing over the network (the parser's own tests are in unit/) --------

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
	events_are $'["message", "\ufeffHello", ""]'
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
	events_are $'["message", "ok \u20ac \ufffd \ufffd", ""]'
}

@test "parse: 100 events in rapid succession arrive in order (LD many messages in rapid succession)" {
	serve <<'EOF'
repeat 100 "data: message {i}\n\n"
EOF
	run lsn --no-reconnect -f data "$URL"
	assert_success
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
	run --separate-stderr lsn --no-reconnect -v -f data "$URL"
	assert_success
	assert_output Hello
	[[ $stderr == *"comment:Hello"* ]]
	[[ $stderr == *"comment:World"* ]]
}

# ---- reconnection ----------------------------------------------------------

@test "reconnect: a stream that ends is reestablished (WHATWG: reestablish the connection; wpt eventsource-reconnect)" {
	serve <<'EOF'
send "retry: 2\ndata: ok\n\n"
---
send "data: data\n\n"
hang 10
EOF
	run --separate-stderr lsn -f data -n 2 "$URL"
	assert_success
	assert_output $'ok\ndata'
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
		cmp "$T/listen.$fmt" "$T/replay.$fmt"
	done
	grep -qxF '{"event":"message","data":"after id","id":"7"}' "$T/listen.json"
	grep -qxF '{"event":"message","data":"\"q\"","id":"7"}' "$T/listen.json"
	[ "$(wc -l <"$T/listen.json")" = 12 ]
}

@test "format: json, data and data0 of a stream read in random pieces match a WHATWG reference (tests/sse_ref.py), runs or not" {
	local fmt seed
	for seed in 1 2 3; do
		mkdir -p "$T/$seed"
		python3 "$TESTS_DIR/sse_ref.py" "$seed" "$T/$seed"
		serve <"$T/$seed/script"
		for fmt in json data data0; do
			lsn --no-reconnect -f "$fmt" "$URL" >"$T/got.$fmt"
			cmp "$T/$seed/want.$fmt" "$T/got.$fmt"
			# -n turns the runs off: events one by one
			lsn --no-reconnect -n 100000 -f "$fmt" "$URL" >"$T/got.$fmt"
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
		timeout 20 sse listen --no-reconnect -f json "$URL"
	assert_success
	local lines mb rss
	read -r lines mb rss <<<"$output"
	[ "$lines" = 2000 ] && [ "$mb" = 200 ] || fail "got: $output"
	[ "$rss" -lt 100 ] || fail "peak RSS $rss MB"
}

@test "reconnect: the request body is sent again (LD resends request body if any when reconnecting)" {
	reconnects 'send "retry: 10\ndata: one\n\n"'
	run --separate-stderr lsn -f data -n 2 -H 'content-type: application/json; charset=utf-8' \
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
	run --separate-stderr lsn -f data -n 2 "$URL"
	assert_success
	assert_output $'one\ntwo'
	[[ $stderr == *"connection to '$URL' lost"* ]]
	[[ $stderr == *"reconnecting in"* ]]
	reconnects 'send "retry: 10\ndata: one\n\n"
drop'
	run --separate-stderr lsn -q -f data -n 2 "$URL"
	assert_success
	[ -z "$stderr" ]
}

# rawsrv MODE: a TCP server on 127.0.0.1 that answers every connection
# below HTTP: rst resets it at once (during a TLS handshake, say), http09
# reads the request and answers without a status line. Sets PORT; it logs
# one line per connection to $T/conns.
rawsrv() {
	: >"$T/conns"
	: >"$T/port"
	start_bg python3 -c 'import socket, struct, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
log = open(sys.argv[2], "a")
while True:
    c, _ = s.accept()
    log.write("conn\n")
    log.flush()
    if sys.argv[1] == "http09":
        c.recv(65536)
        c.sendall(b"data: not http\n\n")
        c.close()
    else:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()' "$1" "$T/conns" >"$T/port"
	wait_file "$T/port" . || fail "the raw server did not start"
	PORT=$(head -1 "$T/port")
}

@test "reconnect: a reset during the TLS handshake and an HTTP/0.9 answer are retried, not futile (exit 8 with --max-reconnects)" {
	rawsrv rst
	run --separate-stderr lsn --max-reconnects 2 --retry-delay 0 \
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
	local port
	port=$(free_port)
	run --separate-stderr lsn --retry-delay 0.1 --max-reconnects 4 "http://127.0.0.1:$port/"
	assert_failure 8
	# retrying in d1..d4: targets 0.2, 0.4, 0.8, 1.6 s; each in [target/2, target]
	mapfile -t d < <(grep -o 'retrying in [0-9.]*' <<<"$stderr" | awk '{print $3}')
	[ "${#d[@]}" = 4 ] || fail "$stderr"
	ge "${d[0]}" 0.1 && ge 0.2 "${d[0]}"
	ge "${d[1]}" 0.2 && ge 0.4 "${d[1]}"
	ge "${d[2]}" 0.4 && ge 0.8 "${d[2]}"
	ge "${d[3]}" 0.8 && ge 1.6 "${d[3]}"
	run --separate-stderr lsn --retry-delay 0.1 --retry-max-delay 0.3 --max-reconnects 4 "http://127.0.0.1:$port/"
	assert_failure 8
	mapfile -t d < <(grep -o 'retrying in [0-9.]*' <<<"$stderr" | awk '{print $3}')
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
	run --separate-stderr lsn --no-reconnect -f data "$URL"
	assert_success
	assert_output one
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

# ---- output, filters and exit conditions -----------------------------------

@test "output: raw is the default in a pipe and relays the stream (ids, types, multi-line data)" {
	serve <<'EOF'
send "id: 7\nevent: add\ndata: a\ndata: b\n\n: comment\ndata: plain\n\n"
EOF
	run --separate-stderr lsn --no-reconnect "$URL"
	assert_success
	assert_output "$(printf 'event: add\nid: 7\ndata: a\ndata: b\n\ndata: plain\n')"
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

# chunkings FILE...: a script of four responses for each FILE, each sending
# its bytes: in 7-byte HTTP chunks (the shortest event whose bytes can be
# copied as they came, "data: \n\n", is 8 bytes, so every event is
# serialized again), whole, in 1000-byte chunks, and as 13-byte writes with
# no chunked framing, joined as TCP likes.
chunkings() {
	python3 - "$@" <<'PY'
import sys
for f in sys.argv[1:]:
    b = open(f, "rb").read()
    for framing, n in (("chunked", 7), ("chunked", len(b) or 1),
                       ("chunked", 1000), ("close", 13)):
        print("framing " + framing)
        for i in range(0, len(b), n):
            print("send " + repr(b[i:i + n]))
        print("---")
PY
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
	run --separate-stderr lsn -e add -n 2 "$URL"
	assert_success
	assert_output "$(printf 'event: add\ndata: 1\n\nevent: add\nid: 3\ndata: 3\n')"
	run --separate-stderr lsn --until tick "$URL"
	assert_success
	assert_output "$(printf 'event: add\ndata: 1\n\nevent: tick\ndata: 2\n')"
}

@test "output: pretty on a terminal, with colour unless NO_COLOR is set" {
	serve <<'EOF'
send "event: add\ndata: hello-tty\n\n"
EOF
	run script -qec "env -u NO_COLOR timeout 20 sse listen --no-reconnect '$URL'" /dev/null
	assert_success
	assert_output --partial hello-tty
	refute_output --partial 'data: hello-tty'
	[[ $output == *$'\e['* ]] || fail "no colour: $output"
	run script -qec "NO_COLOR=1 timeout 20 sse listen --no-reconnect '$URL'" /dev/null
	assert_success
	assert_output --partial hello-tty
	[[ $output != *$'\e['* ]] || fail "colour with NO_COLOR: $output"
}

@test "output: -f json lines for jq, -f data, -f data0" {
	serve <<'EOF'
send "id: 1\nevent: add\ndata: {\"n\": 1}\n\ndata: two\ndata: lines\n\n"
EOF
	run --separate-stderr bash -c 'timeout 20 sse listen --no-reconnect -f json "$1" | jq -r .data' _ "$URL"
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
	run --separate-stderr lsn -f data -e add --event del --until done "$URL"
	assert_success
	assert_output $'1\n3'
	run --separate-stderr lsn -f data --until done "$URL"
	assert_success
	assert_output $'1\n2\n3\n4'
}

@test "filter: -n N exits 0 after N printed events" {
	serve <<'EOF'
send "data: 1\n\nevent: x\ndata: 2\n\ndata: 3\n\ndata: 4\n\n"
hang 10
EOF
	run --separate-stderr lsn -f data -n 2 -e message "$URL"
	assert_success
	assert_output $'1\n3'
	run --separate-stderr sse listen -n 0 "$URL"
	assert_failure 2
	[[ $stderr == *"--max-events: invalid value '0'"* ]]
}

@test "output: events reach stdout as they arrive, not when the stream ends" {
	serve <<'EOF'
send "data: early\n\n"
hang 30
EOF
	start_bg timeout 20 sse listen -f data "$URL" >"$T/out"
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
		-o "$T/trace" timeout 20 sse listen --no-reconnect -f data "$URL"
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
	run bash -c 'timeout 20 sse listen -f data "$1" 2>"$2" | head -1; echo "status ${PIPESTATUS[0]}"' _ "$URL" "$T/err"
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
	run --separate-stderr lsn -v --no-reconnect -f data "$URL"
	assert_success
	assert_output one
	[[ $stderr == *"< HTTP/1.1 200 OK"* ]]
	[[ $stderr == *"< X-Probe: yes"* ]]
	[[ $stderr == *"connecting to $URL"* ]]
}

@test "output: -vv adds libcurl's trace on stderr, each header once" {
	serve <<'EOF'
header X-Probe: yes
send "data: one\n\n"
EOF
	run --separate-stderr lsn -vv --no-reconnect -f data "$URL"
	assert_success
	assert_output one
	[[ $stderr == *"> GET / HTTP/1.1"* ]]
	[[ $stderr == *"* Connected to 127.0.0.1"* ]]
	[ "$(grep -c '^< X-Probe: yes' <<<"$stderr")" = 1 ]
	[ "$(grep -c '^< HTTP/1.1 200' <<<"$stderr")" = 1 ]
	[ "$(grep -c '^> Accept: text/event-stream' <<<"$stderr")" = 1 ]
}

@test "output: -v shows headers, comments and ids from the network with control characters escaped, NUL included" {
	printf '%s\n' $'header X-Evil: a\e]0;pwn\ab\u00ffd' \
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
	run --separate-stderr lsn "$URL"
	assert_failure 4
	[[ $stderr == *"content type 'text/html\\x1B[31m'"* ]]
}


# ---- exit statuses (sse-listen(1), EXIT STATUS) -----------------------------

@test "exit 0: --until met" {
	serve <<'EOF'
send "data: a\n\nevent: done\ndata: b\n\n"
hang 30
EOF
	run --separate-stderr lsn -f data --until done "$URL"
	assert_success
	assert_output $'a\nb'
}

@test "exit 1: stdout cannot be written" {
	[ -w /dev/full ] || skip "no /dev/full"
	serve <<'EOF'
send "data: a\n\n"
hang 30
EOF
	run --separate-stderr bash -c 'timeout 20 sse listen -f data "$1" >/dev/full' _ "$URL"
	assert_failure 1
	[[ $stderr == *"cannot write to stdout"* ]]
}

@test "exit 1: stdout closed at start is an error said at once, and no event goes into a descriptor that took its number" {
	serve <<'EOF'
send "data: a\n\n"
hang 30
EOF
	run --separate-stderr bash -c 'timeout 20 sse listen -f data "$1" >&-' _ "$URL"
	assert_failure 1
	[ "$stderr" = "sse: listen: cannot write to stdout: Bad file descriptor" ]
	# stdin and stderr closed: the events still go to stdout, messages nowhere
	run --separate-stderr bash -c 'timeout 20 sse listen -n 1 -f data "$1" <&- 2>&-' _ "$URL"
	assert_success
	assert_output a
	[ -z "$stderr" ]
	run --separate-stderr bash -c 'timeout 20 sse listen --no-reconnect -d @- "$1" <&-' _ "$URL"
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
		"--idle-timeout|inf|not a decimal number" "--retry-delay| 5|not a decimal number" \
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
	run --separate-stderr lsn --no-reconnect "http://127.0.0.1:$port/"
	assert_failure 3
	[[ $stderr == *"cannot connect to 'http://127.0.0.1:$port/'"* ]]
	run --separate-stderr lsn --connect-timeout 5 http://sse-no-such-host.invalid/
	assert_failure 3
	[[ $stderr == *"cannot connect to 'http://sse-no-such-host.invalid/'"* ]]
	[[ $stderr != *retrying* ]]
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
	run --separate-stderr lsn "$URL"
	assert_failure 4
	[[ $stderr == *"'$URL' answered HTTP status 401 (content type 'application/json'), not 200"* ]]
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
	run --separate-stderr lsn --no-reconnect -f data --timeout 0 --idle-timeout 0 "$URL"
	assert_success
	assert_output $'a\nb'
	run --separate-stderr lsn --no-reconnect -f data --timeout 0.0001 "$URL"
	assert_failure 5
	[[ $stderr == *"timed out after 0.001 s (--timeout)"* ]]
}

@test "exit 5: --timeout also bounds the wait between reconnects" {
	local port
	port=$(free_port)
	local t0=$SECONDS
	run --separate-stderr lsn --timeout 0.5 "http://127.0.0.1:$port/"
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

# stalled_reader FIFO OUT [SECS]: in the background, open FIFO for reading
# with the pipe shrunk to 4 KiB, read nothing for SECS (default 30), then
# copy everything to OUT.
stalled_reader() {
	start_bg python3 -c 'import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.fcntl(fd, 1031, 4096)  # F_SETPIPE_SZ
time.sleep(float(sys.argv[3]))
with open(sys.argv[2], "wb") as out:
    while True:
        b = os.read(fd, 65536)
        if not b:
            break
        out.write(b)' "$1" "$2" "${3:-30}"
}

@test "exit 5 and 6: --timeout and --idle-timeout hold while stdout's reader never reads" {
	serve <<'EOF'
send "data: " + "x" * 8000 + "\n\n"
hang 30
EOF
	mkfifo "$T/fifo"
	stalled_reader "$T/fifo" "$T/out"
	local t0=$SECONDS rc=0 reader=$BG_PID
	timeout 20 sse listen -f data --timeout 1 "$URL" >"$T/fifo" 2>"$T/err" || rc=$?
	[ "$rc" = 5 ] || fail "exit $rc: $(cat "$T/err")"
	[ $((SECONDS - t0)) -lt 8 ]
	grep -q "timed out after 1 s (--timeout)" "$T/err"
	# Gone for good before the next writer opens the fifo: a dying reader
	# could still take that open and then leave it with EPIPE (exit 0).
	kill "$reader"
	wait "$reader" 2>/dev/null || true

	# nothing more comes and nothing waits unread: the server is idle
	stalled_reader "$T/fifo" "$T/out"
	t0=$SECONDS rc=0
	timeout 20 sse listen -f data --idle-timeout 1 "$URL" >"$T/fifo" 2>"$T/err" || rc=$?
	[ "$rc" = 6 ] || fail "exit $rc: $(cat "$T/err")"
	[ $((SECONDS - t0)) -lt 8 ]
	grep -q "nothing received for 1 s (--idle-timeout)" "$T/err"
}

@test "exit 0: --idle-timeout does not fire while stdout's reader is slow and the server has sent more" {
	serve <<'EOF'
repeat 20000 "data: {i} 0123456789012345678901234567890123456789\n\n"
EOF
	mkfifo "$T/fifo"
	stalled_reader "$T/fifo" "$T/out" 2
	local rc=0 pid=$BG_PID
	timeout 20 sse listen --no-reconnect -f data --idle-timeout 0.5 "$URL" \
		>"$T/fifo" 2>"$T/err" || rc=$?
	[ "$rc" = 0 ] || fail "exit $rc: $(cat "$T/err")"
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
	run --separate-stderr lsn -f data "$URL"
	assert_failure 7
	[[ $stderr == *"--max-event-size (1048576 bytes)"* ]]
}

@test "exit 8: reconnects exhausted" {
	local port
	port=$(free_port)
	run --separate-stderr lsn --retry-delay 0.01 --max-reconnects 1 "http://127.0.0.1:$port/"
	assert_failure 8
	[[ $stderr == *"giving up after 1 reconnects"* ]]
}

@test "exit 130 and 143: SIGINT and SIGTERM, with what was received on stdout" {
	local sig want pid
	for sig in INT TERM; do
		serve <<'EOF'
send "data: before\n\n"
hang 30
EOF
		sse listen -f data "$URL" >"$T/out" 2>"$T/err" &
		pid=$!
		BG_PIDS+=("$pid")
		wait_file "$T/out" before
		kill -"$sig" "$pid"
		local rc=0
		wait "$pid" || rc=$?
		want=130
		[ "$sig" = INT ] || want=143
		[ "$rc" = "$want" ] || fail "SIG$sig: exit $rc, want $want"
		[ "$(cat "$T/out")" = before ]
	done
}

@test "exit 130: SIGINT during the wait between reconnects" {
	serve <<'EOF'
send "retry: 60000\ndata: one\n\n"
EOF
	sse listen -f data "$URL" >"$T/out" 2>"$T/err" &
	local pid=$! rc=0
	BG_PIDS+=("$pid")
	wait_file "$T/out" one
	sleep 0.2
	kill -INT "$pid"
	wait "$pid" || rc=$?
	[ "$rc" = 130 ]
}

@test "exit 130: SIGINT ends the program even while stdout's reader has stalled" {
	serve <<'EOF'
repeat 20000 "data: 0123456789012345678901234567890123456789\n\n"
hang 30
EOF
	mkfifo "$T/fifo"
	start_bg bash -c 'exec sleep 30 <"$1"' _ "$T/fifo"
	sse listen -f data "$URL" >"$T/fifo" 2>"$T/err" &
	local pid=$! rc=0 tries=100
	BG_PIDS+=("$pid")
	sleep 1
	kill -0 "$pid" # still there, blocked writing
	kill -INT "$pid"
	while kill -0 "$pid" 2>/dev/null; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "sse did not end on SIGINT"
		sleep 0.05
	done
	wait "$pid" || rc=$?
	[ "$rc" = 130 ]
}

@test "request: a URL without a scheme is taken as http://, as curl does" {
	serve <<'EOF'
send "data: schemeless\n\n"
EOF
	run --separate-stderr lsn --no-reconnect -f data "127.0.0.1:$PORT/x"
	assert_success
	assert_output schemeless
	[ "$(req 1 'r["path"]')" = /x ]
}

# ---- interoperability -----------------------------------------------------

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
	run bash -c 'timeout 20 sse listen -f json -e add --until done "$1" | jq -r ".data | fromjson | .item"' _ "http://127.0.0.1:$PORT/stream"
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
