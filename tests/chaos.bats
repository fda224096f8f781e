#!/usr/bin/env bats
# Fault injection: sse listen reaches its server through tests/chaos_proxy.py,
# which cuts connections with a reset (RST) or a clean close (FIN) at random
# places in what the server sends: inside the response head, anywhere in the
# body, inside the chunked framing, inside a multi-byte UTF-8 sequence. The
# client reconnects with Last-Event-ID each time, and in the end has every
# event exactly once, in order, byte for byte what a connection that was
# never cut gives.

setup() {
	load helper
	T=$BATS_TEST_TMPDIR
	N=30000
	# N lines of data, one event each: characters of 1 to 4 bytes in
	# UTF-8, so that many cuts split one, quotes and backslashes, lengths
	# from a few bytes to a few hundred
	python3 - "$N" >"$T/in" <<'PY'
import random, sys
r = random.Random(7)
parts = ["é", "€", "𝄞", "日本語", "ascii", '"q"', "\\", "\t", "x" * 40]
for i in range(1, int(sys.argv[1]) + 1):
    print(i, "".join(r.choice(parts) for _ in range(r.randrange(1, 12))))
PY
}

# server NAME INPUT CMD...: start a server CMD (sse serve or sse replay
# --serve, on port 0) reading INPUT; sets URL and UP, its port.
server() {
	local name=$1 input=$2
	shift 2
	# not start_bg: a background command's stdin is /dev/null unless the
	# command itself redirects it
	"$@" <"$input" 2>"$T/$name.err" 3>&- &
	BG_PIDS+=("$!")
	wait_file "$T/$name.err" 'serving http' || fail "$(cat "$T/$name.err")"
	URL=$(sed -n 's/.*serving \(http[^ ]*\)$/\1/p' "$T/$name.err")
	UP=${URL##*:}
	UP=${UP%/}
}

# proxy WHERE SEED: start the proxy to UP, cutting 80 connections (see
# tests/chaos_proxy.py); sets PURL, the stream's URL through it.
proxy() {
	: >"$T/pport"
	: >"$T/cuts"
	start_bg python3 "$TESTS_DIR/chaos_proxy.py" --seed "$2" --cuts 80 \
		--where "$1" --log "$T/cuts" "$UP" >"$T/pport"
	wait_file "$T/pport" . || fail "the proxy did not start"
	PURL=http://127.0.0.1:$(cat "$T/pport")/events
}

# reference: the N events read on a connection that is not cut: in
# $T/want (raw), after checking them against the input, line by line.
reference() {
	timeout -k 5 60 sse listen -n "$N" "${URL}events" >"$T/want"
	timeout -k 5 60 sse listen -n "$N" -f json "${URL}events" >"$T/want.json"
	python3 - "$T/in" "$T/want.json" <<'PY'
import json, sys
want = open(sys.argv[1], encoding="utf-8").read().split("\n")[:-1]
got = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert len(got) == len(want), (len(got), len(want))
for i, (w, g) in enumerate(zip(want, got), 1):
    # serve's ids are EPOCH-N
    assert g["id"].endswith("-" + str(i)) and g["data"] == w, (i, w, g)
PY
}

# through: sse listen through the proxy gets the reference, byte for
# byte, and the proxy cut at least CUTS connections of each KIND given.
through() {
	local rc=0 kind
	timeout -k 5 100 sse listen -n "$N" --retry-delay 0.01 --retry-max-delay 0.1 \
		"$PURL" >"$T/got" 2>"$T/got.err" || rc=$?
	[ "$rc" = 0 ] || fail "exit $rc after $(wc -l <"$T/cuts") cuts: $(tail -3 "$T/got.err")"
	cmp "$T/want" "$T/got" || fail "$(wc -l <"$T/cuts") cuts: $(tail -3 "$T/cuts")"
	[ "$(grep -c ' rst ' "$T/cuts")" -ge 5 ] || fail "$(cat "$T/cuts")"
	[ "$(grep -c ' fin ' "$T/cuts")" -ge 5 ] || fail "$(cat "$T/cuts")"
	for kind in "$@"; do
		[ "$(grep -c " $kind\$" "$T/cuts")" -ge 5 ] || fail "few $kind cuts: $(cat "$T/cuts")"
	done
}

@test "chaos: sse serve, cut in the body, the chunk framing and UTF-8 sequences: every event once, in order, byte for byte" {
	server serve "$T/in" sse serve -p 0 --no-viewer --backlog "$N"
	reference
	proxy body 1
	through body framing utf8
}

@test "chaos: sse replay --serve, cut in the body, the chunk framing and UTF-8 sequences: every event once, in order, byte for byte" {
	server serve "$T/in" sse serve -p 0 --no-viewer --backlog "$N"
	reference
	timeout -k 5 60 sse listen -n "$N" --record "$T/rec.jsonl" "${URL}events" >/dev/null
	stop_bg
	server replay /dev/null sse replay --serve --no-delay -p 0 --no-viewer "$T/rec.jsonl"
	proxy body 2
	through body framing utf8
}

@test "chaos: sse serve, cut anywhere, inside response heads too: every event once, in order, byte for byte" {
	server serve "$T/in" sse serve -p 0 --no-viewer --backlog "$N"
	reference
	proxy any 3
	through head body framing utf8
}
