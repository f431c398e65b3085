# cli_cases_common.cmake — shared by the ctest -P scripts that run the real build/llmplan binary
# (cli_process_cases.cmake, cli_profile_cases.cmake): a fresh WORKDIR, and expect_run(CODE ARGS…),
# which runs ${LLMPLAN} ARGS… there, fails the test unless it exits CODE, and leaves last_code,
# last_out and last_err to the caller.
file(REMOVE_RECURSE "${WORKDIR}")
file(MAKE_DIRECTORY "${WORKDIR}")

function(expect_run expected_code)
  execute_process(COMMAND ${LLMPLAN} ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err
                  WORKING_DIRECTORY "${WORKDIR}")
  if(NOT code EQUAL expected_code)
    message(FATAL_ERROR "llmplan ${ARGN}: exit ${code}, expected ${expected_code}\nstdout: ${out}\nstderr: ${err}")
  endif()
  set(last_code "${code}" PARENT_SCOPE)
  set(last_out "${out}" PARENT_SCOPE)
  set(last_err "${err}" PARENT_SCOPE)
endfunction()
