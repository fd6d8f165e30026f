# What engine 28 adds (GwAllocCheck for internal / no-parent networks, enable_ipv4 and IPv6-only
# networks, several networks on one parent, MACs), asserted on each engine generation: on 20.10
# the script asserts 20.10's own behaviour where it differs (README "Engine compatibility").
# tests/e2e/engine_wire_capture.sh is a tool, not a test: it prints what an engine sends mvlan.
if(TARGET mvlan)
  mvlan_e2e_test(engine28_features engine28_features_test.sh TIMEOUT 200
    ARGS --mvlan $<TARGET_FILE:mvlan>)
  mvlan_e2e_test(engine28_features_engine28 engine28_features_test.sh TIMEOUT 240
    ARGS --mvlan $<TARGET_FILE:mvlan> --engine 28)
endif()
