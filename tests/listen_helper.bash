# Helpers for the sse listen suites (listen_*.bats): a scripted test server
# and what it logged, and the repeated shapes of a listen test.
# shellcheck shell=bash disable=SC2154,SC2034,SC2119,SC2120,SC2317

T=$BATS_TEST_TMPDIR

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
		lsn_prints ok --no-reconnect -f data "$URL"
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

# lsn ARGS...: sse listen ARGS, bounded in time.
lsn() {
	timeout -k 5 20 sse listen "$@"
}

# evs ARGS...: sse listen -f json ARGS, each event printed as a JSON
# array [type, data, lastEventId]; the exit status is sse's.
evs() {
	local rc=0
	timeout -k 5 20 sse listen -f json "$@" >"$T/json" 2>"$T/err" || rc=$?
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

# zipped KIND TEXT: a Python bytes literal of TEXT (backslash escapes as in
# Python) compressed as gzip or deflate (zlib format, as HTTP's deflate is).
zipped() {
	python3 -c 'import codecs, gzip, sys, zlib
b = codecs.decode(sys.argv[2], "unicode_escape").encode()
print(repr(gzip.compress(b) if sys.argv[1] == "gzip" else zlib.compress(b)))' "$1" "$2"
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

# lsn_prints EXPECTED ARGS...: sse listen ARGS succeeds and prints EXPECTED
# on stdout ($stderr is left for the caller).
lsn_prints() {
	run --separate-stderr lsn "${@:2}"
	[ "$status" = 0 ] || fail "exit $status, stdout: $output; stderr: $stderr"
	assert_output "$1"
}

# lsn_json OUTPUT ARGS...: as lsn_prints, for -f json: each event's time
# member checked and taken out first (untimed).
lsn_json() {
	run --separate-stderr lsn "${@:2}"
	[ "$status" = 0 ] || fail "exit $status, stdout: $output; stderr: $stderr"
	untime_output
	assert_output "$1"
}

# untimed_if FORMAT FILE: FILE untimed in place when FORMAT is json.
untimed_if() {
	[ "$1" = json ] || return 0
	untimed <"$2" >"$2.untimed" || fail "$2: json lines without a time"
	mv "$2.untimed" "$2"
}

# lsn_fails STATUS MESSAGE ARGS...: sse listen ARGS exits STATUS and says
# MESSAGE (a substring) on stderr.
lsn_fails() {
	run --separate-stderr lsn "${@:3}"
	assert_failure "$1"
	[[ $stderr == *"$2"* ]] || fail "no '$2' in: $stderr"
}

# lsn_exits STATUS OUT ARGS...: sse listen ARGS, stdout to OUT (a fifo, say)
# and stderr to $T/err, exits STATUS.
lsn_exits() {
	local rc=0
	lsn "${@:3}" >"$2" 2>"$T/err" || rc=$?
	[ "$rc" = "$1" ] || fail "exit $rc, not $1: $(cat "$T/err")"
}

# serve_x: a server whose every answer is one event, "x"; for the tests of
# what the request looks like.
serve_x() {
	serve <<<'send "data: x\n\n"'
}

# sent ARGS...: sse listen --no-reconnect ARGS $URL succeeds (the request
# is then in $T/requests).
sent() {
	run lsn --no-reconnect "$@" "$URL"
	assert_success
}

# delays: the delays (s) in the "retrying in" warnings on $stderr.
delays() {
	grep -o 'retrying in [0-9.]*' <<<"$stderr" | awk '{print $3}'
}

# bg_lsn OUT ARGS...: sse listen ARGS in the background, stdout to OUT and
# stderr to $T/err; sets LSN to its PID (stopped in teardown).
bg_lsn() {
	start_bg sse listen "${@:2}" >"$1" 2>"$T/err"
	LSN=$BG_PID
}

# killed_with SIG STATUS: SIG to the bg_lsn process ends it (within 5 s,
# even while it is blocked writing) with exit status STATUS.
killed_with() {
	local rc=0 tries=100
	kill -"$1" "$LSN"
	while kill -0 "$LSN" 2>/dev/null; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "sse did not end on SIG$1"
		sleep 0.05
	done
	wait "$LSN" || rc=$?
	[ "$rc" = "$2" ] || fail "SIG$1: exit $rc, not $2"
}
