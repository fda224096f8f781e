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
