#!/usr/bin/env bats
# The command-line surface shared by every command: help, version, usage
# errors and their exit status (2).

setup() {
	load helper
}

@test "cli: --help and -h print the commands on stdout and exit 0" {
	for flag in --help -h; do
		run --separate-stderr sse "$flag"
		assert_success
		assert_line --partial 'usage: sse'
		assert_line --regexp '^  listen +'
		assert_line --regexp '^  serve +'
		assert_line --regexp '^  replay +'
		[ -z "$stderr" ]
	done
}

@test "cli: --version and -V print the version of sse and of the libraries it runs with" {
	local want
	want=$(cd "$ROOT_DIR" && tools/version "$(sed -n 's/^BASE_VERSION *= *//p' Makefile)")
	for flag in --version -V; do
		run --separate-stderr sse "$flag"
		assert_success
		[ "${#lines[@]}" = 5 ] || fail "$output"
		[ "${lines[0]}" = "sse $want" ] || fail "${lines[0]}, not sse $want"
		assert_line --index 1 --regexp '^libcurl [0-9][0-9.]*, TLS [^ ]+, HTTP/2 (yes|no)'
		assert_line --index 2 --regexp '^libmicrohttpd [0-9][0-9.]*, TLS (yes|no)$'
		assert_line --index 3 --regexp '^jansson [0-9][0-9.]*$'
		assert_line --index 4 --regexp '^hiredis [0-9]+\.[0-9]+\.[0-9]+$'
		[ -z "$stderr" ]
	done
	# the libraries it runs with, as they say themselves
	[[ ${lines[1]} == "libcurl $(curl-config --version 2>/dev/null | cut -d' ' -f2)"* ]] ||
		! command -v curl-config >/dev/null || fail "${lines[1]}"
	[[ ${lines[2]} == "libmicrohttpd $(pkg-config --modversion libmicrohttpd)"* ]] ||
		fail "${lines[2]}"
	[ "${lines[3]}" = "jansson $(pkg-config --modversion jansson)" ]
	[ "${lines[4]}" = "hiredis $(pkg-config --modversion hiredis)" ]
}

@test "cli: output that cannot be written is exit 1 with a message (closed stdout, a full disk)" {
	run --separate-stderr bash -c 'sse --help >&-'
	assert_failure 1
	[ "$stderr" = "sse: cannot write to stdout: Bad file descriptor" ]
	if [ -w /dev/full ]; then
		run --separate-stderr bash -c 'sse --version >/dev/full'
		assert_failure 1
		[ "$stderr" = "sse: cannot write to stdout: No space left on device" ]
	fi
}

@test "cli: no command is a usage error (exit 2, usage on stderr)" {
	run --separate-stderr sse
	assert_failure 2
	assert_output ''
	[[ $stderr == *"usage: sse"* ]]
}

@test "cli: unknown command exits 2 and names it" {
	run --separate-stderr sse frobnicate
	assert_failure 2
	[[ $stderr == *"unknown command 'frobnicate'"* ]]
	[[ $stderr == *"usage: sse"* ]]
}

@test "cli: a mistyped command gets a suggestion, a far one none" {
	run --separate-stderr sse lisen
	assert_failure 2
	[[ $stderr == *"unknown command 'lisen' (did you mean 'listen'?)"* ]]
	run --separate-stderr sse frobnicate
	[[ $stderr != *"did you mean"* ]]
}

@test "cli: unknown global option exits 2 and names it" {
	run --separate-stderr sse --frob
	assert_failure 2
	[[ $stderr == *"unknown option '--frob'"* ]]
}

@test "cli: help CMD and CMD --help print the same text" {
	for cmd in listen serve replay; do
		run sse help "$cmd"
		assert_success
		local a=$output
		run sse "$cmd" --help
		assert_success
		[ "$a" = "$output" ]
		assert_line --partial "usage: sse $cmd"
	done
}

@test "cli: help of an unknown command exits 2" {
	run --separate-stderr sse help nope
	assert_failure 2
	[[ $stderr == *"unknown command 'nope'"* ]]
}

@test "cli: an unknown option of a command exits 2 with its usage" {
	for cmd in listen serve replay; do
		run --separate-stderr sse "$cmd" --no-such-option
		assert_failure 2
		[[ $stderr == *"usage: sse $cmd"* ]] || fail "$cmd: $stderr"
	done
}

@test "cli: a closed stdout is not an error for --help" {
	run bash -c 'sse --help | head -c1 >/dev/null; echo "${PIPESTATUS[0]}"'
	assert_success
	assert_output 0
}
