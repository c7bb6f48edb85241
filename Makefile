# Attest — one Makefile. `make` builds bin/attest; `make run` and `make test` are the two commands.
PREFIX ?= /usr/local
DESTDIR ?=
PORT ?= 8080
SANITIZE ?=
V ?= 0
Q = $(if $(filter 1,$(V)),,@)

FUZZ ?=
BUILD := build$(if $(SANITIZE),-san)$(if $(FUZZ),-fuzz)
BIN := bin$(if $(SANITIZE),-san)

PKGS := libcurl json-c sqlite3 libpq openssl cjose
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CC ?= cc
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -I. $(PKG_CFLAGS) \
	-Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
	-Wpointer-arith -Wcast-qual -Wformat=2 -Wvla -fno-common -fstack-protector-strong \
	-MMD -MP
SAN_FLAGS = -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1
CFLAGS += $(if $(SANITIZE),$(SAN_FLAGS))
FUZZ_FLAGS = -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -g -O1
CFLAGS += $(if $(FUZZ),$(FUZZ_FLAGS))
LDFLAGS += $(if $(SANITIZE),-fsanitize=$(SANITIZE))
LDLIBS += $(PKG_LIBS) -lfcgi -lmagic -lm

LIB_SRCS := $(wildcard core/*.c) $(wildcard lti/*.c) $(filter-out fcgi/main.c,$(wildcard fcgi/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/fcgi/main.o
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)

.PHONY: all deps test-deps run test test-unit test-integration test-e2e test-sanitize test-valgrind \
	lint fuzz bench install uninstall clean
all: $(BIN)/attest

# Rebuild everything when the flags change (redis's .make-settings idea).
FLAGS_FILE := $(BUILD)/.flags
$(FLAGS_FILE): FORCE
	@mkdir -p $(BUILD)
	@echo '$(CC) $(CFLAGS) $(LDFLAGS) $(LDLIBS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS) $(LDFLAGS) $(LDLIBS)' > $@
FORCE:
.SECONDARY:

$(BUILD)/%.o: %.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	@$(if $(filter 1,$(V)),,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BIN)/attest: $(MAIN_OBJ) $(LIB_OBJS)
	@mkdir -p $(BIN)
	@$(if $(filter 1,$(V)),,echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Shared test support (tests/unit/support/*.c) is linked into every unit test.
TEST_SUPPORT_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/unit/support/*.c))
$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TEST_SUPPORT_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lfcgi

FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build-fuzz/fuzz/%)
FUZZ_SECONDS ?= 60
$(BUILD)/fuzz/%: $(BUILD)/tests/fuzz/%.o $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

# libFuzzer (clang) on every parser of untrusted input; corpora in tests/fuzz/corpus/.
fuzz:
	$(Q)$(MAKE) --no-print-directory CC=clang FUZZ=1 $(FUZZ_BINS)
	$(Q)for f in $(FUZZ_BINS); do n=$${f##*/fuzz_}; mkdir -p build-fuzz/corpus/$$n; \
		echo "== $$f ($(FUZZ_SECONDS) s)"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=8192 build-fuzz/corpus/$$n tests/fuzz/corpus/$$n \
			2>&1 | tail -n 3 || exit 1; done

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Debian packages and npm modules the build and the tests need (idempotent, no prompts).
deps:
	$(Q)deploy/install-deps.sh

run: deps all
	$(Q)PORT=$(PORT) deploy/stack.sh run

test: test-deps all $(UNIT_BINS) $(TOOL_BINS)
	$(Q)tests/run-all.sh

test-deps:
	$(Q)deploy/install-deps.sh --test

test-unit: all $(UNIT_BINS)
	$(Q)tests/run-unit.sh $(BUILD)/tests

test-integration: all
	$(Q)tests/run-integration.sh

test-e2e: all
	$(Q)tests/run-e2e.sh

test-sanitize:
	$(Q)$(MAKE) --no-print-directory SANITIZE=address,undefined all $(patsubst build/%,build-san/%,$(UNIT_BINS))
	$(Q)tests/run-unit.sh build-san/tests
	$(Q)ATTEST_BIN=bin-san/attest tests/run-integration.sh

lint:
	$(Q)tests/lint.sh

bench: test-deps all $(TOOL_BINS)
	$(Q)tests/bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/attest/web \
		$(DESTDIR)$(PREFIX)/share/attest/deploy
	install -m 0755 bin/attest $(DESTDIR)$(PREFIX)/bin/attest
	cp -R web/. $(DESTDIR)$(PREFIX)/share/attest/web/
	cp -R deploy/. $(DESTDIR)$(PREFIX)/share/attest/deploy/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/attest
	rm -rf $(DESTDIR)$(PREFIX)/share/attest

clean:
	rm -rf build build-san build-fuzz bin bin-san
