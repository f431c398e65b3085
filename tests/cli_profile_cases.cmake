# cli_profile_cases.cmake — `llmplan profile` run as a user runs it (ctest -P script): the CPU
# reference on tiny HF configs (tests/data/profile), the JSON report's schema and blocks, the
# books that must match the planner exactly in fp32 (parameters, gradients, optimizer, logits), and
# one-line refusals (exit 2). --device cuda either runs (a GPU is present) or refuses in one line.
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

function(expect_one_line_refusal what)
  string(REGEX MATCHALL "\n" newlines "${last_err}")
  list(LENGTH newlines n)
  if(NOT n EQUAL 1 OR NOT last_out STREQUAL "" OR NOT last_err MATCHES "${what}")
    message(FATAL_ERROR "expected one stderr line matching '${what}' and no stdout, got:\n${last_out}\n---\n${last_err}")
  endif()
endfunction()

set(gpt2 "${DATA}/profile/tiny-gpt2.json")
set(llama "${DATA}/profile/tiny-llama.json")

# A table, progress on stderr.
expect_run(0 profile --hf-config ${gpt2} --device cpu --precision fp32 --micro-batch 2 --seq 16 --steps 3 --warmup 1)
if(NOT last_out MATCHES "peak allocated" OR NOT last_out MATCHES "tokens/s" OR NOT last_out MATCHES "forward"
   OR NOT last_err MATCHES "step 4/4")
  message(FATAL_ERROR "profile table or progress missing:\n${last_out}\n---\n${last_err}")
endif()

# The report: schema, blocks, and the books the planner must get exactly in fp32.
foreach(cfg gpt2 llama)
  foreach(rc none selective full)
    foreach(att flash eager)
      set(r "${WORKDIR}/${cfg}-${rc}-${att}.json")
      expect_run(0 profile --hf-config ${${cfg}} --device cpu --precision fp32 --micro-batch 2 --seq 16 --steps 2
                 --warmup 1 --recompute ${rc} --attention ${att} --report ${r} --json)
      file(READ "${r}" report)
      if(NOT report STREQUAL last_out)
        message(FATAL_ERROR "--report and --json differ for ${cfg} ${rc} ${att}")
      endif()
      string(JSON schema GET "${report}" schema)
      string(JSON steps LENGTH "${report}" measured losses)
      string(JSON phase GET "${report}" measured memory activations phase)
      string(JSON step GET "${report}" measured time step_seconds median)
      if(NOT schema STREQUAL "llmplan.profile/1" OR NOT steps EQUAL 2 OR NOT phase STREQUAL "forward" OR NOT step GREATER 0)
        message(FATAL_ERROR "${cfg} ${rc} ${att}: schema ${schema}, ${steps} losses, activations peak in ${phase}, step ${step}")
      endif()
      foreach(book parameters gradients optimizer logits)
        string(JSON e GET "${report}" error memory_pct ${book})
        string(JSON p GET "${report}" predicted memory ${book})
        string(JSON m GET "${report}" measured memory ${book} peak_bytes)
        if(NOT p EQUAL m)
          message(FATAL_ERROR "${cfg} ${rc} ${att}: ${book} predicted ${p} measured ${m} (${e}%)")
        endif()
      endforeach()
    endforeach()
  endforeach()
endforeach()

# --framework llmplan: the planner's profile of this engine predicts the measured peak exactly.
foreach(cfg gpt2 llama)
  foreach(rc none selective full)
    expect_run(0 profile --hf-config ${${cfg}} --device cpu --precision fp32 --framework llmplan --micro-batch 2 --seq 16
               --steps 1 --warmup 0 --recompute ${rc} --json)
    string(JSON p GET "${last_out}" predicted memory peak_allocated)
    string(JSON m GET "${last_out}" measured memory peak_allocated peak_bytes)
    if(NOT p EQUAL m)
      message(FATAL_ERROR "--framework llmplan ${cfg} ${rc}: predicted peak ${p}, measured ${m}")
    endif()
  endforeach()
endforeach()

# Refusals: one line, exit 2.
expect_run(2 profile --hf-config ${gpt2} --device cpu --micro-batch 2 --seq 16)
expect_one_line_refusal("--precision fp32")
expect_run(2 profile --hf-config ${gpt2} --device tpu)
expect_one_line_refusal("--device: \"tpu\"")
expect_run(2 profile --hf-config ${gpt2} --device cpu --precision fp32 --seq 16 --steps 0)
expect_one_line_refusal("--steps")
expect_run(2 profile --hf-config ${gpt2} --device cpu --precision fp32 --seq 16 --gpus 2)
expect_one_line_refusal("one GPU")

# --device cuda: runs where there is a GPU, else refuses in one line (no CUDA build, no driver, no GPU).
execute_process(COMMAND ${LLMPLAN} profile --hf-config ${gpt2} --device cuda --micro-batch 2 --seq 16 --steps 1 --warmup 0
                RESULT_VARIABLE code OUTPUT_VARIABLE last_out ERROR_VARIABLE last_err WORKING_DIRECTORY "${WORKDIR}")
if(code EQUAL 2)
  expect_one_line_refusal("--device cuda: ")
elseif(NOT code EQUAL 0 OR NOT last_out MATCHES "peak allocated")
  message(FATAL_ERROR "profile --device cuda: exit ${code}\n${last_out}\n---\n${last_err}")
endif()
message(STATUS "cli profile cases: all passed")
