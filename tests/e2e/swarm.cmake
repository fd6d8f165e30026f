# Issue 17, swarm services on the managed plugin (swarm ignores legacy plugins), from the release
# binary (see managed.cmake for why): one node; two nodes on one LAN, each with its own
# --ip-range; two nodes sharing one subnet through etcd (labels e2e and etcd, like the etcd
# suite: it needs etcd-server). See swarm_test.sh. Alone, on a quiet machine, a run takes 40 s
# (one node), 52 s (two nodes), 60-70 s (etcd); the TIMEOUTs leave the script (which stops itself
# at TIMEOUT - 60 s) several times that.
mvlan_e2e_matrix(swarm swarm_test.sh TIMEOUT 300 ARGS --mvlan ${MVLAN_RELEASE_BIN})
mvlan_e2e_matrix(swarm_two_nodes swarm_test.sh TIMEOUT 360 ARGS --mvlan ${MVLAN_RELEASE_BIN}
  ENV E2E_SWARM_NODES=2)
mvlan_e2e_matrix(swarm_etcd swarm_test.sh TIMEOUT 420 ARGS --mvlan ${MVLAN_RELEASE_BIN}
  ENV E2E_SWARM_NODES=2 E2E_SWARM_IPAM=etcd LABELS "e2e;etcd")
