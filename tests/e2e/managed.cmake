# mvlan as a managed plugin (docker plugin create/enable), its directory built from the release
# binary exactly as `make plugin` builds it (make plugin-dir): the seed lab, macvlan modes, SIGKILL
# of the plugin process, disable/set LOG_LEVEL/enable, engine restart, removal. The release binary,
# not the ASan one: the plugin's rootfs holds only the libraries ldd names, ASan's runtime is not
# among them. `make test` builds ${MVLAN_RELEASE_BIN} before ctest runs.
mvlan_e2e_matrix(managed_plugin managed_plugin_test.sh TIMEOUT 420 ARGS --mvlan ${MVLAN_RELEASE_BIN})
