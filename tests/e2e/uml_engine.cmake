# Scenarios that need link kinds the host kernel lacks (802.1Q VLAN, dummy), run inside user-mode
# Linux with a Docker engine and mvlan started there: tests/e2e/uml_engine.sh boots it (PID 1:
# uml_engine_init.sh), the scenario sources uml_engine_lib.sh. Each runs on every engine
# generation: Debian 12's docker.io 20.10, Docker 28.5 as tests/e2e/engine28.sh unpacks it, and
# 29.7.2 as tests/e2e/engine29.sh does (`make test-deps`; without them those variants skip). The release binary
# ${MVLAN_RELEASE_BIN}: ASan cannot run inside UML. Needs root, user-mode-linux, kmod, docker.io,
# containerd, runc, iptables, busybox-static, curl.
#
# Slow: UML's engine takes 15-60 s per `docker run` depending on the host's load, and is ready
# 85-120 s after boot. Scenario 8 (four containers) took, on a 2-CPU host: 6.3 min on 28.5 and
# 8.8 min on 20.10 with a load average of 7, 8.4 min on 28.5 with one of 14. Hence the long
# TIMEOUT (the script ends itself, and UML, 60 s before it, and reports where it was).
mvlan_e2e_matrix(uml_vlan uml_vlan_test.sh TIMEOUT 840 ARGS --mvlan ${MVLAN_RELEASE_BIN})
