# Issue 15, networks of several subnets and /31 networks, on every engine generation (see
# CMakeLists.txt for mvlan_e2e_matrix; the script ends itself 60 s before TIMEOUT).
if(TARGET mvlan)
  mvlan_e2e_matrix(multi_subnet multi_subnet_test.sh TIMEOUT 300 ARGS --mvlan $<TARGET_FILE:mvlan>)
endif()
