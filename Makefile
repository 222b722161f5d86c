# ngx_faas: the nginx module, the runner, the example functions.

CC        ?= cc
INIT_CC   ?= musl-gcc
CFLAGS    ?= -O2 -g
WARN      := -Wall -Wextra -Werror -Wshadow -Wpointer-arith
BUILD     := build
# Debian's nginx-dev tree (configured with the packaged nginx's flags, so
# the module loads into it), or any nginx source tree: NGINX_SRC=...
DEBIAN_NGINX := /usr/share/nginx/src
NGINX_SRC ?=
# extra flags for the module's nginx configure (debian/rules gives the
# hardening flags of dpkg-buildflags)
MODULE_CC_OPT ?=
MODULE_LD_OPT ?=

MODULE_SRC := config $(wildcard ngx_faas_module/*.c ngx_faas_module/*.h) \
              include/faas_protocol.h
MODULE     := $(BUILD)/ngx_http_faas_module.so

RUNNER_SRC := $(wildcard fcgi-runner/*.c)
# the stores: SQLite (embedded), PostgreSQL (libpq; its headers' place);
# zlib: fcgi-runner meter reads logrotate's compressed logs
RUNNER_LIBS := -I/usr/include/postgresql -lsqlite3 -lz
RUNNER_HDR := $(wildcard fcgi-runner/*.h) include/faas_protocol.h \
              fcgi-runner/init/faas-proto.h fcgi-runner/init/faas-sys.h

FUNCTIONS  := $(BUILD)/functions/hello/hello
TEST_BINS  := $(BUILD)/t/testfn $(BUILD)/t/codec_test $(BUILD)/t/cgi \
              $(BUILD)/t/ptracer $(BUILD)/t/fakeclock.so \
              $(BUILD)/t/sockfill

# what building and running need (make deps): the compiler, nginx and
# the headers of its dev tree (PCRE2, OpenSSL, zlib, as Debian's nginx is
# configured), libfcgi for the C example, SQLite for the runner's store,
# the time zones of schedules, php-cgi and python3 for the examples,
# libphp and its headers for the PHP runtime, musl for faas-init
DEPS := gcc libc6-dev nginx nginx-dev libpcre2-dev libssl-dev zlib1g-dev \
        libfcgi-dev libsqlite3-dev libpq-dev tzdata php-cgi python3 \
        php8.2-dev libphp8.2-embed musl-tools

# what only the tests and the bench need (make test-deps): never on a
# production host unless asked for
TEST_DEPS := spawn-fcgi libfcgi-bin wrk php-fpm fcgiwrap clang \
             libclang-rt-14-dev curl openssl strace prometheus sqlite3 \
             systemd dokuwiki debhelper dpkg-dev lintian chromium \
             libimage-png-libpng-perl postgresql-15 python3-flask \
             gunicorn bindfs fuse3 acl logrotate \
             libnginx-mod-http-image-filter

.PHONY: all module runner functions deps test-deps test run install \
        uninstall bench lint clean nginx-builds soak fuzz deb pictures

all: module runner functions

module: $(MODULE)

$(MODULE): $(MODULE_SRC)
	@mkdir -p $(BUILD)
	@if [ -n "$(NGINX_SRC)" ]; then \
	    rm -rf $(BUILD)/nginx && cp -r "$(NGINX_SRC)" $(BUILD)/nginx && \
	    cd $(BUILD)/nginx && ./configure --with-compat \
	        --with-cc-opt="$(MODULE_CC_OPT)" \
	        --with-ld-opt="$(MODULE_LD_OPT)" \
	        --add-dynamic-module=$(CURDIR) >configure.log 2>&1 \
	        || { tail -20 configure.log; exit 1; }; \
	elif [ ! -f $(BUILD)/nginx/objs/Makefile ] \
	     || [ config -nt $(BUILD)/nginx/objs/Makefile ]; then \
	    rm -rf $(BUILD)/nginx && cp -r $(DEBIAN_NGINX) $(BUILD)/nginx && \
	    cd $(BUILD)/nginx && bash -c '. ./conf_flags && ./configure \
	        "$${NGX_CONF_FLAGS[@]}" --with-cc-opt="$(MODULE_CC_OPT)" \
	        --with-ld-opt="$(MODULE_LD_OPT)" \
	        --add-dynamic-module=$(CURDIR)' \
	        >configure.log 2>&1 || { tail -20 configure.log; exit 1; }; \
	fi
	$(MAKE) -C $(BUILD)/nginx -f objs/Makefile modules \
	    NGX_WERROR=-Werror >$(BUILD)/module.log 2>&1 \
	    || { cat $(BUILD)/module.log; exit 1; }
	# a new file, never the one a running nginx has mapped rewritten
	cp $(BUILD)/nginx/objs/ngx_http_faas_module.so $@.new && mv -f $@.new $@

runner: $(BUILD)/fcgi-runner $(BUILD)/faas-init $(BUILD)/faas_wsgi.py \
        $(BUILD)/faas-php

# the PHP runtime: our SAPI on Debian's libphp (libphp8.2-embed), its
# headers from php8.2-dev; the headers are PHP's, not held to our warnings
PHP_CONFIG := php-config8.2
PHP_SRC := $(wildcard fcgi-runner/runtimes/php/*.[ch])

$(BUILD)/faas-php: $(PHP_SRC)
	@mkdir -p $(BUILD)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(CPPFLAGS) $(CFLAGS) $(WARN) \
	    $$($(PHP_CONFIG) --includes | sed 's/-I/-isystem /g') $(LDFLAGS) \
	    -o $@ $(filter %.c,$^) -lphp$$($(PHP_CONFIG) --version | cut -d. -f1,2)

# the Python runtime's driver, read by the runner from beside it
$(BUILD)/faas_wsgi.py: fcgi-runner/runtimes/python/faas_wsgi.py
	@mkdir -p $(BUILD)
	cp $< $@.new && mv -f $@.new $@

$(BUILD)/fcgi-runner: $(RUNNER_SRC) $(RUNNER_HDR)
	@mkdir -p $(BUILD)
	$(CC) -std=gnu11 -D_GNU_SOURCE -Iinclude $(CPPFLAGS) $(CFLAGS) $(WARN) \
	    $(LDFLAGS) -o $@ $(RUNNER_SRC) $(RUNNER_LIBS)

# process 1 of a worker's pid namespace, and each function's prototype:
# static, nothing to load at exec, and on musl: a prototype is then
# 64 kB resident (36 kB Pss) where glibc's static start made it 700 kB.
# musl's static start applies no RELRO and its headers no FORTIFY; the
# build-id (musl-gcc's specs drop gcc's) is given back for -dbgsym
$(BUILD)/faas-init: fcgi-runner/init/faas-init.c fcgi-runner/init/faas-proto.c \
                  fcgi-runner/init/faas-proto.h fcgi-runner/init/faas-sys.h
	@mkdir -p $(BUILD)
	$(INIT_CC) -std=gnu11 -D_GNU_SOURCE $(CPPFLAGS) $(CFLAGS) $(WARN) \
	    $(LDFLAGS) -static -Wl,--build-id -o $@ $(filter %.c,$^)

$(BUILD)/fcgi-runner-asan: $(RUNNER_SRC) $(RUNNER_HDR)
	@mkdir -p $(BUILD)
	$(CC) -std=gnu11 -D_GNU_SOURCE -Iinclude -O1 -g -fno-omit-frame-pointer \
	    -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	    $(WARN) -o $@ $(RUNNER_SRC) $(RUNNER_LIBS)

functions: $(FUNCTIONS) $(TEST_BINS)

# nginx itself, from the upstream source of the packaged version, with
# the module built in its tree: vanilla (its configure's own -O -Werror,
# as most people build third-party modules) and with ASan and UBSan (for
# the module's tests). Only the tests use them; the module's build does
# not. Configured once; a changed module source rebuilds the module.
NGINX_BUILDS := $(BUILD)/vanilla/nginx $(BUILD)/nginx-asan/nginx
SAN_FLAGS    := -fsanitize=address,undefined -fno-omit-frame-pointer
NGINX_BUILD_DEPS := tools/nginx-source.sh tools/nginx-build.sh Makefile

nginx-builds: $(NGINX_BUILDS)

$(BUILD)/vanilla/nginx: $(MODULE_SRC) $(NGINX_BUILD_DEPS)
	@sh tools/nginx-build.sh $(CURDIR) $(BUILD)/vanilla

# nginx's core passes NULL with length 0 to memcpy() (ngx_pstrdup of an
# empty string at startup), which UBSan's nonnull-attribute check stops
# on, and reads 4 bytes at once at any offset on x86 (ngx_str4cmp: a
# pipelined request at an odd offset), which its alignment check stops
# on; those two checks are left out, the rest of UBSan stays
$(BUILD)/nginx-asan/nginx: $(MODULE_SRC) $(NGINX_BUILD_DEPS)
	@sh tools/nginx-build.sh $(CURDIR) $(BUILD)/nginx-asan \
	    --with-cc-opt="$(SAN_FLAGS) -fno-sanitize=nonnull-attribute \
	                   -fno-sanitize=alignment \
	                   -fno-sanitize-recover=undefined" \
	    --with-ld-opt="$(SAN_FLAGS)"

# static: no dynamic loading at exec, the fastest cold start (ld's note
# on gethostbyname concerns libfcgi's TCP sockets, which workers never use)
$(BUILD)/functions/hello/hello: functions/hello/hello.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -static -o $@ $< -lfcgi 2>&1 \
	    | grep -v "gethostbyname\|in function .OS_CreateLocalIpcFd" >&2 || true
	@test -x $@

$(BUILD)/t/codec_test: t/codec/codec_test.c fcgi-runner/fr_fcgi.c \
                       fcgi-runner/fr_fcgi.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(CFLAGS) $(WARN) -Ifcgi-runner -o $@ \
	    t/codec/codec_test.c fcgi-runner/fr_fcgi.c

$(BUILD)/t/fcgi_fuzz: t/codec/fcgi_fuzz.c fcgi-runner/fr_fcgi.c \
                      fcgi-runner/fr_fcgi.h
	@mkdir -p $(dir $@)
	clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined $(WARN) \
	    -Ifcgi-runner -o $@ t/codec/fcgi_fuzz.c fcgi-runner/fr_fcgi.c

$(BUILD)/t/cgi: t/fn/cgi.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -pthread -o $@ $<

# static on musl: a resident set smaller than a prototype's
$(BUILD)/t/sockfill: t/fn/sockfill.c
	@mkdir -p $(dir $@)
	$(INIT_CC) $(CFLAGS) $(WARN) -static -o $@ $<

$(BUILD)/t/ptracer: t/fn/ptracer.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -o $@ $<

# a wall clock shifted for one process (LD_PRELOAD), never the machine's
$(BUILD)/t/fakeclock.so: t/fn/fakeclock.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -shared -fPIC -o $@ $< -ldl

# the module's record parser alone, against the nginx tree the module's
# build configured (headers only: the parser calls nothing of nginx)
NGX_INCS := $(addprefix -I$(BUILD)/nginx/, src/core src/event \
              src/event/modules src/os/unix objs src/http src/http/modules \
              src/http/v2)

$(BUILD)/t/module_parse_fuzz: t/codec/module_parse_fuzz.c \
                              ngx_faas_module/ngx_http_faas_record.c $(MODULE)
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address,undefined $(NGX_INCS) -Iinclude \
	    -Ingx_faas_module -Wall -Wextra -Werror -Wno-unused-parameter \
	    -o $@ t/codec/module_parse_fuzz.c \
	    ngx_faas_module/ngx_http_faas_record.c

$(BUILD)/t/testfn: t/fn/testfn.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -pthread -o $@ $< -lfcgi

BENCH_BINS := $(BUILD)/bench/hello-cgi $(BUILD)/bench/spawn-floor \
              $(BUILD)/bench/noop

$(BUILD)/bench/hello-cgi: bench/hello-cgi.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -o $@ $<

$(BUILD)/bench/spawn-floor: bench/spawn-floor.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -o $@ $<

$(BUILD)/bench/noop: bench/noop.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -static -o $@ $<

bench: deps test-deps all $(BENCH_BINS)
	perl bench/bench.pl
	perl bench/store.pl
	perl bench/python.pl
	perl bench/php.pl

# the README's screenshots made again (docs/dashboard.png after
# PICTURE_MINUTES of load, docs/usage-report.png of a made-up log) by
# tools/screenshots, with headless Chromium; never part of make test
PICTURE_MINUTES ?= 3

pictures: deps test-deps all
	perl tools/screenshots --minutes $(PICTURE_MINUTES) docs

# installs the packages of $(1) that are missing; apt-get update only
# when something is
define apt_install
	@missing=""; for p in $(1); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	        | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	        apt-get install -y -qq --no-install-recommends $$missing \
	        >/dev/null || exit 1; \
	fi
endef

deps:
	$(call apt_install,$(DEPS))

test-deps:
	$(call apt_install,$(TEST_DEPS))

FUZZERS := $(BUILD)/t/fcgi_fuzz $(BUILD)/t/module_parse_fuzz \
           $(BUILD)/t/runner_fuzz $(BUILD)/t/runner_worker_fuzz \
           $(BUILD)/t/fuzz_worker

# the runner's request path, every file but fr_main.c
FUZZ_RUNNER := t/codec/fuzz_runner.c t/codec/fuzz_runner.h

$(BUILD)/t/runner_fuzz: t/codec/runner_fuzz.c $(FUZZ_RUNNER) $(RUNNER_SRC) \
                        $(RUNNER_HDR)
	@mkdir -p $(dir $@)
	clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	    -Iinclude -Ifcgi-runner $(WARN) -o $@ t/codec/runner_fuzz.c \
	    t/codec/fuzz_runner.c \
	    $(filter-out fcgi-runner/fr_main.c,$(RUNNER_SRC)) $(RUNNER_LIBS)

# the worker side: real worker processes answering with fuzzed bytes
$(BUILD)/t/runner_worker_fuzz: t/codec/runner_worker_fuzz.c $(FUZZ_RUNNER) \
                               $(RUNNER_SRC) $(RUNNER_HDR)
	@mkdir -p $(dir $@)
	clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	    -Iinclude -Ifcgi-runner $(WARN) -o $@ t/codec/runner_worker_fuzz.c \
	    t/codec/fuzz_runner.c \
	    $(filter-out fcgi-runner/fr_main.c,$(RUNNER_SRC)) $(RUNNER_LIBS)

$(BUILD)/t/fuzz_worker: t/codec/fuzz_worker.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 $(WARN) -o $@ $<

# two test files at a time; t/testrules.yml names those that run alone
TEST_JOBS ?= 2

test: deps test-deps all $(BUILD)/fcgi-runner-asan $(FUZZERS) \
      $(NGINX_BUILDS)
	@bash tools/prove.sh $(TEST_JOBS) -r t

# every fuzzer, longer than make test runs them: the libFuzzer targets
# (the codec, the module's record parser, the runner's request path) for
# FUZZ_SECONDS each, then the random-stream tests of the runner and of
# the module (against the ASan nginx) for about as long each
FUZZ_SECONDS ?= 60

fuzz: deps test-deps all $(BUILD)/fcgi-runner-asan $(FUZZERS) \
      $(NGINX_BUILDS)
	@mkdir -p $(BUILD)/fuzz-corpus $(BUILD)/fuzz-corpus-module
	$(BUILD)/t/fcgi_fuzz -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 \
	    -print_final_stats=1 -artifact_prefix=$(BUILD)/ $(BUILD)/fuzz-corpus
	$(BUILD)/t/module_parse_fuzz -max_total_time=$(FUZZ_SECONDS) \
	    -rss_limit_mb=1024 -print_final_stats=1 -artifact_prefix=$(BUILD)/ \
	    $(BUILD)/fuzz-corpus-module
	@mkdir -p $(BUILD)/fuzz-corpus-runner
	$(BUILD)/t/runner_fuzz -max_total_time=$(FUZZ_SECONDS) \
	    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$(BUILD)/ \
	    $(BUILD)/fuzz-corpus-runner
	@mkdir -p $(BUILD)/fuzz-corpus-worker
	$(BUILD)/t/runner_worker_fuzz -max_total_time=$(FUZZ_SECONDS) \
	    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$(BUILD)/ \
	    $(BUILD)/fuzz-corpus-worker
	FUZZ_ITERATIONS=$$(( $(FUZZ_SECONDS) * 40 )) prove -v t/runner_fuzz.t
	FUZZ_ITERATIONS=$$(( $(FUZZ_SECONDS) * 25 )) \
	TEST_NGINX_BINARY=$(CURDIR)/$(BUILD)/nginx-asan/nginx \
	TEST_FAAS_MODULE=$(CURDIR)/$(BUILD)/nginx-asan/ngx_http_faas_module.so \
	ASAN_OPTIONS=detect_leaks=0:detect_odr_violation=0 \
	    prove -v t/module_fuzz.t

# the soak of t/soak.t at full length, on the plain runner (its resident
# memory measured); make test runs 20000 requests of it on the ASan one
SOAK_REQUESTS ?= 1000000

soak: deps test-deps all
	SOAK_REQUESTS=$(SOAK_REQUESTS) prove -v t/soak.t

run: deps all
	@sh tools/run.sh $(PORT)

# as Debian lays nginx out; DESTDIR for packaging
DESTDIR     ?=
MODULES_DIR ?= /usr/lib/nginx/modules

# a file that a running process may have mapped (the module in nginx's
# workers, the runner, faas-init) gets a new inode: written beside under
# a temporary name, then renamed over the old one, which lives on for
# those who have it mapped (install(1) alone rewrites it in place)
install_new = install -D -m $(1) $(2) $(dir $(3)).$(notdir $(3)).new \
              && mv -f $(dir $(3)).$(notdir $(3)).new $(3)

install: module runner
	$(call install_new,0644,$(MODULE),$(DESTDIR)$(MODULES_DIR)/ngx_http_faas_module.so)
	install -d $(DESTDIR)/usr/share/nginx/modules-available
	echo "load_module modules/ngx_http_faas_module.so;" \
	    > $(DESTDIR)/usr/share/nginx/modules-available/mod-http-faas.conf
	install -d $(DESTDIR)/etc/nginx/modules-enabled
	ln -sf /usr/share/nginx/modules-available/mod-http-faas.conf \
	    $(DESTDIR)/etc/nginx/modules-enabled/50-mod-http-faas.conf
	$(call install_new,0755,$(BUILD)/fcgi-runner,$(DESTDIR)/usr/sbin/fcgi-runner)
	$(call install_new,0755,$(BUILD)/faas-init,$(DESTDIR)/usr/lib/faas/faas-init)
	$(call install_new,0644,$(BUILD)/faas_wsgi.py,$(DESTDIR)/usr/lib/faas/faas_wsgi.py)
	$(call install_new,0755,$(BUILD)/faas-php,$(DESTDIR)/usr/lib/faas/faas-php)
	install -D -m 0644 conf/fcgi-runner.service \
	    $(DESTDIR)/lib/systemd/system/fcgi-runner.service
	install -D -m 0644 conf/fcgi-runner.socket \
	    $(DESTDIR)/lib/systemd/system/fcgi-runner.socket
	install -d $(DESTDIR)/etc/faas/functions
	[ -e $(DESTDIR)/etc/faas/runner.conf ] || \
	    install -m 0640 conf/runner.conf $(DESTDIR)/etc/faas/runner.conf
	install -D -m 0644 conf/faas-site.conf \
	    $(DESTDIR)/usr/share/doc/ngx-faas/examples/faas-site.conf
	install -D -m 0644 README.md $(DESTDIR)/usr/share/doc/ngx-faas/README.md
	install -D -m 0644 docs/fcgi-runner.8 \
	    $(DESTDIR)/usr/share/man/man8/fcgi-runner.8
	install -D -m 0644 docs/function.conf.5 \
	    $(DESTDIR)/usr/share/man/man5/function.conf.5

# the Debian packages libnginx-mod-http-faas and fcgi-runner, built by
# dpkg-buildpackage in a copy of the tree under build/deb (its output
# lands beside the copy, nothing in the source tree), then checked by
# lintian: errors and warnings fail (debian/*.lintian-overrides says why
# for the few that are by design)
DEB_DIR := $(BUILD)/deb

deb:
	@for t in dpkg-buildpackage dh dh_nginx lintian; do \
	    command -v $$t >/dev/null || { echo "make deb needs $$t:" \
	        "make test-deps (dpkg-dev, debhelper, lintian) and make deps (nginx-dev)"; \
	        exit 1; }; \
	done
	@v=$$(dpkg-parsechangelog -S Version) && src=$(DEB_DIR)/ngx-faas-$$v \
	&& rm -rf $(DEB_DIR) && mkdir -p $$src \
	&& tar -c --exclude-vcs --exclude=./$(BUILD) --exclude=./t/tmp \
	       --exclude=./tmp . | tar -x -C $$src \
	&& echo "dpkg-buildpackage in $$src" \
	&& (cd $$src && dpkg-buildpackage -us -uc -j2) \
	       >$(DEB_DIR)/build.log 2>&1 \
	    || { tail -40 $(DEB_DIR)/build.log; exit 1; }
	lintian --fail-on error,warning $(DEB_DIR)/*.changes
	@ls $(DEB_DIR)/*.deb

# what install put down; a runner.conf that was changed, the functions
# and what the runner keeps (state_dir, logs) stay, as apt's remove does
uninstall:
	@if [ -z "$(DESTDIR)" ] && command -v systemctl >/dev/null \
	    && systemctl is-active --quiet fcgi-runner 2>/dev/null; then \
	    echo "stopping fcgi-runner"; \
	    systemctl disable --now fcgi-runner >/dev/null 2>&1 || true; \
	fi
	rm -f $(DESTDIR)$(MODULES_DIR)/ngx_http_faas_module.so \
	    $(DESTDIR)/etc/nginx/modules-enabled/50-mod-http-faas.conf \
	    $(DESTDIR)/usr/share/nginx/modules-available/mod-http-faas.conf \
	    $(DESTDIR)/usr/sbin/fcgi-runner \
	    $(DESTDIR)/usr/lib/faas/faas-init $(DESTDIR)/usr/lib/faas/faas_wsgi.py \
	    $(DESTDIR)/usr/lib/faas/faas-php \
	    $(DESTDIR)/lib/systemd/system/fcgi-runner.service \
	    $(DESTDIR)/lib/systemd/system/fcgi-runner.socket \
	    $(DESTDIR)/usr/share/doc/ngx-faas/examples/faas-site.conf \
	    $(DESTDIR)/usr/share/doc/ngx-faas/README.md \
	    $(DESTDIR)/usr/share/man/man8/fcgi-runner.8 \
	    $(DESTDIR)/usr/share/man/man5/function.conf.5
	@if cmp -s conf/runner.conf $(DESTDIR)/etc/faas/runner.conf; then \
	    rm -f $(DESTDIR)/etc/faas/runner.conf; \
	elif [ -e $(DESTDIR)/etc/faas/runner.conf ]; then \
	    echo "kept $(DESTDIR)/etc/faas/runner.conf: it was changed"; \
	fi
	-@rmdir $(DESTDIR)/usr/lib/faas \
	    $(DESTDIR)/usr/share/doc/ngx-faas/examples \
	    $(DESTDIR)/usr/share/doc/ngx-faas \
	    $(DESTDIR)/etc/faas/functions $(DESTDIR)/etc/faas 2>/dev/null || true
	@if [ -z "$(DESTDIR)" ] && command -v systemctl >/dev/null; then \
	    systemctl daemon-reload 2>/dev/null || true; \
	fi

# the rules of STYLE.md a tool can check, on our own C
LINT_SRC := $(wildcard fcgi-runner/*.[ch] fcgi-runner/init/*.c \
                       fcgi-runner/runtimes/php/*.[ch] \
                       ngx_faas_module/*.[ch] \
                       include/*.h t/codec/*.c t/fn/*.c functions/*/*.c \
                       bench/*.c)

lint:
	@bad=0; for f in $(LINT_SRC); do \
	    awk -v f=$$f 'length > 80 { print f ":" FNR ": over 80 columns"; b=1 } \
	        /\t/ { print f ":" FNR ": tab"; b=1 } \
	        / +$$/ { print f ":" FNR ": trailing space"; b=1 } \
	        /(^|[^:"])\/\// { print f ":" FNR ": // comment"; b=1 } \
	        /^\/\*/ && FNR > 1 && !inc { if (pend) { print f ":" pl \
	            ": a comment on nothing (its code moved?)"; b=1 } \
	            inc=1; start=FNR } \
	        inc && /\*\// { inc=0; pend=1; pl=start; next } \
	        pend && /^$$/ { next } \
	        pend { pend=0 } \
	        END { if (pend) { print f ":" pl ": a comment on nothing"; \
	            b=1 } exit b }' $$f || bad=1; \
	done; \
	[ $$bad = 0 ] && echo "lint: $(words $(LINT_SRC)) files clean"
	@sh tools/include-order.sh fcgi-runner
	@for f in fcgi-runner/*.c; do \
	    n=$$(wc -l <$$f); [ $$n -le 900 ] \
	        || { echo "$$f: $$n lines, over 900"; exit 1; }; \
	done

clean:
	rm -rf $(BUILD)
