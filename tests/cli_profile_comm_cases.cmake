# cli_profile_comm_cases.cmake — `llmplan profile comm` as a user runs it, on any machine: where it
# cannot measure (built without NCCL, no GPU, fewer GPUs than asked) it refuses in one line with
# exit code 2, prints nothing on stdout and writes no file; bad flags are refused the same way.
# The measurement itself needs GPUs: gpu.profile_comm (tests/CMakeLists.txt) runs it where they are.
file(REMOVE_RECURSE "${WORKDIR}")
file(MAKE_DIRECTORY "${WORKDIR}")

function(expect_refusal needle)
  execute_process(COMMAND ${LLMPLAN} profile comm ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err
                  WORKING_DIRECTORY "${WORKDIR}")
  string(REGEX MATCHALL "\n" newlines "${err}")
  list(LENGTH newlines n)
  if(NOT code EQUAL 2 OR NOT out STREQUAL "" OR NOT n EQUAL 1 OR NOT err MATCHES "^llmplan profile comm: error: "
     OR NOT err MATCHES "${needle}")
    message(FATAL_ERROR "llmplan profile comm ${ARGN}: expected exit 2, one stderr line matching '${needle}' and no "
                        "stdout; got exit ${code}\nstdout: ${out}\nstderr: ${err}")
  endif()
endfunction()

# No machine that runs the tests has 4096 GPUs.
expect_refusal("built without NCCL|needs a GPU|GPUs asked" --gpus 4096 --out "${WORKDIR}/cal.json" --report "${WORKDIR}/r.json")
if(EXISTS "${WORKDIR}/cal.json" OR EXISTS "${WORKDIR}/r.json")
  message(FATAL_ERROR "a refused profile comm wrote a file")
endif()
expect_refusal("--gpus" --gpus abc)
expect_refusal("--max-bytes: \"2G\" is ambiguous" --max-bytes 2G)
expect_refusal("--dtype" --dtype int4)
expect_refusal("--collectives" --collectives broadcast)
file(GLOB leftovers "${WORKDIR}/*")
if(leftovers)
  message(FATAL_ERROR "files left behind: ${leftovers}")
endif()
message(STATUS "cli profile comm cases: all passed")
