# Issue 15, networks of several subnets and /31 networks, on both engine generations (see
# CMakeLists.txt for mvlan_e2e_test; the script ends itself 60 s before TIMEOUT).
if(TARGET mvlan)
  mvlan_e2e_test(multi_subnet multi_subnet_test.sh TIMEOUT 240 ARGS --mvlan $<TARGET_FILE:mvlan>)
  mvlan_e2e_test(multi_subnet_engine28 multi_subnet_test.sh TIMEOUT 300
    ARGS --mvlan $<TARGET_FILE:mvlan> --engine 28)
endif()
