# Build step (cmake -P), run after rr-harness is built: registers the scenario library's `ci` subset
# as ctest entries, one per scenario, from `rr-harness list --tag ci --format json`. The harness's own
# YAML loader decides what is tagged `ci` (flow or block lists, whole tags only), so the set of tests
# cannot drift from what `rr-harness run --tag ci` would run.
# In: HARNESS (the rr-harness binary), SCENARIOS (folder), RUNS (run folders and reports), OUTPUT.
foreach(_var HARNESS SCENARIOS RUNS OUTPUT)
  if(NOT DEFINED ${_var})
    message(FATAL_ERROR "ci_scenarios.cmake: ${_var} is not set")
  endif()
endforeach()

execute_process(COMMAND "${HARNESS}" list "${SCENARIOS}" --tag ci --format json
                OUTPUT_VARIABLE _listing ERROR_VARIABLE _problems RESULT_VARIABLE _rc)
# Exit 3: some file is invalid; the valid ones are still listed. Anything else is no listing at all.
if(NOT _rc EQUAL 0 AND NOT _rc EQUAL 3)
  message(FATAL_ERROR "rr-harness list --tag ci failed (${_rc}): ${_problems}")
endif()
include("${CMAKE_CURRENT_LIST_DIR}/../json_array.cmake")
rrkit_json_indices(_entries _json_error "${_listing}")
if(_json_error)
  message(FATAL_ERROR "rr-harness list --tag ci --format json printed no JSON array (${_json_error}):\n${_listing}")
endif()

set(_text "# Generated from `rr-harness list ${SCENARIOS} --tag ci` by tests/harness/ci_scenarios.cmake.\n")
foreach(_i IN LISTS _entries)
  string(JSON _path GET "${_listing}" ${_i} path)
  get_filename_component(_name "${_path}" NAME_WE)
  string(APPEND _text
         "add_test([==[scenario: ${_name}]==] [==[${HARNESS}]==] run [==[${_path}]==] --out [==[${RUNS}]==]"
         " --junit [==[${RUNS}/${_name}.junit.xml]==] --json [==[${RUNS}/${_name}.json]==]"
         " --html [==[${RUNS}/${_name}.html]==])\n"
         "set_tests_properties([==[scenario: ${_name}]==] PROPERTIES LABELS [==[e2e;scenario]==] TIMEOUT 300"
         " RESOURCE_LOCK rrkit_stack)\n")
endforeach()
if(_rc EQUAL 3)
  # An invalid scenario file might be a `ci` one that would now not run: a failing entry says so.
  message(WARNING "some scenario files are invalid, so they are not registered:\n${_problems}")
  string(APPEND _text
         "add_test([==[scenario files are valid]==] [==[${HARNESS}]==] validate [==[${SCENARIOS}]==])\n"
         "set_tests_properties([==[scenario files are valid]==] PROPERTIES LABELS [==[e2e;scenario]==])\n")
endif()
file(WRITE "${OUTPUT}.tmp" "${_text}")
# Unchanged content keeps the file's time stamp, so ctest's view changes only when the set does.
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
