# Scenarios 2-7 of the product and sticky addresses, each on every engine generation (see CMakeLists.txt for
# mvlan_e2e_matrix; the scripts end themselves 60 s before TIMEOUT).
if(TARGET mvlan)
  foreach(scenario two_hosts modes dual_stack connect_disconnect plugin_crash engine_restart sticky)
    mvlan_e2e_matrix(${scenario} ${scenario}_test.sh TIMEOUT 240 ARGS --mvlan $<TARGET_FILE:mvlan>)
  endforeach()
endif()
