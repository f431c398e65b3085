# cli_process_cases.cmake — runs the real build/llmplan binary as a user would (ctest -P script):
# success exits 0 with a table; bad input exits 2 with one line on stderr and nothing on stdout;
# a report that cannot be written exits non-zero and leaves no file; a good one is valid JSON.
include(${CMAKE_CURRENT_LIST_DIR}/cli_cases_common.cmake)  # WORKDIR, expect_run

expect_run(0 plan --params 7B --gpus 8 --zero 3)
if(NOT last_out MATCHES "device total" OR NOT last_out MATCHES "FITS")
  message(FATAL_ERROR "plan output lacks the verdict:\n${last_out}")
endif()

expect_run(2 plan --params 7Q)
string(REGEX MATCHALL "\n" newlines "${last_err}")
list(LENGTH newlines n)
if(NOT n EQUAL 1 OR NOT last_out STREQUAL "" OR NOT last_err MATCHES "--params: \"7Q\"")
  message(FATAL_ERROR "bad --params: expected one stderr line and no stdout, got:\n${last_out}\n---\n${last_err}")
endif()

expect_run(1 plan --model gpt2-124m --report "${WORKDIR}/missing/dir/r.json")
if(EXISTS "${WORKDIR}/missing/dir/r.json")
  message(FATAL_ERROR "a failed --report left a file behind")
endif()
file(GLOB leftovers "${WORKDIR}/.llmplan-*")
if(leftovers)
  message(FATAL_ERROR "temporary report files left behind: ${leftovers}")
endif()

expect_run(2 plan --model llama-2-7b --tp 3 --gpus 6 --report "${WORKDIR}/never.json")
if(EXISTS "${WORKDIR}/never.json")
  message(FATAL_ERROR "an invalid plan wrote a report")
endif()

expect_run(0 plan --model gpt2-124m --report "${WORKDIR}/r.json")
file(READ "${WORKDIR}/r.json" report)
string(JSON schema GET "${report}" schema)
string(JSON params GET "${report}" model parameters)
if(NOT schema STREQUAL "llmplan.plan/1" OR NOT params STREQUAL "124439808")
  message(FATAL_ERROR "report: schema ${schema}, parameters ${params}")
endif()
message(STATUS "cli process cases: all passed")
