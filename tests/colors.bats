#!/usr/bin/env bats
# ANSI SGR colours in event data: `sse listen -f pretty` passes them
# through on a terminal (script(1) gives it one) and escapes every other
# control character; without colours they stay escaped. The viewer's side
# is in browser.bats.

setup() {
	load helper
	load serve_helper
	serve_setup
}

# on_tty CMD: run CMD with a pseudo-terminal as its stdout, colours on.
on_tty() {
	script -qec "env -u NO_COLOR TERM=xterm $*" /dev/null </dev/null
}

@test "colours: listen -f pretty on a terminal passes SGR through, resets, escapes the rest" {
	serve
	feed_sync "$(printf '\033[31mred\033[0m plain')" "$(printf '\033[1;32mPASSED')" \
		"$(printf 'x\033[2Jy\033]0;title\007')" end
	run on_tty sse listen -n 4 -f pretty "http://127.0.0.1:$PORT/events"
	assert_success
	# ESC as a byte: the SGR sequences; as text: the rest.
	assert_output --partial "$(printf '  \033[31mred\033[0m plain')"
	assert_output --partial "$(printf '  \033[1;32mPASSED\033[0m')"
	refute_output --partial "$(printf '\033[2J')"
	refute_output --partial "$(printf '\033]0;')"
	assert_output --partial '\x1B'
	assert_output --partial '[2Jy'
}

@test "colours: without a terminal (or with NO_COLOR) SGR stays escaped" {
	serve
	feed_sync "$(printf '\033[31mred')" end
	run sse listen -n 2 -f pretty "http://127.0.0.1:$PORT/events"
	assert_success
	assert_output --partial '  \x1B[31mred'
	refute_output --partial "$(printf '\033[31m')"
}
