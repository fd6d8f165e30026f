# Issue 10, cluster-wide IPAM on etcd: three hosts, one subnet, a three-member etcd cluster (see
# CMakeLists.txt for mvlan_e2e_test; the script ends itself 60 s before TIMEOUT).
if(TARGET mvlan)
  mvlan_e2e_test(etcd_cluster etcd_cluster_test.sh TIMEOUT 600 ARGS --mvlan $<TARGET_FILE:mvlan>)
  mvlan_e2e_test(etcd_cluster_engine28 etcd_cluster_test.sh TIMEOUT 600
    ARGS --mvlan $<TARGET_FILE:mvlan> --engine 28)
endif()
