# rrkit's version facts for common/build_info: the pinned stack versions (stack/versions.env, the single
# source scripts read too) at configure time, and the git commit at every build.

file(STRINGS ${RRKIT_REPO_DIR}/stack/versions.env _version_lines REGEX "^[A-Z_]+=")
foreach(_line IN LISTS _version_lines)
  string(REGEX MATCH "^([A-Z_]+)=(.*)$" _m "${_line}")
  set(${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
endforeach()
string(REGEX REPLACE "^v" "" DAPR_VERSION_NUM "${DAPR_VERSION}")
set_property(DIRECTORY ${RRKIT_REPO_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${RRKIT_REPO_DIR}/stack/versions.env)

set(RRKIT_GENERATED_DIR ${CMAKE_BINARY_DIR}/generated)
configure_file(${CMAKE_CURRENT_LIST_DIR}/build_versions.h.in ${RRKIT_GENERATED_DIR}/rrkit/build_versions.h @ONLY)

# The commit is looked up at build time, not configure time: a commit made after configuring must show.
# The script rewrites the header only when the text changes, and Ninja re-stats byproducts, so an
# unchanged commit rebuilds nothing.
find_package(Git QUIET)
add_custom_target(rrkit_build_commit
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${RRKIT_REPO_DIR} -DGIT=${GIT_EXECUTABLE}
          -DOUT=${RRKIT_GENERATED_DIR}/rrkit/build_commit.h -P ${CMAKE_CURRENT_LIST_DIR}/BuildCommit.cmake
  BYPRODUCTS ${RRKIT_GENERATED_DIR}/rrkit/build_commit.h
  COMMENT "Looking up the git commit"
  VERBATIM)
