# Helper (include()d by the cmake -P scripts that read rr-harness's JSON output): walking a JSON
# array with CMake's own reader, whose foreach(RANGE) cannot express an empty range.

# rrkit_json_indices(OUT ERROR JSON PATH...): OUT is the list of indices (0 .. n-1) of the array at
# PATH in JSON, empty for an empty array; ERROR is CMake's message when there is no array there,
# "" otherwise.
function(rrkit_json_indices out error json)
  string(JSON _count ERROR_VARIABLE _err LENGTH "${json}" ${ARGN})
  set(_indices "")
  if(NOT _err AND _count GREATER 0)
    math(EXPR _last "${_count} - 1")
    foreach(_i RANGE ${_last})
      list(APPEND _indices ${_i})
    endforeach()
  endif()
  set(${out} "${_indices}" PARENT_SCOPE)
  set(${error} "${_err}" PARENT_SCOPE)
endfunction()
