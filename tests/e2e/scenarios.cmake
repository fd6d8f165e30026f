# Scenarios 2-7 of the product, each on both engine generations (see CMakeLists.txt for
# mvlan_e2e_test; the scripts end themselves 60 s before TIMEOUT).
if(TARGET mvlan)
  foreach(scenario two_hosts modes dual_stack connect_disconnect plugin_crash engine_restart)
    mvlan_e2e_test(${scenario} ${scenario}_test.sh TIMEOUT 180 ARGS --mvlan $<TARGET_FILE:mvlan>)
    mvlan_e2e_test(${scenario}_engine28 ${scenario}_test.sh TIMEOUT 240
      ARGS --mvlan $<TARGET_FILE:mvlan> --engine 28)
  endforeach()
endif()
