# whepcam - plain make + pkg-config. `make run` and `make test` are the two
# commands a newcomer needs; both install missing Debian packages first.

PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
PORT     ?= 8080
HOST     ?= 127.0.0.1
CONFIG   ?=
WERROR   ?= -Werror
SANITIZER ?=

CC       ?= cc
PKG_CONFIG ?= pkg-config

DAEMON_PKGS = gstreamer-1.0 >= 1.22 gstreamer-webrtc-1.0 >= 1.22 gstreamer-sdp-1.0 >= 1.22 \
              gstreamer-rtp-1.0 >= 1.22 gstreamer-video-1.0 >= 1.22 gstreamer-app-1.0 >= 1.22 \
              gstreamer-pbutils-1.0 >= 1.22 nice >= 0.1.18 \
              json-c >= 0.15 glib-2.0 >= 2.66 openssl >= 3.0 libsrtp2 >= 2.4
FCGI_PKGS   = json-c >= 0.15

WARN   = -Wall -Wextra $(WERROR) -Wformat=2 -Wshadow -Wstrict-prototypes \
         -Wmissing-prototypes -Wwrite-strings -Wno-unused-parameter
HARDEN = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(HARDEN) $(CFLAGS) -Icommon -MMD -MP -D_GNU_SOURCE -DGST_USE_UNSTABLE_API
LDFLAGS_ALL = -pie -Wl,-z,relro,-z,now $(LDFLAGS)
ifneq ($(SANITIZER),)
ALL_CFLAGS += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer
LDFLAGS_ALL += -fsanitize=$(SANITIZER)
endif

COMMON_SRC = $(wildcard common/*.c)
DAEMON_SRC = $(wildcard daemon/*.c daemon/*/*.c)
DAEMON_HDR = $(wildcard daemon/*.h daemon/*/*.h)
FCGI_SRC   = $(wildcard fcgi/*.c)
UNIT_SRC   = $(wildcard tests/unit/test_*.c)

COMMON_OBJ = $(COMMON_SRC:%.c=$(BUILD)/%.o)
DAEMON_OBJ = $(DAEMON_SRC:%.c=$(BUILD)/%.o)
DAEMON_LIB_OBJ = $(filter-out $(BUILD)/daemon/main.o,$(DAEMON_OBJ))
FCGI_OBJ   = $(FCGI_SRC:%.c=$(BUILD)/%.o)
FCGI_LIB_OBJ = $(filter-out $(BUILD)/fcgi/main.o,$(FCGI_OBJ))
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

DEPS_OK = $(BUILD)/.deps-ok

.PHONY: all deps run test unit bench seal-bench fuzz fuzz-build fuzz-seeds asan check format install deb clean
all: $(BUILD)/whepcamd $(BUILD)/whepcam-fcgi

# Installs what is missing (apt-get when root), once per checkout.
deps: $(DEPS_OK)
$(DEPS_OK): deploy/install-deps.sh
	@sh deploy/install-deps.sh
	@mkdir -p $(BUILD) && touch $@

$(BUILD)/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -Idaemon $(shell $(PKG_CONFIG) --cflags '$(DAEMON_PKGS)') -c $< -o $@

$(BUILD)/fcgi/%.o: fcgi/%.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) $(shell $(PKG_CONFIG) --cflags '$(FCGI_PKGS)') -c $< -o $@

$(BUILD)/whepcamd: $(DAEMON_OBJ) $(COMMON_OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(shell $(PKG_CONFIG) --libs '$(DAEMON_PKGS)')

$(BUILD)/whepcam-fcgi: $(FCGI_OBJ) $(COMMON_OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(shell $(PKG_CONFIG) --libs '$(FCGI_PKGS)') -lfcgi -lpthread

$(BUILD)/tests/test_fcgi_%: tests/unit/test_fcgi_%.c $(FCGI_LIB_OBJ) $(COMMON_OBJ) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(CC) $(ALL_CFLAGS) -Ifcgi $(shell $(PKG_CONFIG) --cflags '$(DAEMON_PKGS)') $(LDFLAGS_ALL) -o $@ $(filter %.c %.o,$^) \
		$(shell $(PKG_CONFIG) --libs '$(DAEMON_PKGS)') -lfcgi -lpthread

$(BUILD)/tests/test_%: tests/unit/test_%.c $(DAEMON_LIB_OBJ) $(COMMON_OBJ) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(CC) $(ALL_CFLAGS) -Idaemon $(shell $(PKG_CONFIG) --cflags '$(DAEMON_PKGS)') $(LDFLAGS_ALL) -o $@ $(filter %.c %.o,$^) \
		$(shell $(PKG_CONFIG) --libs '$(DAEMON_PKGS)')

# Microbenchmarks of the send path (issue 17), tests/load/bench_<name>.c: make seal-bench runs
# bench_seal (ns per sealed packet, libsrtp2 against wire/srtp_seal.c) [SEAL_BENCH='-v 1000'];
# $(BUILD)/tests/bench_gso compares sendmmsg with UDP GSO.
$(BUILD)/tests/bench_%: tests/load/bench_%.c $(DAEMON_LIB_OBJ) $(COMMON_OBJ) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(CC) $(ALL_CFLAGS) -Idaemon $(shell $(PKG_CONFIG) --cflags '$(DAEMON_PKGS)') $(LDFLAGS_ALL) -o $@ $(filter %.c %.o,$^) \
		$(shell $(PKG_CONFIG) --libs '$(DAEMON_PKGS)')
seal-bench: $(BUILD)/tests/bench_seal $(BUILD)/tests/bench_gso
	$(BUILD)/tests/bench_seal $(SEAL_BENCH)

# Exactly one binary per tests/unit/test_*.c: one whose source is gone is removed.
unit: $(UNIT_BIN)
	@for b in $(BUILD)/tests/test_*; do case "$$b" in *.d|*.o) continue ;; esac; \
		[ ! -f "$$b" ] || [ -f "tests/unit/$${b##*/}.c" ] || { echo "  RM      $$b"; rm -f "$$b" "$$b.d"; }; done

# Test-only Debian packages (browsers, players, coturn, Prometheus): make test and bench, not run.
$(BUILD)/.deps-test-ok: deploy/install-deps.sh
	@sh deploy/install-deps.sh test
	@mkdir -p $(BUILD) && touch $@

# Node packages for the test peers and the browser drivers, pinned by tests/package-lock.json.
tests/node_modules/.ok: tests/package.json tests/package-lock.json | $(BUILD)/.deps-test-ok
	cd tests && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

run: all
	@BUILD=$(BUILD) PORT=$(PORT) HOST=$(HOST) CONFIG=$(CONFIG) sh deploy/run-local.sh

# The bench's cheap WHEP receiver (tests/load/rx/rx.h): make test and bench use it.
RX_SRC = $(wildcard tests/load/rx/*.c)
$(BUILD)/whep_rx: $(RX_SRC) tests/load/rx/rx.h | $(DEPS_OK)
	@echo "  CCLD    $@"
	@$(CC) $(ALL_CFLAGS) $(shell $(PKG_CONFIG) --cflags 'openssl >= 3.0 json-c') $(LDFLAGS_ALL) -o $@ \
		$(RX_SRC) $(shell $(PKG_CONFIG) --libs 'openssl >= 3.0 json-c')

# Also the ASan build's units and daemon scenarios, and each fuzzer for a few seconds (tests/run.sh).
test: all unit asan fuzz-build $(BUILD)/whep_rx tests/node_modules/.ok
	@BUILD=$(BUILD) ASAN_BUILD=$(ASAN_BUILD) FUZZ_SECONDS=$(TEST_FUZZ_SECONDS) sh tests/run.sh

# The bench also runs Janus beside whepcam (in a network namespace: iproute2) and plots.
bench: all $(BUILD)/whep_rx tests/node_modules/.ok
	@sh deploy/install-deps.sh bench
	@BUILD=$(BUILD) node tests/load/bench.mjs

# Format, and the daemon's include direction (docs/architecture.md).
check:
	@clang-format --dry-run --Werror $(COMMON_SRC) $(DAEMON_SRC) $(FCGI_SRC) common/*.h $(DAEMON_HDR) fcgi/*.h \
		$(RX_SRC) tests/load/rx/rx.h
	@sh tests/check_layers.sh

format:
	clang-format -i $(COMMON_SRC) $(DAEMON_SRC) $(FCGI_SRC) common/*.h $(DAEMON_HDR) fcgi/*.h $(RX_SRC) tests/load/rx/rx.h

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# libFuzzer harnesses (clang), one per tests/fuzz/fuzz_<name>.c, seeded from tests/fuzz/corpus/<name>/.
# `make fuzz FUZZ_SECONDS=60` runs each; what they find lands in $(BUILD)/fuzz/corpus-<name>, crashes in
# $(BUILD)/fuzz/. `make test` runs each for TEST_FUZZ_SECONDS on a copy of the checked-in corpus.
FUZZ_SECONDS ?= 30
TEST_FUZZ_SECONDS ?= 3
FUZZ_TARGETS = proto sdp stun rtp dtls sdpfrag
FUZZ_BIN = $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
# UBSan halts too: libFuzzer only sees what ends the process.
FUZZ_CFLAGS = -g -O1 $(WARN) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=gnu11 \
              -D_GNU_SOURCE -DGST_USE_UNSTABLE_API -Icommon -Idaemon $(shell $(PKG_CONFIG) --cflags '$(DAEMON_PKGS)')
FUZZ_LINK = @mkdir -p $(dir $@); echo "  FUZZ    $@"; clang $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)
$(BUILD)/fuzz/fuzz_proto: tests/fuzz/fuzz_proto.c common/proto.c common/proto.h | $(DEPS_OK)
	$(FUZZ_LINK) $(shell $(PKG_CONFIG) --libs json-c)
$(BUILD)/fuzz/fuzz_sdp: tests/fuzz/fuzz_sdp.c daemon/wire/sdp.c daemon/wire/codec.c daemon/wire/sdp.h | $(DEPS_OK)
	$(FUZZ_LINK) $(shell $(PKG_CONFIG) --libs '$(DAEMON_PKGS)')
$(BUILD)/fuzz/fuzz_stun: tests/fuzz/fuzz_stun.c daemon/wire/stun.c daemon/wire/stun.h | $(DEPS_OK)
	$(FUZZ_LINK) $(shell $(PKG_CONFIG) --libs glib-2.0)
$(BUILD)/fuzz/fuzz_rtp: tests/fuzz/fuzz_rtp.c daemon/wire/rtp.c daemon/wire/codec.c daemon/wire/rtp.h daemon/lite/lite.h | $(DEPS_OK)
	$(FUZZ_LINK) $(shell $(PKG_CONFIG) --libs '$(DAEMON_PKGS)')
$(BUILD)/fuzz/fuzz_dtls: tests/fuzz/fuzz_dtls.c daemon/wire/dtls.c daemon/wire/dtls_record.c daemon/wire/dtls_epoch1.c daemon/wire/dtls_cert.c daemon/wire/dtls.h daemon/wire/dtls_priv.h | $(DEPS_OK)
	$(FUZZ_LINK) $(shell $(PKG_CONFIG) --libs glib-2.0 openssl)
$(BUILD)/fuzz/fuzz_sdpfrag: tests/fuzz/fuzz_sdpfrag.c daemon/wire/sdpfrag.c daemon/wire/sdpfrag.h | $(DEPS_OK)
	$(FUZZ_LINK) $(shell $(PKG_CONFIG) --libs glib-2.0)
fuzz-build: $(FUZZ_BIN)
fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_TARGETS); do mkdir -p $(BUILD)/fuzz/corpus-$$f && \
		$(BUILD)/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -max_len=70000 -timeout=10 \
		-artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus-$$f tests/fuzz/corpus/$$f || exit 1; done
# Rewrites tests/fuzz/corpus/dtls from a real in-memory handshake (fuzz_dtls.c, write_seeds).
fuzz-seeds: $(BUILD)/fuzz/fuzz_dtls
	rm -rf tests/fuzz/corpus/dtls
	FUZZ_DTLS_SEEDS=tests/fuzz/corpus/dtls $(BUILD)/fuzz/fuzz_dtls

# The clang ASan+UBSan build that `make test` also runs (tests/run.sh, asan/...): clang's
# ASan sees heap errors gcc's misses (an inlined memcmp). UBSan halts, so a report fails.
# A build directory made with other sanitizer flags is rebuilt, not mixed.
ASAN_BUILD ?= $(BUILD)-asan
ASAN_MAKE = BUILD=$(ASAN_BUILD) CC=clang SANITIZER=address,undefined CFLAGS='-O1 -g -fno-sanitize-recover=undefined'
asan: $(DEPS_OK)
	@[ "$$(cat $(ASAN_BUILD)/.flags 2>/dev/null)" = "$(ASAN_MAKE)" ] || \
		{ rm -rf $(ASAN_BUILD) && mkdir -p $(ASAN_BUILD) && echo "$(ASAN_MAKE)" >$(ASAN_BUILD)/.flags; }
	@$(MAKE) -s --no-print-directory $(ASAN_MAKE) all unit

# make install (PREFIX, DESTDIR): deploy/install.mk
include deploy/install.mk
include deploy/deb.mk
