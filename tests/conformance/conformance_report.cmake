# Helpers (include()d by cmake -P scripts) that read a suite JSON report written by
# `rr-harness run --json`: which checks each scenario had, and in which state. CMake's own JSON
# reader keeps the conformance entries free of any interpreter beyond the build tools.

# rrkit_conformance_read(FILE PREFIX): sets in the caller
#   PREFIX_scenarios             scenario names in report order
#   PREFIX_status_<i>            status of the i-th scenario (pass | fail | error | interrupted)
#   PREFIX_checks_<i>            that scenario's checks as "id|kind|state" (kind: plain, waived, negative)
#   PREFIX_message_<i>_<j>       the j-th check's message
# A check's id is its name up to the first ':' ("no_lost_replies", "memory_returns", "assert").
# `waived`: an invariant the scenario's `allow` waives (it says nothing about the gateway);
# `negative`: a negative control, which passes when the checker finds the violation.
include("${CMAKE_CURRENT_LIST_DIR}/../json_array.cmake")

function(rrkit_conformance_read file prefix)
  if(NOT EXISTS "${file}")
    message(FATAL_ERROR "${file}: no such report")
  endif()
  file(READ "${file}" _json)
  rrkit_json_indices(_scenario_indices _err "${_json}" scenarios)
  if(_err)
    message(FATAL_ERROR "${file}: not a suite report (${_err})")
  endif()
  # CMake parses the whole document on every string(JSON) call: the per-request arrays (80,000 entries
  # in a soak) go first, in one pass per scenario, so the many small reads below stay cheap.
  set(_names "")
  foreach(_i IN LISTS _scenario_indices)
    string(JSON _json SET "${_json}" scenarios ${_i} requests "[]")
  endforeach()
  foreach(_i IN LISTS _scenario_indices)
    string(JSON _name GET "${_json}" scenarios ${_i} name)
    string(JSON _status GET "${_json}" scenarios ${_i} status)
    list(APPEND _names "${_name}")
    set(${prefix}_status_${_i} "${_status}" PARENT_SCOPE)
    rrkit_json_indices(_check_indices _err "${_json}" scenarios ${_i} checks)
    if(_err)
      message(FATAL_ERROR "${file}: scenario ${_i} has no list of checks (${_err})")
    endif()
    set(_checks "")
    foreach(_j IN LISTS _check_indices)
      string(JSON _cname GET "${_json}" scenarios ${_i} checks ${_j} name)
      string(JSON _cstate GET "${_json}" scenarios ${_i} checks ${_j} state)
      string(JSON _cmsg GET "${_json}" scenarios ${_i} checks ${_j} message)
      string(FIND "${_cname}" ":" _colon)
      if(_colon GREATER 0)
        string(SUBSTRING "${_cname}" 0 ${_colon} _id)
      else()
        set(_id "${_cname}")
      endif()
      set(_kind plain)
      if(_cname MATCHES "negative control")
        set(_kind negative)
      elseif(_cmsg MATCHES "^waived by the scenario")
        set(_kind waived)
      endif()
      list(APPEND _checks "${_id}|${_kind}|${_cstate}")
      # One line per message: a list separator or a newline would break the caller's lists.
      string(REPLACE ";" "," _cmsg "${_cmsg}")
      string(REPLACE "\n" " " _cmsg "${_cmsg}")
      set(${prefix}_message_${_i}_${_j} "${_cmsg}" PARENT_SCOPE)
    endforeach()
    set(${prefix}_checks_${_i} "${_checks}" PARENT_SCOPE)
  endforeach()
  set(${prefix}_scenarios "${_names}" PARENT_SCOPE)
endfunction()
