# Issue 10, cluster-wide IPAM on etcd: three hosts, one subnet, a three-member etcd cluster (see
# CMakeLists.txt for mvlan_e2e_test; the script ends itself 60 s before TIMEOUT). Labels e2e and
# etcd: it needs etcd-server, like the etcd suite. Its etcd members listen on addresses inside the
# run's own namespace, so it runs beside the etcd suite (on 127.0.0.1) and other e2e runs.
# TIMEOUT: alone a run takes 65-100 s, both engines' runs in parallel (ctest -j2) 106-121 s;
# with the managed plugin and restarts 157-163 s; 420 leaves the script (which stops itself at
# TIMEOUT - 60 s) twice that.
if(TARGET mvlan)
  # h3 runs the managed plugin: from the release binary (see managed.cmake for why).
  mvlan_e2e_matrix(etcd_cluster etcd_cluster_test.sh TIMEOUT 420 ARGS --mvlan $<TARGET_FILE:mvlan>
    ENV E2E_MANAGED_BIN=${MVLAN_RELEASE_BIN} LABELS "e2e;etcd")
endif()
