#!/usr/bin/env bats
# sse serve, the reviewer's findings (/work/wt/review.md numbers in the
# names): sse-serve(1)'s examples work as written and name only what
# exists, a command that cannot run is not announced, and no secret needs
# to be on the command line.

setup() {
	load helper
	T=$BATS_TEST_TMPDIR
}

# example FIRST-LINE: the literal block after the paragraph of
# sse-serve(1) that starts so, as a shell script.
example() {
	sed -n "/^$1/,/^\\.Ed/p" "$ROOT_DIR/man/sse-serve.1" |
		sed '1,/^\.Bd/d; /^\.Ed/d; s/\\e/\\/g'
}

@test "sse-serve(1): the fixture recipe works as written (#1)" {
	example 'A fixture for the tests' >"$T/ex.sh"
	[ -s "$T/ex.sh" ]
	printf 'one\ntwo\n' >"$T/fixture.txt"
	cd "$T"
	# timeout stops the recipe's whole process group if it hangs
	run timeout 20 bash ex.sh 3>&-
	assert_success
	assert_output "$(printf 'one\ntwo')"
}

@test "sse-serve(1): DESCRIPTION names only serve's options, EXAMPLES no /var/log/syslog (#2, #3)" {
	local help opt
	help=$(sse serve --help)
	for opt in $(sed -n '/^\.Sh DESCRIPTION/,/^\.Ss/p' "$ROOT_DIR/man/sse-serve.1" |
		sed -n 's/.*Fl \([-A-Za-z0-9]*\).*/-\1/p'); do
		grep -q -- "$opt\b" <<<"$help" || fail "sse-serve(1) DESCRIPTION names $opt, which sse serve --help does not have"
	done
	run grep -c '/var/log/syslog' "$ROOT_DIR/man/sse-serve.1"
	assert_output 0
}

@test "serve: a command that cannot run: the error, no URL announced (#23)" {
	run -1 sse serve -p 0 -- nosuchcmd-sse-test
	assert_output --partial "cannot run 'nosuchcmd-sse-test'"
	refute_output --partial 'serving'
	refute_output --partial 'events at'
}

# code [CURL ARGS...] PATH: the HTTP status of a request to the server.
code() {
	local path=${*: -1}
	curl -s -o /dev/null -w '%{http_code}' --max-time 3 "${@:1:$#-1}" "http://127.0.0.1:$PORT$path" || true
}

# srv ARGS...: `sse serve -p 0 ARGS` (stdin kept open); sets PORT. A
# stream starts with --retry, so its head is sent at once.
srv() {
	: >"$T/err" # not the last server's line
	start_bg bash -c "sleep 60 | sse serve -p 0 --retry 100 $* 2>'$T/err'"
	wait_file "$T/err" 'sse: serving' || fail "$(cat "$T/err")"
	PORT=$(sed -n 's|^sse: serving http://127.0.0.1:\([0-9]*\)/$|\1|p' "$T/err")
}

@test "serve: --token-file, --metrics-token-file and \$SSE_METRICS_TOKEN: no token on the command line (#19)" {
	printf 'sub-secret\n' >"$T/tok"
	printf 'scrape-secret\r\n' >"$T/mtok"
	srv --token-file "$T/tok" --metrics-token-file "$T/mtok"
	run code /events
	assert_output 401
	run code -H 'Authorization: Bearer sub-secret' /events
	[ "$output" = 200 ] || fail "$(cat "$T/err")"
	assert_output 200
	run code -H 'Authorization: Bearer sub-secret' /metrics
	assert_output 401
	run code -H 'Authorization: Bearer scrape-secret' /metrics
	assert_output 200
	run code -H 'Authorization: Bearer scrape-secret' /events
	assert_output 401
	refute [ -n "$(grep -l secret "$T/err")" ] # never printed
	stop_bg
	SSE_METRICS_TOKEN=env-scrape srv --token-file "$T/tok"
	run code -H 'Authorization: Bearer env-scrape' /metrics
	assert_output 200
	run code -H 'Authorization: Bearer env-scrape' /events
	assert_output 401
}

@test "serve: --token-file: a missing or empty file, or the token given twice, is a usage error (#19)" {
	run -2 sse serve -p 0 --token-file "$T/none" </dev/null
	assert_output --partial "--token-file: cannot open '$T/none'"
	: >"$T/empty"
	run -2 sse serve -p 0 --metrics-token-file "$T/empty" </dev/null
	assert_output --partial "--metrics-token-file: no token in '$T/empty'"
	printf 'x\n' >"$T/tok"
	run -2 sse serve -p 0 --token y --token-file "$T/tok" </dev/null
	assert_output --partial '--token-file: the token is given twice (--token too)'
}
