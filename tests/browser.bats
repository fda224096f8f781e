#!/usr/bin/env bats
# sse serve in a real browser: Debian's Chromium, headless, driven by
# playwright-core (tests/browser: package.json and its lock file; `npm ci`
# brings node_modules when it is missing). The driver is tests/browser/run.mjs.

setup_file() {
	local dir
	dir="$(cd "$(dirname "$BATS_TEST_FILENAME")" && pwd)/browser"
	if [ ! -d "$dir/node_modules/playwright-core" ]; then
		(cd "$dir" && timeout 300 npm ci --no-audit --no-fund >&2)
	fi
}

setup() {
	load helper
	load serve_helper
	serve_setup
	[ -x /usr/bin/chromium ] || fail "no /usr/bin/chromium (tools/deps.sh test)"
	DRIVER=$TESTS_DIR/browser/run.mjs
}

@test "browser: the viewer shows the lines fed to stdin, filters, honours ?token=" {
	serve --event log --token s3cret
	feed alpha beta '{"nested":[1,2]}' gamma
	local shot=$BATS_TEST_TMPDIR/viewer.png
	run timeout 90 node "$DRIVER" viewer "${URL}?token=s3cret" "$shot"
	echo "$output"
	assert_success
	assert_output --partial '"ok":true'
	assert_output --partial '"lastId":"4"'
	[ -s "$shot" ]
	# Keep the picture for people to look at (e.g. in CI artefacts).
	cp "$shot" "$ROOT_DIR/build/viewer.png" 2>/dev/null || true
}

@test "browser: Chromium's EventSource gets custom types and resumes after a restart" {
	local port flag=$BATS_TEST_TMPDIR/have3 out=$BATS_TEST_TMPDIR/es.json
	port=$(free_port)
	# A reconnection time long enough that the restarted server below has
	# been fed before Chromium comes back: otherwise it may resume from a
	# server that does not know id 3 yet, and be sent everything again.
	serve --input json --retry 1000 -p "$port"
	printf '%s\n' '{"id":1,"data":"one"}' \
		'{"id":2,"event":"build","data":{"step":2}}' \
		'{"id":3,"data":"three"}' >&8
	start_bg timeout 90 node "$DRIVER" eventsource "$URL" "$flag" >"$out"
	local node=$BG_PID
	wait_file "$flag" 'have 3' 600 || fail "the page never got id 3"
	# The server goes away (its streams end) and comes back with more.
	kill -TERM "$SRV"
	wait_exit "$SRV"
	exec 8>&-
	rm -f "$IN"
	mkfifo "$IN"
	serve --input json --retry 1000 -p "$port"
	printf '%s\n' '{"id":1,"data":"one"}' \
		'{"id":2,"event":"build","data":{"step":2}}' \
		'{"id":3,"data":"three"}' '{"id":4,"data":"four"}' \
		'{"id":5,"event":"done","data":""}' >&8
	wait_exit "$node" 600
	# shellcheck disable=SC2153
	cat "$out"
	[ "$WAITED" -eq 0 ] || fail "driver exit $WAITED"
	grep -q '"ok":true' "$out"
}
