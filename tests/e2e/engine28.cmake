# What engine 28 adds (GwAllocCheck for internal / no-parent networks, enable_ipv4 and IPv6-only
# networks, several networks on one parent, MACs), asserted on each engine generation (29 behaves as 28 here): on 20.10
# the script asserts 20.10's own behaviour where it differs (README "Engine compatibility").
# tests/e2e/engine_wire_capture.sh is a tool, not a test: it prints what an engine sends mvlan.
if(TARGET mvlan)
  mvlan_e2e_matrix(engine28_features engine28_features_test.sh TIMEOUT 240
    ARGS --mvlan $<TARGET_FILE:mvlan>)
endif()
