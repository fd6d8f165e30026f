# Scenarios that need link kinds the host kernel lacks (802.1Q VLAN), run inside user-mode Linux
# with a Docker engine (Debian 12's docker.io 20.10) and mvlan started there: tests/e2e/uml_engine.sh
# boots it (PID 1: uml_engine_init.sh), the scenario sources uml_engine_lib.sh. The release binary
# ${MVLAN_RELEASE_BIN}: ASan cannot run inside UML. Needs root, user-mode-linux, kmod, docker.io,
# containerd, runc, iptables, busybox-static, curl.
#
# Slow: UML's engine takes 20-60 s per `docker run` depending on the host's load. Scenario 8 took
# 4.5 min on a lightly loaded 2-CPU host (boot and engine start ~50 s) and 6-7.7 min with a load
# average of 8 there (boot ~100 s): hence the long TIMEOUT (the script ends itself, and UML,
# 60 s before it, and reports where it was).
mvlan_e2e_test(uml_vlan uml_vlan_test.sh TIMEOUT 720 ARGS --mvlan ${MVLAN_RELEASE_BIN})
