# Stremora. `make run` starts the whole stack on http://127.0.0.1:8080; `make test` passes
# every test. Both install what is missing first (deploy/install-deps).

SHELL   := /bin/bash
CC      ?= cc
PKGS    := libmongoc-1.0 json-c libcurl openssl libcrypt
# Library headers as -isystem: libbson's own headers fail -Wsign-conversion otherwise.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null | sed 's/-I/-isystem /g')
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lfcgi -lcrack -lm

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
           -Wpointer-arith -Wvla -Wimplicit-fallthrough
CONVERSION := -Wconversion -Wsign-conversion
OPT     ?= -O2 -g -D_FORTIFY_SOURCE=2
SAN     ?=
CFLAGS   = $(OPT) $(SAN) -std=c11 -D_GNU_SOURCE $(WARN) -fstack-protector-strong -fPIE -Icommon \
           $(PKG_CFLAGS)
LDFLAGS  = $(SAN) -pie -Wl,-z,relro,-z,now
ASAN_OPT := -O1 -g -fno-omit-frame-pointer -U_FORTIFY_SOURCE
ASAN_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all

B ?= build
COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/obj/%.o)
FCGI_OBJ   := $(patsubst %.c,$(B)/obj/%.o,$(wildcard fcgi/*.c))
CTL_OBJ    := $(patsubst %.c,$(B)/obj/%.o,$(wildcard ctl/*.c))
WORKER_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(wildcard worker/*.c))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
HEADERS    := $(wildcard common/*.h)

.PHONY: all web deps run stop test unit e2e fuzz fuzz-short bench check-asan fmt check-fmt \
        check-headers clean
.DELETE_ON_ERROR:

all: $(B)/stremora-fcgi $(B)/stremora-worker $(B)/stremoractl $(B)/bench-floor $(B)/bench-ladder \
     $(B)/bench-dbtime $(B)/web/index.html

deps:
	@deploy/install-deps

# common/ compiles with the conversion warnings too.
$(B)/obj/common/%.o: common/%.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CFLAGS) $(CONVERSION) -c $< -o $@

$(B)/obj/%.o: %.c $(HEADERS) $(wildcard fcgi/*.h worker/*.h ctl/*.h) Makefile
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CFLAGS) -c $< -o $@

$(B)/libcommon.a: $(COMMON_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/stremora-fcgi: $(FCGI_OBJ) $(B)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/stremora-worker: $(WORKER_OBJ) $(B)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/stremoractl: $(CTL_OBJ) $(B)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The browser app: web/ with hashed asset names (tools/webbuild), served by nginx.
web: $(B)/web/index.html
$(B)/web/index.html: $(wildcard web/*.html web/*.js web/*.css web/*.svg) web/package.json \
                     tools/webbuild
	@echo "  WEB $(B)/web"
	@tools/webbuild $(B)/web

$(B)/bench-floor: tests/bench/floor.c
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -lfcgi

$(B)/bench-dbtime: tests/bench/dbtime.c $(B)/libcommon.a
	$(CC) $(CFLAGS) -Wno-missing-prototypes $(LDFLAGS) -o $@ $< $(B)/libcommon.a $(PKG_LIBS)

$(B)/bench-ladder: tests/bench/ladder.c $(B)/libcommon.a
	$(CC) $(CFLAGS) -Wno-missing-prototypes $(LDFLAGS) -o $@ $< $(B)/libcommon.a $(PKG_LIBS)

# test_crypto plays a failing OpenSSL through the linker (--wrap).
WRAP_test_crypto := -Wl,--wrap=EVP_DigestFinal_ex
$(B)/tests/%: tests/unit/%.c $(B)/libcommon.a
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CFLAGS) -Wno-missing-prototypes $(LDFLAGS) $(WRAP_$*) -o $@ $< $(B)/libcommon.a \
	    $(PKG_LIBS) -lcmocka

# Fuzz targets: clang, libFuzzer, ASan, UBSan; each links the common sources it needs.
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -Icommon $(PKG_CFLAGS) \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(WARN) $(CONVERSION)
$(B)/fuzz/%: tests/fuzz/%.c $(COMMON_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  FUZZ $@"
	@clang $(FUZZ_CFLAGS) -Wno-missing-prototypes -o $@ $< $(COMMON_SRC) $(PKG_LIBS)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# Short fuzz runs (seconds each) are part of make test; make fuzz runs longer.
FUZZ_SECONDS ?= 5
fuzz-short: $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); c=tests/fuzz/corpus/$${n#fuzz_}; \
	    mkdir -p $(B)/corpus/$$n; echo "== $$n ($(FUZZ_SECONDS) s)"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 $(B)/corpus/$$n $$c 2>$(B)/fuzz/$$n.log \
	    || { tail -50 $(B)/fuzz/$$n.log; exit 1; }; done
fuzz:
	@$(MAKE) --no-print-directory fuzz-short FUZZ_SECONDS=120

run: deps all
	@tools/stack start

stop:
	@tools/stack stop

# The private test stack lives in var/test on other ports; it is stopped whatever happens.
test: deps all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory fuzz-short
	@$(MAKE) --no-print-directory e2e

e2e: all
	@tools/e2e

bench: deps all
	@tools/bench

check-asan:
	@$(MAKE) --no-print-directory B=build/asan OPT="$(ASAN_OPT)" SAN="$(ASAN_SAN)" all unit
	@STREMORA_BUILD=$(CURDIR)/build/asan ASAN_OPTIONS=detect_leaks=0 tools/e2e

check-headers:
	@set -e; for h in $(HEADERS); do echo '#include "'$$(basename $$h)'"' | \
	    $(CC) $(CFLAGS) $(CONVERSION) -x c -fsyntax-only -Icommon - || { echo "$$h"; exit 1; }; done; \
	    ! grep -l 'fcgiapp.h' common/*.[ch] | grep -v '^common/http\.[ch]$$'; \
	    ! grep -nE '#include "\.\./(fcgi|worker|ctl)' common/*.[ch]

FMT_FILES = $(shell git ls-files '*.c' '*.h')
fmt:
	clang-format-16 -i $(FMT_FILES)
check-fmt:
	clang-format-16 --dry-run --Werror $(FMT_FILES)

clean:
	rm -rf $(B)
