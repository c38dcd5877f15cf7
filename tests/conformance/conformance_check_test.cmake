# Test (cmake -P): the conformance verdict itself, on stored reports in data/. A seed-like report that
# fails exactly the expected checks in the expected scenarios, with the metrics checks not applicable,
# is accepted; one more failing check (or an expected one failing in another scenario too), a metrics
# check that passed instead of being not applicable, or an infrastructure error is refused; a gateway
# that must have every check applicable is refused on one not applicable.
# In: CHECK (conformance_check.cmake), DATA (folder of reports).
cmake_policy(VERSION 3.25)
set(_seed_failing
    conf-malformed-replies:no_lost_replies,conf-scale-out:no_lost_replies,leak-soak:memory_returns)
set(_seed EXPECT_EXIT=1 EXPECT_FAILING=${_seed_failing} NOT_APPLICABLE=reply_counters,pending_drained)
set(_clean EXPECT_EXIT=0 EXPECT_FAILING= ALL_APPLICABLE=ON)

# expect(accepted REPORT DEFS...) or expect(refused REPORT REASON DEFS...): REASON must be in the refusal.
function(expect verdict report)
  set(_reason "")
  if(verdict STREQUAL "refused")
    list(POP_FRONT ARGN _reason)
  endif()
  set(_defs "")
  foreach(_d IN LISTS ARGN)
    list(APPEND _defs "-D${_d}")
  endforeach()
  execute_process(COMMAND "${CMAKE_COMMAND}" -DNAME=${report} "-DREPORT=${DATA}/${report}.json" ${_defs}
                          -P "${CHECK}"
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  if(verdict STREQUAL "accepted" AND NOT _rc EQUAL 0)
    message(FATAL_ERROR "${report} should be accepted:\n${_out}${_err}")
  elseif(verdict STREQUAL "refused" AND _rc EQUAL 0)
    message(FATAL_ERROR "${report} should be refused:\n${_out}${_err}")
  elseif(verdict STREQUAL "refused")
    # CMake wraps long messages: compare with the line breaks and indents taken out.
    string(REGEX REPLACE "[ \n]+" " " _said "${_err}")
    string(FIND "${_said}" "${_reason}" _at)
    if(_at EQUAL -1)
      message(FATAL_ERROR "${report} was refused, but not for \"${_reason}\":\n${_err}")
    endif()
  endif()
  message(STATUS "${report}: ${verdict}")
endfunction()

expect(accepted seed-defects ${_seed})
expect(refused seed-extra-failure "failing checks: [conf-happy-path:assert;conf-malformed-replies:no_lost_replies;conf-scale-out:no_lost_replies;leak-soak:memory_returns]"
       ${_seed})
# An expected check failing in another scenario too is a new defect, not the known one.
expect(refused seed-misplaced-failure "failing checks: [conf-happy-path:no_lost_replies;conf-malformed-replies:no_lost_replies;conf-scale-out:no_lost_replies;leak-soak:memory_returns]"
       ${_seed})
expect(refused seed-counters-passed "reply_counters should be not applicable, is pass" ${_seed})
expect(refused seed-infra-error "conf-happy-path: status error" ${_seed})
# The same report judged as a gateway that must pass: its failures are refused.
expect(refused seed-defects "expected exactly []" ${_clean})
# The seed's exit code is part of the verdict.
expect(refused seed-defects "rr-harness exited 1, expected 0" EXPECT_EXIT=0 EXPECT_FAILING=${_seed_failing})
expect(accepted all-pass ${_clean})
expect(refused all-pass-one-na "conf-happy-path: reply_counters is not applicable" ${_clean})
message(STATUS "conformance verdicts: ok")
