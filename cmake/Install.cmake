# `cmake --install build --prefix P`: the programs in P/bin, rrkit's files in P/share/rrkit with the
# same layout as a clone (scenarios/ with profiles/, sut/, examples/, scripts/, stack/), so rr-harness
# finds them through one search order (harness/data_dirs.h) and scripts/setup.sh runs unchanged from
# P/share/rrkit/scripts. Kafka's jars and daprd are not installed: `rr-harness setup` fetches them into
# the set-up cache (~/.cache/rrkit or $RRKIT_CACHE), as a clone's scripts/setup.sh does.
include(GNUInstallDirs)
set(RRKIT_INSTALL_DATADIR ${CMAKE_INSTALL_DATADIR}/rrkit)

install(TARGETS rr-gateway rr-simulator rr-harness RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# rr-bench when it was built (a build may leave it out); OPTIONAL skips a missing binary.
if(TARGET rr-bench)
  install(TARGETS rr-bench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} OPTIONAL)
endif()

install(DIRECTORY ${RRKIT_REPO_DIR}/scenarios ${RRKIT_REPO_DIR}/sut DESTINATION ${RRKIT_INSTALL_DATADIR}
        PATTERN "*.md" EXCLUDE)
# The example gateways' sources and SUT files; their npm dependencies are installed by the user
# (npm ci in the example's folder), never shipped.
install(DIRECTORY ${RRKIT_REPO_DIR}/examples DESTINATION ${RRKIT_INSTALL_DATADIR}
        PATTERN "node_modules" EXCLUDE
        PATTERN ".gitignore" EXCLUDE)
# What scripts/setup.sh needs: its helpers, the pinned versions and the stack's build files.
install(PROGRAMS ${RRKIT_REPO_DIR}/scripts/setup.sh DESTINATION ${RRKIT_INSTALL_DATADIR}/scripts)
install(FILES ${RRKIT_REPO_DIR}/scripts/lib.sh DESTINATION ${RRKIT_INSTALL_DATADIR}/scripts)
install(DIRECTORY ${RRKIT_REPO_DIR}/stack DESTINATION ${RRKIT_INSTALL_DATADIR})
install(FILES ${RRKIT_REPO_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
