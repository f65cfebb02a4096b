# asc — build, test, bench.  `make help` lists the targets.
CC       ?= cc
PKGS     := libuv libcurl yaml-0.1 libcjson libsodium sqlite3 openssl
SAN      ?=
BUILD    ?= build
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN     += -Werror
endif
ifeq ($(SAN),1)
BUILD    := build-asan
CFLAGS   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDSAN    := -fsanitize=address,undefined
endif
CPPFLAGS += -Isrc -D_GNU_SOURCE $(shell pkg-config --cflags $(PKGS))
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS)
LDLIBS   += $(shell pkg-config --libs $(PKGS)) -lhttp_parser -lpthread -lm
LDFLAGS  += $(LDSAN)

LIB_SRC  := $(filter-out src/cmd/%,$(wildcard src/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/*_test.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BINS     := $(BUILD)/asc $(BUILD)/asc-mock

.PHONY: all help deps test-deps run test unit integration check asan clean bench fuzz format format-check
all: $(BINS)

help:
	@echo "make            build build/asc and build/asc-mock"
	@echo "make run        install dependencies, build, start asc serve on the default config"
	@echo "make check      install test dependencies and run the whole suite (what CI runs)"
	@echo "make test       unit + integration tests (no sanitizers)"
	@echo "make unit       cmocka unit tests"
	@echo "make asan       unit + integration tests under ASan+UBSan"
	@echo "make fuzz       run each fuzzer for FUZZ_SECONDS (default 30)"
	@echo "make bench      benchmark asc against nginx (not a test)"

V ?= 0
ifeq ($(V),0)
Q := @
endif

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@[ "$(V)" != 0 ] || echo "  CC    $<"
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libasc.a: $(LIB_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/asc: $(BUILD)/src/cmd/asc.o $(BUILD)/libasc.a
	@[ "$(V)" != 0 ] || echo "  LINK  $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/asc-mock: $(BUILD)/src/cmd/asc_mock.o $(BUILD)/libasc.a
	@[ "$(V)" != 0 ] || echo "  LINK  $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libasc.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs cmocka)

deps:
	@scripts/deps.sh build

test-deps:
	@scripts/deps.sh test

run: all
	$(BUILD)/asc serve $(ARGS)

unit: $(UNIT_BIN)
	@scripts/run-unit.sh $(UNIT_BIN)

integration: $(BINS)
	ASC_BUILD=$(BUILD) npm test

test: unit integration

asan:
	$(MAKE) SAN=1 unit integration

fuzz:
	@scripts/fuzz.sh $(FUZZ_SECONDS)

check:
	$(MAKE) format-check
	$(MAKE) WERROR=1 all
	$(MAKE) CC=clang WERROR=1 BUILD=build-clang all
	$(MAKE) WERROR=1 test
	$(MAKE) WERROR=1 asan
	FUZZ_SECONDS=$${FUZZ_SECONDS:-30} scripts/fuzz.sh

bench: all
	bench/run.sh

FORMAT_FILES = $(wildcard src/*/*.c src/*/*.h tests/unit/*.c tests/fuzz/*.c bench/*.c)

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@clang-format --dry-run --Werror $(FORMAT_FILES) && echo "format: ok"

clean:
	rm -rf build build-asan build-clang build-fuzz

-include $(LIB_OBJ:.o=.d) $(BUILD)/src/cmd/asc.d $(BUILD)/src/cmd/asc_mock.d
