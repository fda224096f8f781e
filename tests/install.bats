#!/usr/bin/env bats
# make install / uninstall honour PREFIX, DESTDIR, BINDIR, MANDIR and the
# completion directories, and uninstall removes what install put there;
# make install strips the binary; make dist makes a versioned tarball.

setup() {
	load helper
}

# mk ARGS...: make ARGS in the tree, with the binary under test as BIN,
# never rebuilt (-o): the suite tests the binary it was given.
mk() {
	make -s -C "$ROOT_DIR" -o "$SSE_BIN" BIN="$SSE_BIN" "$@"
}

@test "install: DESTDIR and PREFIX place the binary, man pages and completions" {
	local d=$BATS_TEST_TMPDIR/stage
	run mk install DESTDIR="$d" PREFIX=/opt/sse
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
	run mk uninstall DESTDIR="$d" PREFIX=/opt/sse
	assert_success
	run find "$d" -type f
	assert_output ''
}

@test "install: BINDIR, MANDIR and completion directories override PREFIX" {
	local d=$BATS_TEST_TMPDIR/stage
	run mk install DESTDIR="$d" \
		BINDIR=/b MANDIR=/m BASHCOMPDIR=/cb ZSHCOMPDIR=/cz FISHCOMPDIR=/cf
	assert_success
	[ -x "$d/b/sse" ]
	[ -f "$d/m/man1/sse.1" ]
	[ -f "$d/m/man1/sse-listen.1" ]
	[ -f "$d/cb/sse" ] && [ -f "$d/cz/_sse" ] && [ -f "$d/cf/sse.fish" ]
	run mk uninstall DESTDIR="$d" \
		BINDIR=/b MANDIR=/m BASHCOMPDIR=/cb ZSHCOMPDIR=/cz FISHCOMPDIR=/cf
	assert_success
	run find "$d" -type f
	assert_output ''
}

@test "install: the installed man pages render and the bash completion works" {
	local d=$BATS_TEST_TMPDIR/stage
	mk install DESTDIR="$d" PREFIX=/usr
	run mandoc -Tascii "$d/usr/share/man/man1/sse-serve.1"
	assert_success
	assert_output --partial 'SSE-SERVE(1)'
	run bash -c "source '$d/usr/share/bash-completion/completions/sse'
		COMP_WORDS=(sse listen --idle-t); COMP_CWORD=2; _sse
		printf '%s\n' \"\${COMPREPLY[@]}\""
	assert_success
	assert_output -- '--idle-timeout'
}

# sections FILE: the names of FILE's ELF sections, one a line.
sections() {
	readelf -SW "$1" | sed -n 's/^ *\[ *[0-9]*\] \([^ ]*\).*/\1/p'
}

@test "install: the installed binary is stripped (the built one keeps its debug information); INSTALL_STRIP= keeps it as built" {
	local d=$BATS_TEST_TMPDIR/stage
	sections "$SSE_BIN" | grep -qx .debug_info || skip "$SSE_BIN has no debug information"
	mk install DESTDIR="$d" PREFIX=/usr
	run sections "$d/usr/bin/sse"
	assert_success
	refute_line .debug_info
	refute_line .symtab
	assert_line .text
	run "$d/usr/bin/sse" --version
	assert_success
	mk install DESTDIR="$d" PREFIX=/usr INSTALL_STRIP=
	cmp "$SSE_BIN" "$d/usr/bin/sse"
}

@test "dist: a tarball of HEAD named after the version, whose VERSION file keeps it" {
	command -v git >/dev/null && git -C "$ROOT_DIR" rev-parse HEAD >/dev/null 2>&1 ||
		skip "not a git checkout"
	local d=$BATS_TEST_TMPDIR v
	v=$(cd "$ROOT_DIR" && tools/version "$(sed -n 's/^BASE_VERSION *= *//p' Makefile)")
	v=${v%-dirty}
	run mk dist DISTDIR="$d"
	assert_success
	[ -f "$d/sse-$v.tar.gz" ] || fail "$(ls "$d")"
	tar -xzf "$d/sse-$v.tar.gz" -C "$d"
	[ "$(cat "$d/sse-$v/VERSION")" = "$v" ]
	# what git holds at HEAD, and that VERSION
	diff <(git -C "$ROOT_DIR" ls-tree -r --name-only HEAD | sort) \
		<(cd "$d/sse-$v" && find . -type f | sed 's|^\./||' | grep -vx VERSION | sort)
	# out of git, the version is the tarball's
	run "$d/sse-$v/tools/version" 9.9.9
	assert_output "$v"
}

@test "dist: a DISTDIR that does not exist is made; one that cannot be is named" {
	command -v git >/dev/null && git -C "$ROOT_DIR" rev-parse HEAD >/dev/null 2>&1 ||
		skip "not a git checkout"
	local d=$BATS_TEST_TMPDIR
	run mk dist DISTDIR="$d/new/dir"
	assert_success
	compgen -G "$d/new/dir/sse-*.tar.gz" >/dev/null || fail "$(ls -R "$d/new")"
	run mk dist DISTDIR="$d/with space"
	assert_success
	compgen -G "$d/with space/sse-*.tar.gz" >/dev/null || fail "$(ls -R "$d")"
	: >"$d/file"
	run mk dist DISTDIR="$d/file/dir"
	assert_failure
	assert_line "make dist: cannot create DISTDIR '$d/file/dir'"
	refute_output --partial fatal:
}
