# mod_authflow -- build, test, install, demo, bench.
#
#   make            build build/libauthflow.a and mod_authflow.so (apxs)
#   make deps       install the Debian packages (and pinned npm packages) everything needs
#   make test       deps + build + check + fuzz smoke + integration + browser tests
#   make check      unit tests, layering check, clang-format check, config drift check
#   make demo       start IdP + Apache + demo backend on 127.0.0.1 and print the URL
#   make demo-shared  the same with two Apache hosts on one PostgreSQL store behind a balancer
#   make install    apxs -i + conf/authflow.{load,conf} into mods-available
#   make bench      side-by-side load benchmarks (see bench/README.md)
#   make soak       soak and fault suite, 8 minutes of load (SOAK_SECONDS; bench/soak.py)

APXS      ?= apxs
CC        ?= gcc
CLANG     ?= clang
PYTHON    ?= /usr/bin/python3
BUILD     := build
WERROR    ?=
WC_WERROR := -Wc,-Werror
comma     := ,

APR_CFLAGS := $(shell apr-1-config --cflags --cppflags --includes 2>/dev/null) \
              $(shell apu-1-config --includes 2>/dev/null)
APR_LIBS   := $(shell apr-1-config --link-ld --libs 2>/dev/null) \
              $(shell apu-1-config --link-ld --libs 2>/dev/null)
DEP_LIBS   := -lcurl -ljansson -llmdb -lssl -lcrypto
DEP_LIBS   += -lpcre2-8  # src/policy regexes (PCRE2, as httpd's ap_regex)
DEP_LIBS   += -lpq       # src/store PostgreSQL backend (libpq)
PG_CFLAGS  := $(shell pkg-config --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)
WARN       := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
              -Wmissing-prototypes -Wformat=2 $(if $(WERROR),-Werror)
CFLAGS     ?= -O2 -g
CORE_CFLAGS = -std=gnu11 -fPIC $(CFLAGS) $(WARN) -fvisibility=hidden -Isrc $(APR_CFLAGS) $(PG_CFLAGS)

CORE_DIRS  := common jose token store policy oidc http session
CORE_SRC   := $(sort $(foreach d,$(CORE_DIRS),$(wildcard src/$(d)/*.c)))
CORE_OBJ   := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(CORE_SRC))
CORE_HDR   := $(sort $(foreach d,$(CORE_DIRS),$(wildcard src/$(d)/*.h)))
CORE_LIB   := $(BUILD)/libauthflow.a

GLUE_SRC   := mod_authflow.c $(sort $(wildcard src/httpd/*.c))
GLUE_HDR   := $(sort $(wildcard src/httpd/*.h))
MODULE     := $(BUILD)/mod_authflow.so

UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
UNIT_HELP  := $(sort $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c)))
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

TOOLS_SRC  := tools/authflowctl.c tools/authflowctl_check.c
TOOLS_BIN  := $(BUILD)/authflowctl

.PHONY: all deps check unit layering format-check format drift test integration e2e \
        fuzz fuzz-smoke install demo demo-shared demo-stop bench bench-jose bench-policy bench-refresh \
        bench-store bench-login bench-shared soak soak-short clean

all: $(MODULE) $(TOOLS_BIN)

deps:
	@tools/deps.sh

$(BUILD)/obj/%.o: src/%.c $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -c -o $@ $<

$(CORE_LIB): $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The module: apxs compiles the glue and links the core library statically.
$(MODULE): $(GLUE_SRC) $(GLUE_HDR) $(CORE_HDR) $(CORE_LIB)
	@mkdir -p $(BUILD)/apxs
	$(APXS) -c -o $(BUILD)/apxs/mod_authflow.la -Isrc \
	    -Wc,-std=gnu11 $(addprefix -Wc$(comma),$(WARN)) -Wc,-fvisibility=hidden \
	    $(if $(WERROR),$(WC_WERROR)) $(GLUE_SRC) \
	    -Wl,--exclude-libs,ALL $(CORE_LIB) $(DEP_LIBS) >$(BUILD)/apxs.log 2>&1 \
	    || { cat $(BUILD)/apxs.log; exit 1; }
	@grep -E 'warning:|error:' $(BUILD)/apxs.log || true
	cp $(BUILD)/apxs/.libs/mod_authflow.so $@.tmp && mv -f $@.tmp $@

$(BUILD)/authflowctl: $(TOOLS_SRC) tools/authflowctl.h $(CORE_LIB) $(CORE_HDR)
	$(CC) $(CORE_CFLAGS) -fvisibility=default -Itools -o $@ $(TOOLS_SRC) $(CORE_LIB) $(APR_LIBS) \
	    $(DEP_LIBS)

# ---- unit tests (check) ------------------------------------------------------------
$(BUILD)/tests/%: tests/unit/%.c $(UNIT_HELP) $(CORE_LIB) $(CORE_HDR) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -Itests/unit -o $@ $< $(UNIT_HELP) $(CORE_LIB) $(APR_LIBS) \
	    $(DEP_LIBS) $(CHECK_LIBS)

unit: $(UNIT_BIN)
	@tools/run-unit.sh $(UNIT_BIN)

layering:
	@tools/check-layering.sh

format-check:
	@tools/check-format.sh

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

drift:
	@tools/check-drift.sh

check: all unit layering format-check drift

# ---- integration and browser tests -------------------------------------------------
integration: all
	cd tests/idp && $(PYTHON) -m pytest -q -ra -p no:cacheprovider
	cd tests/integration && $(PYTHON) -m pytest -q -ra -p no:cacheprovider $(PYTEST_ARGS)

e2e: all
	@if [ -f tests/e2e/run.sh ]; then tests/e2e/run.sh; else echo "e2e: no browser tests yet"; fi

# ---- fuzzing (clang libFuzzer + ASan/UBSan) ----------------------------------------
FUZZ_SECONDS ?= 20
fuzz-smoke: deps
	@tools/fuzz.sh $(FUZZ_SECONDS)

fuzz:
	@tools/fuzz.sh $${FUZZ_LONG_SECONDS:-600}

# ---- the two commands of the README ------------------------------------------------
test: deps
	$(MAKE) all
	$(MAKE) check
	$(MAKE) fuzz-smoke
	$(MAKE) integration
	$(MAKE) soak-short
	$(MAKE) e2e

demo: deps all
	@tools/demo_login.sh start

demo-shared: deps all
	@DEMO_SHARED=1 tools/demo_login.sh start

demo-stop:
	@tools/demo_login.sh stop

install: all
	$(APXS) -i -n authflow $(MODULE)
	install -m 0644 conf/authflow.load $(DESTDIR)/etc/apache2/mods-available/authflow.load
	install -m 0644 conf/authflow.conf $(DESTDIR)/etc/apache2/mods-available/authflow.conf
	install -d $(DESTDIR)/usr/share/apache2/authflow
	install -m 0644 htdocs/*.html $(DESTDIR)/usr/share/apache2/authflow/
	@if [ -f $(BUILD)/authflowctl ]; then install -m 0755 $(BUILD)/authflowctl $(DESTDIR)/usr/local/sbin/authflowctl; fi
	@echo "installed: a2enmod authflow && systemctl reload apache2"

# ---- benchmarks --------------------------------------------------------------------
bench: deps all
	@bench/run.sh
	@bench/refresh.sh
	@bench/store.sh
	@bench/shared.sh
	@if [ -x bench/login.sh ]; then bench/login.sh; fi

bench-refresh: deps all
	@bench/refresh.sh

bench-store: deps all
	@bench/store.sh

bench-login: deps all
	@bench/login.sh

bench-shared: deps all
	@bench/shared.sh

# ---- soak and fault suite (bench/soak.py): make soak is not part of make test; its short
# variant (one minute of saturation, the other phases scaled down, ~2.5 minutes) is
soak: deps all
	@$(PYTHON) bench/soak.py

soak-short: all
	@SOAK_SECONDS=60 $(PYTHON) bench/soak.py

bench-jose: deps all
	@bench/jose.sh

bench-policy: deps all
	@bench/policy.sh

clean:
	rm -rf $(BUILD)
	find . -name '*.lo' -o -name '*.slo' -o -name '*.la' | grep -v node_modules | xargs rm -f
	find . -name .libs -type d -prune -exec rm -rf {} +
