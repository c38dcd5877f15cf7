# Test (cmake -P): scripts/conformance-table.sh on two stored reports prints the expected tables
# (data/table.md): a failed check is FAIL even where another scenario passed it, a check the gateway
# cannot have is n/a, a waived invariant counts for nothing, negative controls have their own row.
# In: SCRIPT (conformance-table.sh), DATA (folder of reports and the expected table).
cmake_policy(VERSION 3.25)
# The columns are named after the report files, as the README's table heads them.
set(_work "${CMAKE_CURRENT_BINARY_DIR}/conformance_table_test")
file(REMOVE_RECURSE "${_work}")
file(MAKE_DIRECTORY "${_work}")
file(COPY_FILE "${DATA}/all-pass.json" "${_work}/rr-gateway.json")
file(COPY_FILE "${DATA}/seed-defects.json" "${_work}/seed-gateway.json")
execute_process(COMMAND bash "${SCRIPT}" "${_work}/rr-gateway.json" "${_work}/seed-gateway.json"
                OUTPUT_VARIABLE _got ERROR_VARIABLE _err RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "conformance-table.sh failed (${_rc}):\n${_err}")
endif()
file(READ "${DATA}/table.md" _want)
if(NOT _got STREQUAL _want)
  message(FATAL_ERROR "conformance-table.sh printed:\n${_got}\nexpected:\n${_want}")
endif()
message(STATUS "conformance table: ok")
