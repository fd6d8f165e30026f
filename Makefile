# The two commands a newcomer needs: `make run` and `make test`. Both install the Debian packages
# they need (only the missing ones), build, and go. `make` alone builds build/mvlan.

BUILD      ?= build
TEST_BUILD ?= $(BUILD)/asan
JOBS       ?= $(shell nproc)
SOCKET     ?= /run/docker/plugins/mvlan.sock
CTEST_ARGS ?=

BUILD_PKGS := g++ cmake make pkg-config libcpp-httplib-dev nlohmann-json3-dev \
              libsqlitecpp-dev libsqlite3-dev catch2 libnl-3-dev libnl-route-3-dev
# clang and its runtime (libFuzzer): the fuzzing of `make fuzz`.
FUZZ_PKGS  := clang libclang-rt-14-dev
# iproute2/util-linux: namespaces for the kernel tests; user-mode-linux/kmod: VLAN and dummy
# links, which the host kernel lacks; docker.io and friends: the real engine of the e2e suite.
TEST_PKGS  := $(BUILD_PKGS) iproute2 util-linux procps sqlite3 curl user-mode-linux kmod \
              docker.io containerd runc iptables busybox-static docker-registry xz-utils \
              etcd-server etcd-client openssl \
              $(FUZZ_PKGS)

# Installs only what is missing, so a second run is a no-op and never touches apt.
define install_missing
	@missing=$$(for p in $(1); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "run as root to install: $$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

.PHONY: all deps test-deps run test build-test clean

all: $(BUILD)/mvlan

deps:
	$(call install_missing,$(BUILD_PKGS))

# Docker 28.5 (Debian sid) is unpacked privately under /var/tmp/engine-28 for the second engine
# generation of the e2e suite, dockerd 29.7.2 from the project's shared folder under
# /var/tmp/engine-29 for the third, and Docker Compose v2 (Debian sid) under /var/tmp/compose-2
# for the compose scenario; the system's packages are not touched.
test-deps:
	$(call install_missing,$(TEST_PKGS))
	bash tests/e2e/engine28.sh
	bash tests/e2e/engine29.sh
	bash tests/e2e/compose.sh

$(BUILD)/build.ninja $(BUILD)/Makefile:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF

# Always delegate to cmake: it knows the real dependencies.
$(BUILD)/mvlan: FORCE $(BUILD)/Makefile
	cmake --build $(BUILD) -j$(JOBS) --target mvlan

run: deps $(BUILD)/mvlan
	$(BUILD)/mvlan serve --socket $(SOCKET)

build-test: test-deps
	cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DMVLAN_SANITIZE="address;undefined" \
	  -DMVLAN_RELEASE_BIN=$(abspath $(BUILD))/mvlan
	cmake --build $(TEST_BUILD) -j$(JOBS)

test: build-test $(BUILD)/mvlan
	cd $(TEST_BUILD) && ctest --output-on-failure -j$(JOBS) $(CTEST_ARGS)
	@$(MAKE) --no-print-directory fuzz
	@$(MAKE) --no-print-directory test-tsan
	@$(MAKE) --no-print-directory test-release

# A Release build (-O3) warns where -O2 does not (GCC 12's false -Wrestrict, for one); warnings are
# errors, so the build type packagers use is built too. The binary is not run.
RELEASE_BUILD ?= $(BUILD)/release

.PHONY: test-release

test-release: deps
	cmake -S . -B $(RELEASE_BUILD) -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF
	cmake --build $(RELEASE_BUILD) -j$(JOBS) --target mvlan
	@echo "test-release: the Release build compiles without a warning"

# ---- ThreadSanitizer: the unit and protocol suites again, built with -fsanitize=thread ---------
# make test-tsan   (part of `make test`)
#   builds only those suites' executables (TSAN_TARGETS) in $(TSAN_BUILD) and runs ctest -L
#   'unit|protocol' there. Any report, from a test or from the daemon it runs, fails it: halt on
#   the first one, and every process writes its reports to $(TSAN_BUILD)/tsan-report.<pid>, which
#   must not exist afterwards (tests/tsan.supp says what is not reported, and why). It fails too when the TSan build has fewer unit/protocol tests than
#   $(TEST_BUILD): a new executable with those labels belongs in TSAN_TARGETS.
TSAN_BUILD   ?= $(BUILD)/tsan
TSAN_TARGETS := mvlan ipam_tests network_driver_test protocol_replay_test malformed_request_test \
                durability_test serve_test hostile_request_test sticky_protocol_test network_subnets_test \
                common_tests store_tests options_test
TSAN_LABELS  := ^(unit|protocol)$$

.PHONY: test-tsan

test-tsan: test-deps
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DMVLAN_SANITIZE=thread \
	  -DMVLAN_RELEASE_BIN=$(abspath $(BUILD))/mvlan
	cmake --build $(TSAN_BUILD) -j$(JOBS) --target $(TSAN_TARGETS)
	@want=$$(cd $(TEST_BUILD) 2>/dev/null && ctest -N -L '$(TSAN_LABELS)' | sed -n 's/^Total Tests: //p'); \
	have=$$(cd $(TSAN_BUILD) && ctest -N -L '$(TSAN_LABELS)' | sed -n 's/^Total Tests: //p'); \
	if [ -n "$$want" ] && [ "$$have" != "$$want" ]; then \
	  echo "test-tsan: $(TSAN_BUILD) has $$have unit/protocol tests, $(TEST_BUILD) $$want: add the missing executables to TSAN_TARGETS in the Makefile" >&2; \
	  exit 1; \
	fi
	@rm -f $(TSAN_BUILD)/tsan-report.*
	@status=0; cd $(TSAN_BUILD) && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(abspath tests/tsan.supp) log_path=$(abspath $(TSAN_BUILD))/tsan-report" \
	  ctest --output-on-failure -j$(JOBS) -L '$(TSAN_LABELS)' || status=$$?; \
	if ls tsan-report.* >/dev/null 2>&1; then \
	  echo "test-tsan: ThreadSanitizer reports:" >&2; cat tsan-report.* >&2; exit 1; \
	fi; \
	exit $$status
	@echo "test-tsan: no ThreadSanitizer report"

clean:
	rm -rf $(BUILD)

FORCE:

# ---- fuzzing: libFuzzer over the request router (tests/fuzz), built with clang in $(FUZZ_BUILD) --
# make fuzz [FUZZ_SECONDS=60]
#   replays the checked-in regression corpus and the seed corpus made from the wire capture (each
#   input once), then fuzzes for FUZZ_SECONDS; any crash, sanitizer report or broken promise fails
#   it and leaves the input in $(FUZZ_BUILD)/artifacts/. New inputs go to $(FUZZ_BUILD)/corpus
#   (kept between runs); one that crashed belongs in tests/fuzz/corpus/, named by what it is.
FUZZ_BUILD   ?= $(BUILD)/fuzz
FUZZ_SECONDS ?= 60
FUZZ_BIN     := $(FUZZ_BUILD)/tests/fuzz/router_fuzz
FUZZ_FLAGS    = -dict=tests/fuzz/router_fuzz.dict -artifact_prefix=$(FUZZ_BUILD)/artifacts/

.PHONY: fuzz fuzz-build

fuzz-build:
	$(call install_missing,$(FUZZ_PKGS))
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
	  -DMVLAN_SANITIZE="address;undefined" -DMVLAN_FUZZ=ON -DBUILD_TESTING=OFF
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target router_fuzz

fuzz: fuzz-build
	@mkdir -p $(FUZZ_BUILD)/artifacts $(FUZZ_BUILD)/corpus
	@echo "router_fuzz: replaying tests/fuzz/corpus and the seeds"
	@$(FUZZ_BIN) $(FUZZ_FLAGS) -runs=0 tests/fuzz/corpus $(FUZZ_BUILD)/tests/fuzz/seeds \
	  >$(FUZZ_BUILD)/replay.log 2>&1 || { tail -n 60 $(FUZZ_BUILD)/replay.log; exit 1; }
	@grep -h 'files found' $(FUZZ_BUILD)/replay.log
	@echo "router_fuzz: fuzzing for $(FUZZ_SECONDS) s"
	@$(FUZZ_BIN) $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	  $(FUZZ_BUILD)/corpus tests/fuzz/corpus $(FUZZ_BUILD)/tests/fuzz/seeds \
	  >$(FUZZ_BUILD)/fuzz.log 2>&1 || { tail -n 80 $(FUZZ_BUILD)/fuzz.log; exit 1; }
	@grep -hE '^#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::average_exec_per_sec' \
	  $(FUZZ_BUILD)/fuzz.log

# ---- benchmarks (`make bench`, not part of `make test`) -----------------------------------------
# make bench [BENCH_ONLY=engine,ipam_pairs,lifecycle,ipam_scale,startup,etcd] [BENCH_OUT=DIR]
#   builds $(BUILD)/mvlan and the bench programs ($(BENCH_BUILD): RelWithDebInfo, no sanitizers),
#   runs tests/bench/run.sh (every section of tests/bench/sections/), prints one markdown table
#   and writes each section's raw figures to $(BENCH_OUT)/<section>.json. Needs root (namespaces,
#   an isolated Docker engine); about 10 minutes on a quiet 2-core machine.
BENCH_BUILD ?= $(BUILD)/bench-tools
BENCH_OUT   ?= $(BUILD)/bench
BENCH_ONLY  ?=

.PHONY: bench

bench:
	$(call install_missing,$(TEST_PKGS) jq)
	@$(MAKE) --no-print-directory $(BUILD)/mvlan
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMVLAN_SANITIZE= -DBUILD_TESTING=ON
	cmake --build $(BENCH_BUILD) -j$(JOBS) --target ipam_load lifecycle_bench ipam_scale_bench startup_bench
	tests/bench/run.sh --mvlan $(BUILD)/mvlan --tools $(BENCH_BUILD)/tests/bench --out $(BENCH_OUT) \
	  $(if $(strip $(BENCH_ONLY)),--only $(BENCH_ONLY))

# ---- packaging: the managed plugin (`make plugin`) and the legacy daemon (`make install`) -------
# make plugin [DOCKER="docker -H unix:///..."] [PLUGIN=mvlan:latest]
#   builds $(PLUGIN_DIR) = config.json + rootfs/ (the top-level rootfs/ skeleton, the stripped
#   release binary as /usr/sbin/mvlan, the shared libraries ldd names and the dynamic loader, and
#   the empty dirs /run/docker/plugins (socket), /var/lib/mvlan (the propagatedMount: state) and
#   /tmp (SQLite's temporary files); no shell, nothing else),
#   then, when DOCKER is given, replaces $(PLUGIN) in that engine with it (docker plugin create;
#   an old plugin of that name is removed first, which Docker refuses while networks use it).
# make plugin-dir MVLAN_BIN=PATH PLUGIN_DIR=DIR
#   the same directory from any binary, without building (the e2e suite uses it).
# make install [PREFIX=/usr/local] [DESTDIR=]
#   the binary in $(SBINDIR), the systemd unit mvlan.service in $(UNITDIR) (not enabled, not
#   started; ordered before docker.service) and the state directory /var/lib/mvlan (0700).
PLUGIN      ?= mvlan:latest
PLUGIN_DIR  ?= $(BUILD)/plugin
MVLAN_BIN   ?= $(BUILD)/mvlan
DOCKER      ?=
PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
UNITDIR     ?= /etc/systemd/system
DESTDIR     ?=

.PHONY: plugin plugin-dir install

plugin: $(BUILD)/mvlan
	@$(MAKE) --no-print-directory plugin-dir MVLAN_BIN=$(BUILD)/mvlan PLUGIN_DIR=$(PLUGIN_DIR)
ifneq ($(strip $(DOCKER)),)
	@if $(DOCKER) plugin inspect $(PLUGIN) >/dev/null 2>&1; then \
	  echo "replacing plugin $(PLUGIN)"; \
	  $(DOCKER) plugin disable $(PLUGIN) >/dev/null 2>&1 || true; \
	  $(DOCKER) plugin rm $(PLUGIN); \
	fi
	$(DOCKER) plugin create $(PLUGIN) $(PLUGIN_DIR)
	@echo "created $(PLUGIN); next: $(DOCKER) plugin enable $(PLUGIN)"
endif

plugin-dir:
	@set -eu; bin='$(MVLAN_BIN)'; dir='$(PLUGIN_DIR)'; \
	[ -n "$$dir" ] && [ "$$dir" != / ] || { echo "plugin-dir: bad PLUGIN_DIR '$$dir'" >&2; exit 1; }; \
	[ -x "$$bin" ] || { echo "plugin-dir: no executable '$$bin' (make, or MVLAN_BIN=PATH)" >&2; exit 1; }; \
	libs=$$(ldd "$$bin") || { echo "plugin-dir: ldd $$bin failed (a static or foreign binary?)" >&2; exit 1; }; \
	if echo "$$libs" | grep -q 'not found'; then echo "plugin-dir: $$bin lacks libraries:" >&2; \
	  echo "$$libs" | grep 'not found' >&2; exit 1; fi; \
	rm -rf "$$dir"; mkdir -p "$$dir/rootfs/usr/sbin"; \
	cp -R rootfs/. "$$dir/rootfs/"; find "$$dir/rootfs" -name .gitkeep -delete; \
	mkdir -p "$$dir/rootfs/run/docker/plugins" "$$dir/rootfs/var/lib/mvlan" "$$dir/rootfs/tmp"; \
	strip -o "$$dir/rootfs/usr/sbin/mvlan" "$$bin"; chmod 0755 "$$dir/rootfs/usr/sbin/mvlan"; \
	for f in $$(echo "$$libs" | awk '{ for (i = 1; i <= NF; i++) if ($$i ~ /^\//) print $$i }'); do \
	  cp -L --parents "$$f" "$$dir/rootfs/"; \
	done; \
	chmod 0700 "$$dir/rootfs/var/lib/mvlan"; chmod 1777 "$$dir/rootfs/tmp"; \
	cp config.json "$$dir/config.json"; \
	echo "plugin directory $$dir: $$(du -sh "$$dir/rootfs" | cut -f1), $$(find "$$dir/rootfs" -type f | wc -l) files"

install: $(BUILD)/mvlan
	install -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BUILD)/mvlan $(DESTDIR)$(SBINDIR)/mvlan
	sed 's|^ExecStart=/usr/local/sbin/mvlan |ExecStart=$(SBINDIR)/mvlan |' mvlan.service \
	  >$(DESTDIR)$(UNITDIR)/mvlan.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/mvlan.service
	install -d -m 0700 $(DESTDIR)/var/lib/mvlan
	@echo "installed; to use it: systemctl daemon-reload && systemctl enable --now mvlan (then restart docker)"

# make plugin-push REGISTRY=host:port [DOCKER=docker] [PLUGIN_VERSION=x.y.z] [PLUGIN_REPO=mvlan]
#                  [MVLAN_BIN=PATH] [PLUGIN_DIR=DIR] [PUSH_DIR=DIR]
#   pushes the managed plugin as $(REGISTRY)/$(PLUGIN_REPO):$(PLUGIN_VERSION) (default: the
#   version in CMakeLists.txt's project()) and $(REGISTRY)/$(PLUGIN_REPO):latest. Builds
#   $(PLUGIN_DIR) as `make plugin` does (from $(MVLAN_BIN)), or pushes the ready directory PUSH_DIR
#   as it is. Docker pushes only plugins it holds: each tag is `docker plugin create`d in the
#   engine DOCKER talks to, pushed and removed again (also on failure), so nothing is left
#   installed. Refuses (before creating anything) when one of those names is already a plugin of
#   that engine, e.g. installed from the registry: push from another engine (DOCKER="docker -H
#   ...") or remove it. Logging in (docker login $(REGISTRY)) is up to you; Docker talks plain
#   HTTP only to 127.0.0.0/8 and to registries listed as insecure-registries in daemon.json.
#   One tag at a time (create, push, rm): Docker 20.10 refuses to create a second plugin from the
#   same content while the first exists ("content sha256:...: already exists").
PLUGIN_REPO    ?= mvlan
PLUGIN_VERSION ?= $(shell sed -n 's/^project(mvlan VERSION \([^ )]*\).*/\1/p' CMakeLists.txt)
REGISTRY       ?=
PUSH_DIR       ?=

.PHONY: plugin-push

ifneq ($(filter plugin-push,$(MAKECMDGOALS)),)
ifeq ($(strip $(REGISTRY)),)
$(error plugin-push: give REGISTRY=host:port, e.g. REGISTRY=registry.example.com:5000)
endif
ifeq ($(filter-out latest,$(strip $(PLUGIN_VERSION))),)
$(error plugin-push: PLUGIN_VERSION='$(PLUGIN_VERSION)': give a version (latest is pushed as well))
endif
endif

plugin-push: $(if $(strip $(PUSH_DIR)),,$(if $(filter $(BUILD)/mvlan,$(MVLAN_BIN)),$(BUILD)/mvlan))
	@$(if $(strip $(PUSH_DIR)),test -f '$(PUSH_DIR)/config.json' -a -d '$(PUSH_DIR)/rootfs' || \
	  { echo "plugin-push: PUSH_DIR=$(PUSH_DIR) is not a plugin directory (config.json + rootfs/)" >&2; exit 1; },\
	  $(MAKE) --no-print-directory plugin-dir MVLAN_BIN='$(MVLAN_BIN)' PLUGIN_DIR='$(PLUGIN_DIR)')
	@set -eu; docker='$(or $(strip $(DOCKER)),docker)'; dir='$(or $(strip $(PUSH_DIR)),$(PLUGIN_DIR))'; \
	base='$(strip $(REGISTRY))/$(strip $(PLUGIN_REPO))'; refs="$$base:$(strip $(PLUGIN_VERSION)) $$base:latest"; \
	for r in $$refs; do \
	  if $$docker plugin inspect "$$r" >/dev/null 2>&1; then \
	    echo "plugin-push: $$r is already a plugin of this engine (installed?): remove it, or push from another engine (DOCKER=...)" >&2; exit 1; \
	  fi; \
	done; \
	made=''; trap 'for r in $$made; do $$docker plugin rm -f "$$r" >/dev/null 2>&1 || true; done' EXIT; \
	for r in $$refs; do \
	  $$docker plugin create "$$r" "$$dir" >/dev/null; made="$$made $$r"; \
	  echo "pushing $$r"; $$docker plugin push "$$r"; \
	  $$docker plugin rm "$$r" >/dev/null; made=''; \
	done; \
	echo "pushed $$refs; install: docker plugin install $$base:$(strip $(PLUGIN_VERSION))"
