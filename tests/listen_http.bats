#!/usr/bin/env bats
# sse listen, request and response: what `sse listen` sends (method, headers, body,
# proxies, TLS, redirects) and which answers it takes (status, content type,
# compression, framing).
#
# Against real HTTP servers on 127.0.0.1 (tests/sse_server.py, scripted:
# see tests/listen_helper.bash). Conformance cases are named after their
# public sources:
#   WHATWG   the HTML Standard, "Server-sent events" (the rule is quoted)
#   wpt      web-platform-tests, eventsource/ (file name)
#   LD       LaunchDarkly sse-contract-tests, ssetests/ (test name)
# CORS cases of wpt do not apply to a command-line client.

setup() {
	load helper
	load listen_helper
}

@test "request: GET with Accept: text/event-stream, Cache-Control: no-cache, no Last-Event-ID (LD default method and headers; wpt request-accept, request-cache-control)" {
	serve_x
	sent
	[ "$(req 1 'r["method"]')" = GET ]
	[ "$(hdr 1 Accept)" = text/event-stream ]
	[ "$(hdr 1 Cache-Control)" = no-cache ]
	[ "$(hdr 1 Last-Event-ID)" = '<none>' ]
	[ "$(hdr 1 User-Agent)" = "sse/$(sse --version | head -1 | cut -d' ' -f2)" ]
}

@test "request: -H adds headers, and replaces Accept (LD custom headers)" {
	serve_x
	sent -H 'header-name-1: value-1' \
		--header 'header-name-2: value-2' -H 'Accept: text/event-stream, */*'
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
	serve_x
	sent -H 'content-type: application/json; charset=utf-8' \
		-d '{"hello": "world"}'
	[ "$(req 1 'r["method"]')" = POST ]
	[ "$(req 1 'r["body"]')" = '{"hello": "world"}' ]
	[ "$(hdr 1 Content-Type)" = 'application/json; charset=utf-8' ]

	sent -X REPORT --json '{"a":' --json '1}'
	[ "$(req 2 'r["method"]')" = REPORT ]
	[ "$(req 2 'r["body"]')" = '{"a":1}' ]
	[ "$(hdr 2 Content-Type)" = application/json ]
	# --json keeps Accept: text/event-stream (curl's --json would not)
	[ "$(hdr 2 Accept)" = text/event-stream ]
}

@test "request: -d @FILE drops newlines as curl does, --data-binary keeps them, @- reads stdin, several -d join with &" {
	serve_x
	printf 'a=1\nb=2\r\n' >"$T/body"
	sent -d @"$T/body"
	[ "$(req 1 'repr(r["body"])')" = "'a=1b=2'" ]
	sent --data-binary @"$T/body"
	[ "$(req 2 'repr(r["body"])')" = "'a=1\\nb=2\\r\\n'" ]
	run bash -c 'printf "from-stdin" | timeout -k 5 20 sse listen --no-reconnect -d @- -d x=1 "$1"' _ "$URL"
	assert_success
	[ "$(req 3 'r["body"]')" = 'from-stdin&x=1' ]
	run --separate-stderr sse listen -d @"$T/missing" "$URL"
	assert_failure 2
	[[ $stderr == *"--data: cannot read '$T/missing'"* ]]
}

@test "request: -u, --oauth2-bearer and -A set Authorization and User-Agent" {
	serve_x
	sent -u alice:secret -A 'probe/1.0'
	[ "$(hdr 1 Authorization)" = "Basic $(printf alice:secret | base64)" ]
	[ "$(hdr 1 User-Agent)" = probe/1.0 ]
	sent --oauth2-bearer tok-123 --user-agent x/2
	[ "$(hdr 2 Authorization)" = 'Bearer tok-123' ]
	[ "$(hdr 2 User-Agent)" = x/2 ]
}

@test "request: --last-event-id is sent on the first request (LD sends Last-Event-Id in initial request if set)" {
	serve_x
	sent --last-event-id abc
	[ "$(hdr 1 Last-Event-ID)" = abc ]
	# -H Last-Event-ID is taken the same way, not sent twice
	sent -H 'Last-Event-ID: xyz'
	[ "$(req 2 "[v for k, v in r['headers'] if k.lower() == 'last-event-id']")" = "['xyz']" ]
}

@test "request: a CR or LF in a value sent in the request head is refused (exit 2, no request), and so is a Last-Event-ID that is not UTF-8" {
	serve_x
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
	lsn_fails 2 "the ID is not valid UTF-8" --no-reconnect -H $'Last-Event-ID: \xff' "$URL"
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
	lsn_prints via-proxy --no-reconnect -f data --proxy "http://127.0.0.1:$PORT" http://sse.example.invalid/events
	[ "$(req 1 'r["path"]')" = http://sse.example.invalid/events ]
}

@test "request: the *_proxy environment variables are used" {
	serve <<'EOF'
send "data: via-env\n\n"
EOF
	run --separate-stderr env http_proxy="http://127.0.0.1:$PORT" \
		timeout -k 5 20 sse listen --no-reconnect -f data http://env.example.invalid/
	assert_success
	assert_output via-env
	[ "$(req 1 'r["path"]')" = http://env.example.invalid/ ]
}

@test "request: https: verified with --cacert, refused without it (exit 3, no retry), -k skips the check" {
	serve --tls <<'EOF'
send "data: secure\n\n"
EOF
	lsn_fails 3 "cannot connect to '$URL'" -f data "$URL"
	lsn_prints secure --no-reconnect -f data --cacert "$T/cert.pem" "$URL"
	lsn_prints secure --no-reconnect -f data -k "$URL"
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
		lsn_prints "after-$code" --no-reconnect -f data "$URL"
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
	lsn_prints $'one\ntwo' -f data "${URL}start"
	[ "$(req 3 'r["path"]')" = /start ]
	[ "$(req 4 'r["path"]')" = /target ]
}

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
	lsn_prints $'opened\nreconnected' -f data "$URL"
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
	lsn_fails 4 "content type ''" "$URL"
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
	lsn_fails 4 "charset=windows-1251" "$URL"
}

@test "response: a compressed body is decoded even when not asked for (as browsers do); no Accept-Encoding without --compressed" {
	local kind
	for kind in gzip deflate; do
		serve <<EOF
header Content-Encoding: $kind
framing close
send $(zipped "$kind" "data: zipped $kind\n\n")
EOF
		lsn_prints "zipped $kind" --no-reconnect -f data "$URL"
		[ "$(hdr 1 Accept-Encoding)" = '<none>' ]
	done
}

@test "request: --compressed asks for a compressed response and decodes it; -H Accept-Encoding is sent as given" {
	serve <<EOF
header Content-Encoding: gzip
framing close
send $(zipped gzip "id: 1\ndata: asked\n\n")
EOF
	lsn_json '{"event":"message","data":"asked","id":"1"}' --no-reconnect --compressed -f json "$URL"
	[[ $(hdr 1 Accept-Encoding) == *gzip* ]]
	[[ $(hdr 1 Accept-Encoding) == *deflate* ]]
	lsn_prints asked --no-reconnect -H 'Accept-Encoding: gzip' -f data "$URL"
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
	lsn_prints finally --retry-on-http-error --retry-delay 0.05 -f data -n 1 "$URL"
	[ "$(nreq)" = 3 ]
	[[ $stderr == *"'$URL' answered HTTP status 503; retrying in"* ]] || fail "$stderr"
	# with --no-reconnect there is nothing to retry: the status is refused
	serve <<'EOF'
status 503 Service Unavailable
EOF
	lsn_fails 4 "HTTP status 503" --no-reconnect --retry-on-http-error "$URL"
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
		lsn_prints $'a\nb' --no-reconnect -f data "$URL"
	done
}

@test "request: a URL without a scheme is taken as http://, as curl does" {
	serve <<'EOF'
send "data: schemeless\n\n"
EOF
	lsn_prints schemeless --no-reconnect -f data "127.0.0.1:$PORT/x"
	[ "$(req 1 'r["path"]')" = /x ]
}

@test "http2: a stream over HTTP/2 and TLS from nghttpd (nghttp2's server), verified, reconnecting" {
	command -v nghttpd >/dev/null || skip "nghttpd (Debian nghttp2-server) is not installed"
	local port
	make_cert
	mkdir -p "$T/www"
	printf 'retry: 10\nid: 7\ndata: over h2\n\n' >"$T/www/stream.sse"
	echo 'text/event-stream sse' >"$T/mime"
	port=$(free_port)
	start_bg nghttpd -d "$T/www" --mime-types-file="$T/mime" -a 127.0.0.1 \
		"$port" "$T/key.pem" "$T/cert.pem"
	wait_port "$port" || fail "nghttpd did not start"
	run --separate-stderr lsn -v --cacert "$T/cert.pem" -f data -n 3 \
		"https://127.0.0.1:$port/stream.sse"
	assert_success
	assert_output $'over h2\nover h2\nover h2'
	[[ $stderr == *"< HTTP/2 200"* ]] || fail "not HTTP/2: $stderr"
	[ "$(grep -c '^\* connecting' <<<"$stderr")" = 3 ]
}
