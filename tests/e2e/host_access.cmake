# Issue 7, host access (-o host_access), on both engine generations (see CMakeLists.txt for
# mvlan_e2e_test; the script ends itself 60 s before TIMEOUT).
if(TARGET mvlan)
  mvlan_e2e_test(host_access host_access_test.sh TIMEOUT 240 ARGS --mvlan $<TARGET_FILE:mvlan>)
  mvlan_e2e_test(host_access_engine28 host_access_test.sh TIMEOUT 300
    ARGS --mvlan $<TARGET_FILE:mvlan> --engine 28)
endif()
