#!/usr/bin/env bats
# The Debian package (debian/): built once with dpkg-buildpackage from a
# copy of the tree outside it (dpkg-buildpackage writes into ..), checked
# with lintian, unpacked into a scratch root (dpkg -x), and run from there.

# Building takes longer than one ordinary test may.
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT_PACKAGE:-300}

setup_file() {
	load helper
	command -v dpkg-buildpackage >/dev/null || skip "dpkg-buildpackage is not installed"
	local d=$BATS_FILE_TMPDIR src
	src=$d/sse
	mkdir -p "$src"
	# the tree as it is, uncommitted changes included, without what a
	# build left in it
	if git -C "$ROOT_DIR" rev-parse --show-toplevel >/dev/null 2>&1; then
		(cd "$ROOT_DIR" && git ls-files -co --exclude-standard -z |
			tar --null -T - -cf -) | tar -xf - -C "$src"
	else
		(cd "$ROOT_DIR" && tar --exclude='./build*' --exclude=./sse -cf - .) |
			tar -xf - -C "$src"
	fi
	(cd "$ROOT_DIR" && tools/version "$(sed -n 's/^BASE_VERSION *= *//p' Makefile)") \
		>"$src/VERSION"
	# Not the suite's own make: under make check-san, SAN=1 (in MAKEFLAGS
	# and the environment), and the package would be built (and its unit
	# tests looked for) in build-san.
	(cd "$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SAN -u BUILD -u BIN \
		DEB_BUILD_OPTIONS=parallel=2 timeout 600 \
		dpkg-buildpackage -us -uc -b) >"$d/build.log" 2>&1 || {
		tail -30 "$d/build.log" >&2
		return 1
	}
	DEB=$(echo "$d"/sse_*.deb)
	dpkg -x "$DEB" "$d/root"
	export DEB
}

setup() {
	load helper
	D=$BATS_FILE_TMPDIR
	R=$D/root
	[ -f "$DEB" ] || fail "no package built: $(tail -5 "$D/build.log")"
}

@test "package: dpkg-buildpackage -b makes sse_VERSION_ARCH.deb (and its debug symbols), which lintian passes" {
	local v
	v=$(dpkg-parsechangelog -l "$ROOT_DIR/debian/changelog" -S Version)
	[ "$DEB" = "$D/sse_${v}_$(dpkg --print-architecture).deb" ] || fail "$DEB"
	[ -f "$D/sse-dbgsym_${v}_$(dpkg --print-architecture).deb" ]
	# the unit tests ran in dh_auto_test
	grep -q 'build/tests/test_' "$D/build.log"
	command -v lintian >/dev/null || skip "lintian is not installed"
	run lintian --fail-on error,warning "$D"/sse_*.changes
	assert_success
	refute_line --regexp '^[EW]: '
}

@test "package: sse, its man pages and completions in Debian's places, dependencies from shlibs" {
	run dpkg-deb -c "$DEB"
	assert_success
	local f
	for f in usr/bin/sse usr/share/man/man1/sse.1.gz usr/share/man/man1/sse-listen.1.gz \
		usr/share/man/man1/sse-serve.1.gz usr/share/man/man1/sse-replay.1.gz \
		usr/share/bash-completion/completions/sse \
		usr/share/zsh/vendor-completions/_sse \
		usr/share/fish/vendor_completions.d/sse.fish \
		usr/share/doc/sse/copyright usr/share/doc/sse/changelog.gz; do
		[ -f "$R/$f" ] || fail "no /$f in the package"
	done
	refute_output --partial usr/local
	# stripped: its symbols are in sse-dbgsym
	run readelf -SW "$R/usr/bin/sse"
	refute_output --partial .debug_info
	refute_output --partial .symtab
	# the libraries sse links, as dpkg-shlibdeps found them
	run dpkg-deb -f "$DEB" Depends
	assert_output --regexp '(^|, )libc6 \(>= '
	assert_output --regexp '(^|, )libcurl[0-9a-z-]* \(>= '
	assert_output --regexp '(^|, )libmicrohttpd[0-9]+ \(>= '
	assert_output --regexp '(^|, )libjansson[0-9]+ \(>= '
	assert_output --regexp '(^|, )libhiredis[0-9.]+ \(>= '
}

@test "package: installed, sse --version, man -w sse-listen, and the completions work" {
	run "$R/usr/bin/sse" --version
	assert_success
	assert_line --index 0 "sse $(cat "$D/sse/VERSION")"
	assert_line --index 1 --partial libcurl
	run env MANPATH="$R/usr/share/man" man -w sse-listen
	assert_success
	assert_output "$R/usr/share/man/man1/sse-listen.1.gz"
	run env MANPATH="$R/usr/share/man" MANPAGER=cat MANWIDTH=80 man sse-serve
	assert_success
	assert_output --partial 'SSE-SERVE(1)'
	run bash -c 'source "$1"; COMP_WORDS=(sse listen --idle-t); COMP_CWORD=2; _sse
		printf "%s\n" "${COMPREPLY[@]}"' _ "$R/usr/share/bash-completion/completions/sse"
	assert_success
	assert_output -- '--idle-timeout'
	if command -v fish >/dev/null; then
		run fish --no-config -c 'source $argv[1]; complete -C "sse listen --idle-t"' \
			"$R/usr/share/fish/vendor_completions.d/sse.fish"
		assert_success
		assert_output --regexp $'^--idle-timeout(\t[^\n]*)?$'
	fi
	if command -v zsh >/dev/null; then
		run zsh -n "$R/usr/share/zsh/vendor-completions/_sse"
		assert_success
		# a place where Debian's zsh looks for completions
		run zsh -fc 'print -l $fpath'
		assert_line /usr/share/zsh/vendor-completions
	fi
}
