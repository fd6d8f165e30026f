# Install and upgrade from a registry, as users do (issue 9): Debian's docker-registry on
# 127.0.0.1:5000 inside the test engine's netns, `make plugin-push`, `docker plugin install
# <reg>/mvlan:<version> LOG_LEVEL=debug`, a network and containers, then a distinct v2 pushed and
# `docker plugin disable -f` / `upgrade` / `enable`: network, addresses and allocations survive.
# The release binary, as for the other managed-plugin scenarios (ASan's runtime is not in the
# plugin's rootfs). Needs the package docker-registry (in the Makefile's TEST_PKGS).
mvlan_e2e_matrix(managed_upgrade upgrade_test.sh TIMEOUT 360 ARGS --mvlan ${MVLAN_RELEASE_BIN})
