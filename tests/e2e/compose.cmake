# Issue 17, Docker Compose v2 (tests/e2e/compose.sh unpacks it; until then the scenario reports
# itself skipped): the README's compose file through up, up again, --scale, --force-recreate,
# down, up. The legacy daemon (ASan build), as `make run` serves it. Alone a run takes 25-30 s.
if(TARGET mvlan)
  mvlan_e2e_matrix(compose compose_test.sh TIMEOUT 240 ARGS --mvlan $<TARGET_FILE:mvlan>)
endif()
