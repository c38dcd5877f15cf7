# Test (cmake -P): runs the build step ci_scenarios.cmake on the tag fixtures in
# tests/harness/scenarios/tags and checks the ctest entries it writes: exactly the scenarios tagged
# `ci` (block list and flow list, not `cinema`), each with the scenario suite's properties; and, with
# an invalid file beside them, the valid ones still registered plus one failing validity entry.
# In: HARNESS, FIXTURES (folder), GENERATOR (ci_scenarios.cmake), WORK (scratch folder).
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/scenarios")
file(GLOB _fixtures "${FIXTURES}/*.yaml")
file(COPY ${_fixtures} DESTINATION "${WORK}/scenarios")

function(generate out)
  execute_process(COMMAND "${CMAKE_COMMAND}" "-DHARNESS=${HARNESS}" "-DSCENARIOS=${WORK}/scenarios"
                          "-DRUNS=${WORK}/runs" "-DOUTPUT=${out}" -P "${GENERATOR}"
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "ci_scenarios.cmake failed (${_rc}):\n${_out}${_err}")
  endif()
endfunction()

# The names of the add_test entries in a generated file, sorted.
function(registered out file)
  file(READ "${file}" _text)
  string(REGEX MATCHALL "add_test\\(\\[==\\[[^]]*" _hits "${_text}")
  set(_names "")
  foreach(_hit IN LISTS _hits)
    string(REPLACE "add_test([==[" "" _name "${_hit}")
    list(APPEND _names "${_name}")
  endforeach()
  list(SORT _names)
  set(${out} "${_names}" PARENT_SCOPE)
endfunction()

function(expect_equal what got want)
  if(NOT "${got}" STREQUAL "${want}")
    message(FATAL_ERROR "${what}:\n  got:  ${got}\n  want: ${want}")
  endif()
endfunction()

generate("${WORK}/valid.cmake")
registered(_names "${WORK}/valid.cmake")
expect_equal("entries for the ci fixtures" "${_names}" "scenario: block-ci;scenario: flow-ci")
file(READ "${WORK}/valid.cmake" _text)
foreach(_name block-ci flow-ci)
  string(FIND "${_text}" "set_tests_properties([==[scenario: ${_name}]==] PROPERTIES LABELS [==[e2e;scenario]==] TIMEOUT 300 RESOURCE_LOCK rrkit_stack)" _at)
  if(_at EQUAL -1)
    message(FATAL_ERROR "scenario: ${_name} lacks the suite's properties:\n${_text}")
  endif()
  string(FIND "${_text}" "run [==[${WORK}/scenarios/${_name}.yaml]==]" _at)
  if(_at EQUAL -1)
    message(FATAL_ERROR "scenario: ${_name} does not run its own file:\n${_text}")
  endif()
endforeach()

# An invalid file may be a `ci` scenario that would silently not run: it must show as a failing entry.
file(WRITE "${WORK}/scenarios/broken.yaml" "name: broken\ntags: [ci]\ntrafic: {requests: 1}\n")
generate("${WORK}/invalid.cmake")
registered(_names "${WORK}/invalid.cmake")
expect_equal("entries with an invalid file present" "${_names}"
             "scenario files are valid;scenario: block-ci;scenario: flow-ci")
message(STATUS "ci scenario registration: ok")
