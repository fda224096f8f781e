#!/usr/bin/env bats
# make install / uninstall honour PREFIX, DESTDIR, BINDIR, MANDIR and the
# completion directories, and uninstall removes what install put there.

setup() {
	load helper
}

@test "install: DESTDIR and PREFIX place the binary, man pages and completions" {
	local d=$BATS_TEST_TMPDIR/stage
	run make -s -C "$ROOT_DIR" install DESTDIR="$d" PREFIX=/opt/sse BIN="$SSE_BIN"
	assert_success
	[ -x "$d/opt/sse/bin/sse" ]
	run "$d/opt/sse/bin/sse" --version
	assert_success
	assert_output --regexp '^sse [0-9]'
	local m
	for m in "$ROOT_DIR"/man/*.1; do
		[ -f "$d/opt/sse/share/man/man1/$(basename "$m")" ] || fail "missing $m"
	done
	[ -f "$d/opt/sse/share/bash-completion/completions/sse" ]
	[ -f "$d/opt/sse/share/zsh/site-functions/_sse" ]
	[ -f "$d/opt/sse/share/fish/vendor_completions.d/sse.fish" ]
	run make -s -C "$ROOT_DIR" uninstall DESTDIR="$d" PREFIX=/opt/sse
	assert_success
	run find "$d" -type f
	assert_output ''
}

@test "install: BINDIR, MANDIR and completion directories override PREFIX" {
	local d=$BATS_TEST_TMPDIR/stage
	run make -s -C "$ROOT_DIR" install DESTDIR="$d" BIN="$SSE_BIN" \
		BINDIR=/b MANDIR=/m BASHCOMPDIR=/cb ZSHCOMPDIR=/cz FISHCOMPDIR=/cf
	assert_success
	[ -x "$d/b/sse" ]
	[ -f "$d/m/man1/sse.1" ]
	[ -f "$d/m/man1/sse-listen.1" ]
	[ -f "$d/cb/sse" ] && [ -f "$d/cz/_sse" ] && [ -f "$d/cf/sse.fish" ]
	run make -s -C "$ROOT_DIR" uninstall DESTDIR="$d" \
		BINDIR=/b MANDIR=/m BASHCOMPDIR=/cb ZSHCOMPDIR=/cz FISHCOMPDIR=/cf
	assert_success
	run find "$d" -type f
	assert_output ''
}

@test "install: the installed man pages render and the bash completion works" {
	local d=$BATS_TEST_TMPDIR/stage
	make -s -C "$ROOT_DIR" install DESTDIR="$d" PREFIX=/usr BIN="$SSE_BIN"
	run mandoc -Tascii "$d/usr/share/man/man1/sse-serve.1"
	assert_success
	assert_output --partial 'SSE-SERVE(1)'
	run bash -c "source '$d/usr/share/bash-completion/completions/sse'
		COMP_WORDS=(sse listen --unt); COMP_CWORD=2; _sse
		printf '%s\n' \"\${COMPREPLY[@]}\""
	assert_success
	assert_output -- '--until'
}
