# sse - Server-Sent Events toolkit
.SUFFIXES:

# The version: git describe in a checkout, a tarball's VERSION file, else
# BASE_VERSION (tools/version); `make VERSION=x` overrides it.
BASE_VERSION = 0.1.0
VERSION     := $(shell tools/version $(BASE_VERSION))
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
# make install strips the binary (the built ./sse keeps its debug
# information); INSTALL_STRIP= installs it as built.
INSTALL_STRIP ?= -s
DISTDIR     ?= .

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes \
           -Wstrict-prototypes -Wwrite-strings -Wundef -Wpointer-arith \
           -Wcast-align -Wvla -Wimplicit-fallthrough -Wmissing-declarations \
           -Wredundant-decls -Wold-style-definition
STD      = -std=c11 -D_GNU_SOURCE -DSSE_VERSION='"$(VERSION)"'
PKGS     = libcurl libmicrohttpd jansson hiredis

# SAN=1: the whole suite under AddressSanitizer and UndefinedBehaviorSanitizer.
SAN     ?=
ifeq ($(SAN),1)
BUILD   ?= build-san
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
           -fno-omit-frame-pointer
BIN      = $(BUILD)/sse
else
BUILD   ?= build
SANFLAGS =
BIN      = sse
endif
ifeq ($(WERROR),1)
WARN    += -Werror
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

LIB_SRC  := $(sort $(wildcard lib/*.c))
CMD_SRC  := $(sort $(wildcard cmd/*.c cmd/http/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CMD_OBJ  := $(CMD_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
LIBSSE   := $(BUILD)/libsse.a

ALL_CFLAGS = $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) $(SANFLAGS)

all: $(BIN)

$(BIN): $(CMD_OBJ) $(LIBSSE)
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $(CMD_OBJ) $(LIBSSE) $(PKG_LIBS) -lpthread -lm

$(LIBSSE): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

# lib/ is pure: compiled without the libcurl and libmicrohttpd include paths.
$(BUILD)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The viewer page is assembled into viewer.o (.incbin): rebuild it with it.
$(BUILD)/cmd/viewer.o: cmd/viewer.html

$(BUILD)/cmd/%.o: cmd/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -Icmd -Ilib -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIBSSE) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ilib -o $@ $< $(LIBSSE) -lm

# test_child drives cmd/child.c with real processes.
CHILD_OBJ := $(BUILD)/cmd/child.o $(BUILD)/cmd/msg.o $(BUILD)/cmd/util.o
$(BUILD)/tests/test_child: tests/unit/test_child.c $(CHILD_OBJ) $(LIBSSE) \
    $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ilib -Icmd -o $@ $< $(CHILD_OBJ) $(LIBSSE) -lm

-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d)

# What says the version is rebuilt when the version changes (a commit, say).
$(BUILD)/VERSION: FORCE
	@mkdir -p $(@D)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' >$@
$(BUILD)/cmd/sse.o $(BUILD)/cmd/listen_request.o: $(BUILD)/VERSION

deps:
	@tools/deps.sh build test

# The tests of the hottest paths again, built without SSE2: the portable
# branches (#else) of lib/scan.h and lib/json.c that x86-64 never compiles.
PORTABLE_BIN := $(BUILD)/tests/test_portable_parser \
                $(BUILD)/tests/test_portable_fastfmt
$(BUILD)/tests/test_portable_%: tests/unit/test_%.c $(LIB_SRC) \
    $(wildcard lib/*.h) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -U__SSE2__ -Ilib -o $@ $< $(LIB_SRC) -lm

unit: $(UNIT_BIN) $(PORTABLE_BIN)

# The README's test command. Unit tests and bats suites through one TAP
# harness, so that there is one summary at the end.
check: deps
	@$(MAKE) --no-print-directory all unit
	SSE_BIN=$(abspath $(BIN)) UNIT_DIR=$(abspath $(BUILD)/tests) tests/run

check-san:
	@$(MAKE) --no-print-directory check SAN=1

# One libFuzzer target per surface that takes outside bytes:
# tests/fuzz/fuzz_NAME.c, seeded from tests/fuzz/seeds-NAME (the parser's
# also from the fixtures), with tests/fuzz/NAME.dict where there is one.
# Each runs FUZZ_SECONDS.
FUZZ_TARGETS ?= $(sort $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_SECONDS ?= 60
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRC) $(wildcard lib/*.h) \
    $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	clang $(STD) -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined -Ilib -Icmd -o $@ $< \
	    $(FUZZ_SRC_$*) $(LIB_SRC) -ljansson
# What a target needs from cmd/ besides lib/.
FUZZ_SRC_json = cmd/event_json.c
build-fuzz/fuzz_json: $(FUZZ_SRC_json)
FUZZ_SRC_template = cmd/json_path.c
build-fuzz/fuzz_template: $(FUZZ_SRC_template)

fuzz: $(FUZZ_TARGETS:%=build-fuzz/fuzz_%)
	@for t in $(FUZZ_TARGETS); do \
	    seeds=tests/fuzz/seeds-$$t; dict=; \
	    [ $$t != parser ] || seeds="$$seeds tests/fixtures"; \
	    [ ! -f tests/fuzz/$$t.dict ] || dict=-dict=tests/fuzz/$$t.dict; \
	    mkdir -p build-fuzz/corpus-$$t; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	    build-fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) $$dict \
	        -max_len=4096 -artifact_prefix=build-fuzz/$$t- \
	        build-fuzz/corpus-$$t $$seeds || exit 1; \
	done

lint:
	tools/lint

# The parser micro-benchmark (bench only, not part of check).
PARSE_BENCH = $(BUILD)/bench/parse_bench
$(PARSE_BENCH): bench/parse_bench.c bench/common.h $(LIBSSE)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ilib -o $@ bench/parse_bench.c $(LIBSSE)

parse-bench: $(PARSE_BENCH)
	$(PARSE_BENCH)

bench: all
	SSE_BUILD=$(BUILD) SSE_BIN=$(abspath $(BIN)) bench/run
	SSE_BUILD=$(BUILD) SSE_BIN=$(abspath $(BIN)) bench/redis.py
	SSE_BIN=$(abspath $(BIN)) bench/journal.py

bench-quick: all
	SSE_BUILD=$(BUILD) SSE_BIN=$(abspath $(BIN)) bench/run --quick

# Only what the demo needs: the build dependencies. PORT=N picks the port.
demo:
	@tools/deps.sh build
	@$(MAKE) --no-print-directory all
	tools/demo

install: $(BIN)
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 755 $(INSTALL_STRIP) $(BIN) $(DESTDIR)$(BINDIR)/sse
	cp man/*.1 $(DESTDIR)$(MANDIR)/man1/
	cp completions/sse.bash $(DESTDIR)$(BASHCOMPDIR)/sse
	cp completions/_sse $(DESTDIR)$(ZSHCOMPDIR)/_sse
	cp completions/sse.fish $(DESTDIR)$(FISHCOMPDIR)/sse.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sse $(DESTDIR)$(BASHCOMPDIR)/sse \
	    $(DESTDIR)$(ZSHCOMPDIR)/_sse $(DESTDIR)$(FISHCOMPDIR)/sse.fish
	for m in man/*.1; do rm -f $(DESTDIR)$(MANDIR)/man1/$${m#man/}; done

# A source tarball of HEAD from git, sse-VERSION.tar.gz in DISTDIR (made if
# need be), with a VERSION file that says which version it is once out of git.
DIST = sse-$(patsubst %-dirty,%,$(VERSION))
dist:
	@git diff-index --quiet HEAD -- || \
	    echo "make dist: uncommitted changes are not in $(DIST).tar.gz" >&2
	@mkdir -p $(BUILD)/dist
	@mkdir -p '$(DISTDIR)' 2>/dev/null || { \
	    echo "make dist: cannot create DISTDIR '$(DISTDIR)'" >&2; exit 1; }
	echo '$(patsubst %-dirty,%,$(VERSION))' >$(BUILD)/dist/VERSION
	git archive --format=tar.gz --prefix=$(DIST)/ \
	    --add-file=$(BUILD)/dist/VERSION -o '$(DISTDIR)/$(DIST).tar.gz' HEAD

# The Debian package, ../sse_VERSION_ARCH.deb (see debian/ and README).
deb:
	dpkg-buildpackage -us -uc -b

clean:
	rm -rf build build-san build-fuzz sse sse-*.tar.gz

.PHONY: all deps unit check check-san fuzz lint parse-bench bench bench-quick demo \
	install uninstall dist deb clean FORCE
