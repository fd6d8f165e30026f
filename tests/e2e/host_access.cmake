# Issue 7, host access (-o host_access), on every engine generation (see CMakeLists.txt for
# mvlan_e2e_matrix; the script ends itself 60 s before TIMEOUT).
if(TARGET mvlan)
  mvlan_e2e_matrix(host_access host_access_test.sh TIMEOUT 300 ARGS --mvlan $<TARGET_FILE:mvlan>)
endif()
