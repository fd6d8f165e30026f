# The two commands a newcomer needs: `make run` and `make test`. Both install the Debian packages
# they need (only the missing ones), build, and go. `make` alone builds build/mvlan.

BUILD      ?= build
TEST_BUILD ?= $(BUILD)/asan
JOBS       ?= $(shell nproc)
SOCKET     ?= /run/docker/plugins/mvlan.sock
CTEST_ARGS ?=

BUILD_PKGS := g++ cmake make pkg-config libcpp-httplib-dev nlohmann-json3-dev \
              libsqlitecpp-dev libsqlite3-dev catch2 libnl-3-dev libnl-route-3-dev
# iproute2/util-linux: namespaces for the kernel tests; user-mode-linux/kmod: VLAN and dummy
# links, which the host kernel lacks; docker.io and friends: the real engine of the e2e suite.
TEST_PKGS  := $(BUILD_PKGS) iproute2 util-linux procps sqlite3 curl user-mode-linux kmod \
              docker.io containerd runc iptables busybox-static

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
# generation of the e2e suite; the system's packages are not touched.
test-deps:
	$(call install_missing,$(TEST_PKGS))
	bash tests/e2e/engine28.sh

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

clean:
	rm -rf $(BUILD)

FORCE:
