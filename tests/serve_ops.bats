#!/usr/bin/env bats
# sse serve for operators: GET /metrics (parsed by prometheus_client's own
# parser), GET /healthz, both behind the token when there is one.

setup() {
	load helper
	load serve_helper
	serve_setup
}

# prom PATH [CURL ARGS...]: the samples of GET PATH as prom_check.py prints them.
prom() {
	local path=$1
	shift
	curl -sf --max-time 10 "$@" "http://127.0.0.1:$PORT$path" |
		/usr/bin/python3 "$TESTS_DIR/prom_check.py"
}

@test "ops: /healthz answers ok, /metrics parses as Prometheus text and counts" {
	serve
	run curl -s -D - --max-time 10 "http://127.0.0.1:$PORT/healthz"
	assert_line --partial 'HTTP/1.1 200'
	assert_line --regexp '^Content-Type: application/json'
	assert_line '{"status":"ok"}'
	run curl -s -D - -o /dev/null --max-time 10 "http://127.0.0.1:$PORT/metrics"
	assert_line --regexp '^Content-Type: text/plain; version=0.0.4; charset=utf-8'
	bg_get "$BATS_TEST_TMPDIR/a" /events
	feed_sync one two three
	run prom /metrics
	assert_success
	assert_line 'sse_clients{} 2 gauge'
	assert_line --regexp '^sse_connections_total\{\} [0-9]+ counter$'
	assert_line --regexp '^sse_bytes_out_total\{\} [1-9][0-9]* counter$'
	assert_line 'sse_clients_dropped_total{} 0 counter'
	assert_line --regexp '^sse_requests_total\{\} [0-9]+ counter$'
}

@test "ops: with --token, /metrics and /healthz need it" {
	serve --token s3cret
	run curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$PORT/metrics"
	assert_output 401
	run curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$PORT/healthz"
	assert_output 401
	run prom /metrics -H 'Authorization: Bearer s3cret'
	assert_success
	assert_line 'sse_clients{} 0 gauge'
	run curl -s --max-time 10 "http://127.0.0.1:$PORT/healthz?token=s3cret"
	assert_output '{"status":"ok"}'
}

@test "ops: the start says where the stream is, and how to connect with a token" {
	serve --token s3cret
	run cat "$ERR"
	assert_line "sse: events at ${URL}events, the viewer at $URL"
	assert_line "sse: with the token: sse listen -H 'Authorization: Bearer TOKEN' ${URL}events, or $URL?token=TOKEN in a browser"
	refute_output --partial s3cret
}

@test "ops: sse_events_out_total counts the events each client took whole" {
	serve
	feed a b c
	local tries=100
	until curl -sf --max-time 1 "http://127.0.0.1:$PORT/metrics" | grep -q '^sse_events_in_total 3$'; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "the events never came in"
		sleep 0.05
	done
	MAXT=0.5 get /events >/dev/null || true
	MAXT=0.5 get -H "Last-Event-ID: $E-1" /events >/dev/null || true
	run prom /metrics
	assert_line 'sse_events_out_total{} 5 counter'
}
