# sparkmon — build, test, install.
#
#   make run     install missing dependencies, build, run the daemon in the foreground
#   make test    install missing dependencies, build, run every test
#   make deps    install (only) the missing Debian packages, idempotently
#
# BUILD names the build folder, so that several builds can share one tree;
# V=1 shows the compiler commands. Warnings are errors (WERROR) except in
# `make install` and the Debian package: a release built by a newer compiler
# with new warnings still builds, and the warnings stay in its log.

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
BUILD     ?= build
V         ?= 0
Q         := $(if $(filter 1,$(V)),,@)
ASAN      := $(BUILD)-asan
FUZZ      := $(BUILD)-fuzz

CC        ?= cc
PKGS      := libmnl libmicrohttpd json-c inih hogweed libseccomp miniupnpc zlib
WERROR    ?= -Werror
WARN       = -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes \
             -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wformat=2
CPPFLAGS  += -D_GNU_SOURCE -DSPARKMON_VERSION='"$(VERSION)"' -I. -MMD -MP
CFLAGS    ?= -O2 -g
# glibc's checked functions and its warn_unused_result attributes, as the
# Debian package build has them, so that no warning shows up only there
# (they need an optimizing build; the sanitizer builds go without).
FORTIFY   := $(if $(filter -O -O1 -O2 -O3 -Os,$(CFLAGS)),-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2)
CFLAGS    += -std=c11 $(WARN) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libnatpmp ships no pkg-config file.
LDLIBS    += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lnatpmp -lcrypt -lpthread
SANITIZE  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# Only the endpoint probe's HTTP helper, sparkmon-fetch, links libcurl (and
# with it libcrypto, libssl, ...): the daemon stays small, and servers'
# answers are parsed in a short-lived process. Its installed path is
# compiled into the daemon, which looks next to itself first.
FETCH_PKGS  := libcurl
FETCH_PATH  := $(PREFIX)/lib/sparkmon/sparkmon-fetch
FETCH_MAIN  := probes/fetch_main.c
FETCH_LDLIBS = $(shell pkg-config --libs $(FETCH_PKGS) 2>/dev/null)

# Debian packages, listed in tests/deps/*.txt: build.txt is what building
# needs; every other list is what some test needs.
deps_of    = $(shell sed 's/\#.*//' $(1) 2>/dev/null)
DEPS_BUILD := $(call deps_of,tests/deps/build.txt)
DEPS       := $(sort $(call deps_of,$(wildcard tests/deps/*.txt)))

LIB_SRC   := $(sort $(wildcard monitor/*.c probes/*.c web/*.c))
LIB_SRC   := $(filter-out monitor/main.c $(FETCH_MAIN),$(LIB_SRC))
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(patsubst tests/unit/%.c,%,$(UNIT_SRC))

# Keep objects that pattern rules chain through (make would delete them).
.SECONDARY:

obj = $(patsubst %.c,$(1)/obj/%.o,$(2))

.PHONY: all deps deps-build run test unit unit-asan cli integration abuse mutants format \
        format-check install deb clean FORCE
all: $(BUILD)/sparkmon $(BUILD)/sparkmon-fetch

# ---- dependencies -----------------------------------------------------------
deps:
	@tests/deps.sh $(DEPS)
deps-build:
	@tests/deps.sh $(DEPS_BUILD)

# ---- build ------------------------------------------------------------------
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $@"
	$(Q)$(CC) $(CPPFLAGS) $(FORTIFY) $(CFLAGS) -c -o $@ $<

$(ASAN)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(SANITIZE) -c -o $@ $<

$(BUILD)/libsparkmon.a: $(call obj,$(BUILD),$(LIB_SRC))
	@echo "  AR $@"
	$(Q)$(AR) rcs $@ $^
$(ASAN)/libsparkmon.a: $(call obj,$(ASAN),$(LIB_SRC))
	@echo "  AR $@"
	$(Q)$(AR) rcs $@ $^

$(BUILD)/sparkmon: $(BUILD)/obj/monitor/main.o $(BUILD)/libsparkmon.a
	@echo "  LD $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(ASAN)/sparkmon: $(ASAN)/obj/monitor/main.o $(ASAN)/libsparkmon.a
	@echo "  LD $@"
	$(Q)$(CC) $(CFLAGS) $(SANITIZE) -o $@ $^ $(LDLIBS)

# The HTTP helper: its own main, libcurl, nothing of libsparkmon.
$(BUILD)/obj/$(FETCH_MAIN:.c=.o) $(ASAN)/obj/$(FETCH_MAIN:.c=.o): \
  CFLAGS += $(shell pkg-config --cflags $(FETCH_PKGS) 2>/dev/null)
$(BUILD)/sparkmon-fetch: $(BUILD)/obj/$(FETCH_MAIN:.c=.o)
	@echo "  LD $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(FETCH_LDLIBS)
$(ASAN)/sparkmon-fetch: $(ASAN)/obj/$(FETCH_MAIN:.c=.o)
	@echo "  LD $@"
	$(Q)$(CC) $(CFLAGS) $(SANITIZE) -o $@ $^ $(FETCH_LDLIBS)

# endpoint.o holds the helper's installed path: rebuilt when PREFIX changes
# (the stamp file is rewritten only then).
$(BUILD)/obj/probes/endpoint.o $(ASAN)/obj/probes/endpoint.o: \
  CPPFLAGS += -DSPARKMON_FETCH_PATH='"$(FETCH_PATH)"'
$(BUILD)/obj/probes/endpoint.o: $(BUILD)/fetch-path
$(ASAN)/obj/probes/endpoint.o: $(ASAN)/fetch-path
$(BUILD)/fetch-path $(ASAN)/fetch-path: FORCE
	@mkdir -p $(dir $@)
	@echo '$(FETCH_PATH)' | cmp -s - $@ || echo '$(FETCH_PATH)' >$@

$(BUILD)/test/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libsparkmon.a
	@mkdir -p $(dir $@)
	@echo "  LD $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka
$(ASAN)/test/%: $(ASAN)/obj/tests/unit/%.o $(ASAN)/libsparkmon.a
	@mkdir -p $(dir $@)
	@echo "  LD $@"
	$(Q)$(CC) $(CFLAGS) $(SANITIZE) -o $@ $^ $(LDLIBS) -lcmocka

# Benchmark helpers (tests/bench/*.c) link the library like the tests do.
$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(BUILD)/libsparkmon.a
	@mkdir -p $(dir $@)
	@echo "  LD $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

-include $(shell find $(BUILD) $(ASAN) $(FUZZ) -name '*.d' 2>/dev/null)

# The status page's files are assembled into web/page.o (.incbin), which
# the compiler's dependency files do not track.
$(BUILD)/obj/web/page.o $(ASAN)/obj/web/page.o: $(wildcard web/page/*)

# ---- run --------------------------------------------------------------------
run: deps-build
	@$(MAKE) --no-print-directory $(BUILD)/sparkmon $(BUILD)/sparkmon-fetch
	./$(BUILD)/sparkmon serve

# ---- tests ------------------------------------------------------------------
# Unit tests run from the project root so that fixture paths are stable.
unit: $(addprefix $(BUILD)/test/,$(UNIT_BIN))
	@tests/run-unit.sh $^
unit-asan: $(addprefix $(ASAN)/test/,$(UNIT_BIN))
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  tests/run-unit.sh $^
cli: $(BUILD)/sparkmon $(ASAN)/sparkmon $(BUILD)/sparkmon-fetch $(ASAN)/sparkmon-fetch
	@tests/cli/run.sh $(BUILD)/sparkmon
	@ASAN_OPTIONS=detect_leaks=1 tests/cli/run.sh $(ASAN)/sparkmon
integration: $(BUILD)/sparkmon $(BUILD)/sparkmon-fetch
	@tests/integration/run.sh $(BUILD)/sparkmon
# The HTTP face under hostile clients on loopback (tests/abuse/*.sh).
abuse: $(BUILD)/sparkmon
	@set -e; for t in tests/abuse/*.sh; do echo "== abuse: $$t"; \
	  SPARKMON=$(abspath $(BUILD)/sparkmon) $$t; done
# The standing mutation check: each deliberate bug of tests/mutations/ must
# make one of the tests it names fail (in a scratch copy of the tree, built
# in its own folder there; about 3 minutes).
mutants:
	@tests/mutations/run.sh
# The soak (tests/soak/soak.sh): sparkmon serve under churn for
# SOAK_SECONDS (default an hour), results in SOAK_OUT (default a temporary
# folder); soak-short is its three-minute run in make test.
SOAK_SECONDS ?= 3600
.PHONY: soak soak-short
soak: $(BUILD)/sparkmon
	@SPARKMON=$(abspath $(BUILD)/sparkmon) tests/soak/soak.sh $(SOAK_SECONDS)
soak-short: $(BUILD)/sparkmon
	@SPARKMON=$(abspath $(BUILD)/sparkmon) tests/soak/soak.sh 180

test: deps
	@$(MAKE) --no-print-directory format-check
	@$(MAKE) --no-print-directory arm64 arm64-kernel
	@$(MAKE) --no-print-directory unit unit-asan fuzz-replay cli integration abuse mutants \
	  soak-short

# ---- fuzzing -----------------------------------------------------------------
# One libFuzzer harness per parser (tests/fuzz/fuzz_*.c), built by clang
# with AddressSanitizer and UndefinedBehaviorSanitizer in $(BUILD)-fuzz.
# fuzz-replay runs every committed input (tests/fuzz/corpus/<harness>/)
# once and fails on a crash, a leak or a timeout; fuzz runs each harness
# for FUZZ_SECONDS, new inputs kept in $(BUILD)-fuzz/corpus/; fuzz-coverage
# reports the line coverage of each parser file by its corpus.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer $(FUZZ_EXTRA)
FUZZ_BIN     := $(patsubst tests/fuzz/%.c,$(FUZZ)/%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))

$(FUZZ)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $@"
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(CFLAGS) $(FUZZ_FLAGS) -c -o $@ $<
$(FUZZ)/obj/probes/endpoint.o: CPPFLAGS += -DSPARKMON_FETCH_PATH='"$(FETCH_PATH)"'
$(FUZZ)/libsparkmon.a: $(call obj,$(FUZZ),$(LIB_SRC))
	@echo "  AR $@"
	$(Q)$(AR) rcs $@ $^
$(FUZZ)/fuzz_%: $(FUZZ)/obj/tests/fuzz/fuzz_%.o $(FUZZ)/libsparkmon.a
	@echo "  LD $@"
	$(Q)$(FUZZ_CC) $(CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# The seeds the corpora grew from (tests/fuzz/seeds.sh; needs root for
# its network namespace).
$(FUZZ)/seeds_netlink: tests/fuzz/seeds_netlink.c
	@mkdir -p $(dir $@)
	@echo "  LD $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LDLIBS)

.PHONY: fuzz fuzz-build fuzz-replay fuzz-coverage fuzz-seeds fuzz-capture
fuzz-seeds: $(FUZZ)/seeds_netlink
	@tests/fuzz/seeds.sh $(FUZZ)/seeds $<
# Real captures merged into the corpora (tests/fuzz/capture-seeds.sh; root,
# QEMU): the kernel's WireGuard dumps in the kernel test's VM, wireguard-go's
# UAPI answer, Docker's and wg-quick's rules from iptables-save and nft -j.
fuzz-capture: all $(BUILD)/bench/wgpoll $(FUZZ_BIN)
	@tests/fuzz/capture-seeds.sh $(FUZZ)/captures $(BUILD) $(FUZZ)
fuzz-build: $(FUZZ_BIN)
fuzz-replay: $(FUZZ_BIN)
	@tests/fuzz/replay.sh $^
fuzz: $(FUZZ_BIN)
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ)/corpus $^
fuzz-coverage:
	@$(MAKE) --no-print-directory FUZZ=$(BUILD)-fuzzcov \
	  FUZZ_EXTRA='-fprofile-instr-generate -fcoverage-mapping' fuzz-build
	@tests/fuzz/coverage.sh $(BUILD)-fuzzcov

# ---- arm64 ------------------------------------------------------------------
# The DGX Spark is an arm64 machine. arm64 cross-builds sparkmon,
# sparkmon-fetch and every unit test with gcc-aarch64-linux-gnu against the
# arm64 packages of the dependencies (fetched with apt-get download into
# $(ARM64_CACHE), unpacked into $(ARM64)/sysroot, never installed), then
# runs the unit tests and the CLI tests under qemu-aarch64. What QEMU's user
# mode cannot give is listed in tests/arm64/user-mode-na.txt and runs in
# arm64-kernel instead: Debian's arm64 kernel on qemu-system-aarch64, with
# the WireGuard scenario of the x86-64 kernel test (tests/arm64/kernel.sh;
# about a minute, the VM's boot included).
ARM64       := $(BUILD)-arm64
ARM64_ROOT   = $(abspath $(ARM64))/sysroot
ARM64_CACHE ?= build-arm64-cache
ARM64_CC    ?= aarch64-linux-gnu-gcc
ARM64_PC     = $(ARM64_ROOT)/usr/lib/aarch64-linux-gnu/pkgconfig:$(ARM64_ROOT)/usr/share/pkgconfig
ARM64_MAKE   = PKG_CONFIG_LIBDIR=$(ARM64_PC) PKG_CONFIG_SYSROOT_DIR=$(ARM64_ROOT) \
               $(MAKE) --no-print-directory BUILD=$(ARM64)/build \
               CC='$(ARM64_CC) --sysroot=$(ARM64_ROOT)' AR=aarch64-linux-gnu-ar

.PHONY: arm64 arm64-build arm64-kernel arm64-native
arm64-build:
	@tests/arm64/sysroot.sh $(ARM64_ROOT) $(ARM64_CACHE)
	+@$(ARM64_MAKE) \
	  $(addprefix $(ARM64)/build/,sparkmon sparkmon-fetch $(addprefix test/,$(UNIT_BIN)))
arm64: arm64-build
	@tests/arm64/run-user.sh $(ARM64_ROOT) $(ARM64)/build $(UNIT_BIN)
arm64-kernel: arm64-build
	+@$(ARM64_MAKE) $(ARM64)/build/bench/wgpoll
	@SPARKMON_ARM64_CACHE=$(ARM64_CACHE) tests/arm64/kernel.sh $(ARM64)/build
# Not in make test (the compiler runs emulated: minutes): the quick start's
# make and make install inside an arm64 Debian userland with gcc, booted on
# the arm64 kernel.
arm64-native:
	@SPARKMON_ARM64_CACHE=$(ARM64_CACHE) tests/arm64/native.sh $(ARM64)

# ---- style ------------------------------------------------------------------
C_FILES = $(shell find monitor probes web tests -name '*.[ch]' -not -path '*/fixtures/*')
format:
	clang-format -i $(C_FILES)
format-check:
	@clang-format --dry-run --Werror $(C_FILES) && echo "format: clean"

# ---- install ----------------------------------------------------------------
# The unit and man pages follow PREFIX; the configuration lives in /etc
# whatever the PREFIX, and an existing one is never overwritten.
UNITDIR   ?= $(PREFIX)/lib/systemd/system
install: WERROR :=
install: $(BUILD)/sparkmon $(BUILD)/sparkmon-fetch $(BUILD)/sparkmon.conf
	install -D -m 0755 $(BUILD)/sparkmon $(DESTDIR)$(PREFIX)/bin/sparkmon
	install -D -m 0755 $(BUILD)/sparkmon-fetch $(DESTDIR)$(FETCH_PATH)
	install -D -m 0644 packaging/man/sparkmon.8 $(DESTDIR)$(PREFIX)/share/man/man8/sparkmon.8
	install -D -m 0644 packaging/man/sparkmon.conf.5 \
	  $(DESTDIR)$(PREFIX)/share/man/man5/sparkmon.conf.5
	sed 's|/usr/bin/sparkmon|$(PREFIX)/bin/sparkmon|' packaging/systemd/sparkmon.service \
	  >$(BUILD)/sparkmon.service
	install -D -m 0644 $(BUILD)/sparkmon.service $(DESTDIR)$(UNITDIR)/sparkmon.service
	install -D -m 0644 packaging/cron/sparkmon $(DESTDIR)/etc/cron.d/sparkmon
	# Examples for the Prometheus server, which usually runs elsewhere.
	for f in scrape.yml alerts.yml alerts_test.yml alertmanager.yml; do \
	  install -D -m 0644 packaging/prometheus/$$f \
	    $(DESTDIR)$(PREFIX)/share/sparkmon/prometheus/$$f || exit 1; \
	done
	test -e $(DESTDIR)/etc/sparkmon/sparkmon.conf || \
	  install -D -m 0644 $(BUILD)/sparkmon.conf $(DESTDIR)/etc/sparkmon/sparkmon.conf

# The shipped configuration: every key of `sparkmon config`, commented out.
$(BUILD)/sparkmon.conf: $(BUILD)/sparkmon packaging/gen-conf.sh
	packaging/gen-conf.sh $(BUILD)/sparkmon >$@.tmp && mv $@.tmp $@

# Debian package, built in a copy of the tree in $(BUILD)-deb (not inside
# $(BUILD): the copy's files would be taken for dependency files).
deb:
	@packaging/mkdeb.sh $(BUILD)-deb

clean:
	rm -rf $(BUILD) $(ASAN) $(ARM64) $(FUZZ) $(BUILD)-fuzzcov $(BUILD)-deb
