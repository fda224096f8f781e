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
	assert_output --partial "\"lastId\":\"$E-4\""
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

@test "browser: the viewer runs no script from ids, types or data and shows them verbatim" {
	serve --input json
	# Each field tries to leave its attribute or element (QA: an id broke
	# out of title="..." and ran onfocus).
	local id1='a" tabindex="0" autofocus onfocus="document.body.dataset.pwned=1'
	local ty2='<img src=x onerror="document.body.dataset.pwned=2">'
	local d3='</pre><img src=x onerror=document.body.dataset.pwned=3>'
	local id4="b' onmouseover='window.pwned=4"
	jq -cn --arg i "$id1" '{id:$i,data:"x"}' >&8
	jq -cn --arg t "$ty2" '{event:$t,data:"y"}' >&8
	jq -cn --arg d "$d3" '{data:$d}' >&8
	jq -cn --arg i "$id4" \
		'{id:$i,data:{"<img src=x onerror=window.pwned=5>":"</span><script>window.pwned=6</script>"}}' >&8
	run timeout 90 node "$DRIVER" hostile "$URL" 4
	echo "$output"
	assert_success
	assert_output --partial '"ok":true'
	assert_output --partial '"pwned":null'
	local rows
	rows=$(jq -c '.rows' <<<"$output")
	[ "$(jq -r '.[0].id' <<<"$rows")" = "$id1" ]
	[ "$(jq -r '.[0].title' <<<"$rows")" = "$id1" ]
	[ "$(jq -r '.[1].type' <<<"$rows")" = "$ty2" ]
	[ "$(jq -r '.[2].data' <<<"$rows")" = "$d3" ]
	[ "$(jq -r '.[3].id' <<<"$rows")" = "$id4" ]
	[ "$(jq -r '.lastId' <<<"$output")" = "$id4" ]
	jq -e '.[3].data | contains("\"<img src=x onerror=window.pwned=5>\": \"</span><script>window.pwned=6</script>\"")' <<<"$rows"
	# No element came from event content: time, type (td+span), id
	# (td+span), and the data cell (td+pre), plus the JSON colouring spans
	# in row 4.
	[ "$(jq -r '.[0].elements' <<<"$rows")" -eq 7 ]
	[ "$(jq -r '.[2].elements' <<<"$rows")" -eq 7 ]
	[ "$(jq -r '.[3].elements' <<<"$rows")" -eq 9 ]
}

@test "browser: the viewer shows ANSI colours in data as styles, other control characters escaped" {
	serve
	printf '\033[31mred\033[0m plain\n\033[1;38;5;208mbold orange\nx\033[2Jy\n' >&8
	local shot=$BATS_TEST_TMPDIR/colors.png
	run timeout 90 node "$DRIVER" colors "$URL" "$shot"
	echo "$output"
	assert_success
	assert_output --partial '"ok":true'
	[ -s "$shot" ]
	cp "$shot" "$ROOT_DIR/build/viewer-colors.png" 2>/dev/null || true
}

@test "browser: EventSource follows two topics on one connection; the viewer shows topics and its picker narrows" {
	serve --publish
	curl -sf -d a1 "http://127.0.0.1:$PORT/events/a" >/dev/null
	curl -sf -d b1 "http://127.0.0.1:$PORT/events/b?event=note" >/dev/null
	curl -sf -d a2 "http://127.0.0.1:$PORT/events/a" >/dev/null
	run timeout 90 node "$DRIVER" topics "$URL" -
	echo "$output"
	assert_success
	assert_output --partial '"ok":true'
}
