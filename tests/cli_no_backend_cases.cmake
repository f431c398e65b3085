# cli_no_backend_cases.cmake — llmplan on a machine without the GPU libraries: LD_LIBRARY_PATH
# empty and the GPU backend module out of reach (ctest sets the environment: LLMPLAN_BACKEND names
# a file that does not exist). plan, --help, gpus and profile --device cpu work; profile --device
# cuda, profile calibrate and profile comm refuse in one line (exit 2) naming the module file and
# why it failed. Then the search itself: a copy of llmplan in an empty folder, no override, the
# module in none of the places the loader looks (backend/loader.h).
file(REMOVE_RECURSE "${WORKDIR}")
file(MAKE_DIRECTORY "${WORKDIR}/empty" "${WORKDIR}/bin")

function(expect_run expected_code)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err WORKING_DIRECTORY "${WORKDIR}")
  if(NOT code EQUAL expected_code)
    message(FATAL_ERROR "${ARGN}: exit ${code}, expected ${expected_code}\nstdout: ${out}\nstderr: ${err}")
  endif()
  set(last_out "${out}" PARENT_SCOPE)
  set(last_err "${err}" PARENT_SCOPE)
endfunction()

function(expect_one_line_refusal)
  string(REGEX MATCHALL "\n" newlines "${last_err}")
  list(LENGTH newlines n)
  if(NOT n EQUAL 1 OR NOT last_out STREQUAL "")
    message(FATAL_ERROR "expected one stderr line and no stdout, got:\n${last_out}\n---\n${last_err}")
  endif()
  foreach(needle IN LISTS ARGN)
    if(NOT last_err MATCHES "${needle}")
      message(FATAL_ERROR "expected '${needle}' in: ${last_err}")
    endif()
  endforeach()
endfunction()

set(gpt2 "${DATA}/profile/tiny-gpt2.json")
expect_run(0 ${LLMPLAN} plan --params 7B --gpus 8 --zero 3)
expect_run(0 ${LLMPLAN} --help)
expect_run(0 ${LLMPLAN} gpus)
expect_run(0 ${LLMPLAN} profile --hf-config ${gpt2} --device cpu --precision fp32 --micro-batch 2 --seq 16 --steps 1 --warmup 0)
if(NOT last_out MATCHES "peak allocated")
  message(FATAL_ERROR "profile --device cpu without the module: no table\n${last_out}")
endif()

# LLMPLAN_BACKEND (from ctest) names the missing file: dlopen's reason, after the file's name.
set(missing "$ENV{LLMPLAN_BACKEND}")
if(missing STREQUAL "")
  message(FATAL_ERROR "run through ctest: LLMPLAN_BACKEND is not set")
endif()
expect_run(2 ${LLMPLAN} profile --hf-config ${gpt2} --device cuda --micro-batch 2 --seq 16)
expect_one_line_refusal("^llmplan profile: error: --device cuda: ${missing}: cannot open shared object file" "LLMPLAN_BACKEND")
expect_run(2 ${LLMPLAN} profile calibrate --hf-config ${gpt2} --seq 16 --out ${WORKDIR}/cal.json)
expect_one_line_refusal("needs a GPU: ${missing}: cannot open shared object file")
expect_run(2 ${LLMPLAN} profile comm --gpus 2)
expect_one_line_refusal("needs a GPU: ${missing}: cannot open shared object file")
expect_run(2 ${CMAKE_COMMAND} -E env OMPI_COMM_WORLD_SIZE=2 ${LLMPLAN} profile --hf-config ${gpt2} --gpus 2 --device cpu)
expect_one_line_refusal("started by mpirun, but ${missing}: cannot open shared object file" "run `llmplan profile --gpus N` without mpirun")

# The search: nothing next to the executable, nothing in LLMPLAN_BACKEND_PATH, nothing on the system.
file(COPY "${LLMPLAN}" DESTINATION "${WORKDIR}/bin")
get_filename_component(name "${LLMPLAN}" NAME)
expect_run(2 ${CMAKE_COMMAND} -E env --unset=LLMPLAN_BACKEND LLMPLAN_BACKEND_PATH=${WORKDIR}/empty
           ${WORKDIR}/bin/${name} profile --hf-config ${gpt2} --device cuda --micro-batch 2 --seq 16)
# MODULE_DIR: where an install puts the module (LLMPLAN_INSTALL_MODULEDIR), looked for from bin/.
expect_one_line_refusal("the GPU backend libllmplan_cuda.so was not found in ${WORKDIR}/bin, ${WORKDIR}/${MODULE_DIR}, ${WORKDIR}/empty nor by the system's library search"
                        "cannot open shared object file")
if(EXISTS "${WORKDIR}/cal.json")
  message(FATAL_ERROR "a refused profile calibrate wrote a file")
endif()
message(STATUS "cli cases without the GPU backend: all passed")
