#!/usr/bin/env bats
# --help, the man pages and the three completion files must name the same
# commands and options.

setup() {
	load helper
}

# help_opts CMD: every option that CMD's --help lists, one a line
# (long and short forms, from the indented lines that start with a dash).
help_opts() {
	local cmd=$1 text
	if [ "$cmd" = main ]; then text=$(sse --help); else text=$(sse "$cmd" --help); fi
	printf '%s\n' "$text" | grep -E '^ +-' |
		grep -oE '(^|[ ,])--?[A-Za-z0-9][A-Za-z0-9-]*' | tr -d ' ,' | sort -u
}

man_text() {
	local page=man/sse.1
	[ "$1" = main ] || page=man/sse-$1.1
	mandoc -Tascii "$ROOT_DIR/$page" | col -b
}

# zsh_body CMD: the text of the _sse_CMD function (or _sse for main).
zsh_body() {
	local fn=_sse
	[ "$1" = main ] || fn=_sse_$1
	awk -v fn="$fn" '$0 ~ "^"fn"\\(\\)" {on=1; next} on && /^}/ {exit} on' \
		"$ROOT_DIR/completions/_sse"
}

fish_lines() {
	if [ "$1" = main ]; then
		grep -F 'not __fish_seen_subcommand_from' "$ROOT_DIR/completions/sse.fish"
	else
		grep -F "__fish_seen_subcommand_from $1\"" "$ROOT_DIR/completions/sse.fish"
	fi
}

check_cmd() {
	local cmd=$1 opt missing=() man bash zsh fish
	man=$(man_text "$cmd")
	bash=$(grep -E "^_sse_opts_$cmd=" "$ROOT_DIR/completions/sse.bash")
	zsh=$(zsh_body "$cmd")
	fish=$(fish_lines "$cmd")
	local opts
	opts=$(help_opts "$cmd")
	[ -n "$opts" ] || { echo "no options found in sse $cmd --help"; return 1; }
	for opt in $opts; do
		grep -qE -- "(^|[^A-Za-z0-9-])$opt([^A-Za-z0-9-]|$)" <<<"$man" ||
			missing+=("man:$opt")
		grep -qE -- "[' ]$opt[' ]" <<<"$bash" || missing+=("bash:$opt")
		grep -qE -- "(^|[^A-Za-z0-9-])$opt([^A-Za-z0-9-]|$)" <<<"$zsh" ||
			missing+=("zsh:$opt")
		case $opt in
		--*) grep -qE -- "-l ${opt#--}( |$)" <<<"$fish" || missing+=("fish:$opt") ;;
		-*) grep -qE -- "-s ${opt#-}( |$)" <<<"$fish" || missing+=("fish:$opt") ;;
		esac
	done
	# and the other way: a completion offers nothing that --help does not list
	for opt in $(grep -E "^_sse_opts_$cmd=" "$ROOT_DIR/completions/sse.bash" |
		cut -d"'" -f2); do
		grep -qxF -- "$opt" <<<"$opts" || missing+=("help:$opt (in sse.bash)")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "sse $cmd: options not documented everywhere: ${missing[*]}"
		return 1
	fi
}

@test "docs: global options agree across --help, sse(1) and completions" {
	check_cmd main
}

@test "docs: listen options agree across --help, sse-listen(1) and completions" {
	check_cmd listen
}

@test "docs: serve options agree across --help, sse-serve(1) and completions" {
	check_cmd serve
}

@test "docs: replay options agree across --help, sse-replay(1) and completions" {
	check_cmd replay
}

@test "docs: every command appears in --help, sse(1) and all completions" {
	local cmd
	for cmd in listen serve replay; do
		sse --help | grep -qE "^  $cmd " || fail "$cmd not in sse --help"
		man_text main | grep -qw "$cmd" || fail "$cmd not in sse(1)"
		grep -qw "$cmd" "$ROOT_DIR/completions/sse.bash" || fail "$cmd not in sse.bash"
		grep -qE "'$cmd:" "$ROOT_DIR/completions/_sse" || fail "$cmd not in _sse"
		grep -qE -- "-a $cmd " "$ROOT_DIR/completions/sse.fish" || fail "$cmd not in sse.fish"
	done
}

@test "docs: man pages are lint-clean" {
	local m
	for m in "$ROOT_DIR"/man/*.1; do
		run mandoc -Tlint -Wwarning "$m"
		assert_success
		assert_output ''
	done
}

@test "docs: completion files load in their shells" {
	run bash -n "$ROOT_DIR/completions/sse.bash"
	assert_success
	run bash -c "source '$ROOT_DIR/completions/sse.bash'; COMP_WORDS=(sse li); COMP_CWORD=1; _sse; printf '%s\n' \"\${COMPREPLY[@]}\""
	assert_success
	assert_output 'listen'
	if command -v zsh >/dev/null; then
		run zsh -n "$ROOT_DIR/completions/_sse"
		assert_success
	fi
	if command -v fish >/dev/null; then
		run fish -n "$ROOT_DIR/completions/sse.fish"
		assert_success
	fi
}

@test "docs: no English word in a man page is taken for an mdoc macro" {
	# `.Ql 204 No Content` printed "204 Content": No, An, Ad, At... are
	# macros when they stand as arguments. A quoted phrase keeps them.
	run grep -nE '^\.(Ql|Dq|Sq|Qq|Li|Sy|Em) [^"]*[^ "]+ (No|An|Ad|At|In|Ta|St) [A-Z][a-z]' \
		"$ROOT_DIR"/man/*.1
	assert_output ''
	run sh -c "mandoc -Tascii '$ROOT_DIR/man/sse-serve.1' | tr -s ' \n' '  '"
	assert_output --partial '204 No Content'
}

@test "docs: every make target README names exists, and every sse command it runs" {
	local t cmd
	for t in $(grep -oE '(^|`)make [a-z][a-z-]*' "$ROOT_DIR/README.md" | sed 's/^`//; s/^make //' | sort -u); do
		make -n -C "$ROOT_DIR" -o "$SSE_BIN" BIN="$SSE_BIN" "$t" >/dev/null 2>&1 ||
			fail "README names 'make $t', which make does not know"
	done
	for cmd in $(grep -oE '\bsse [a-z]+' "$ROOT_DIR/README.md" | cut -d' ' -f2 | sort -u); do
		case $cmd in
		listen | serve | replay | help) ;;
		*) sse --help | grep -qE "^  $cmd " || fail "README runs 'sse $cmd'" ;;
		esac
	done
}
