# cli_profile_cases.cmake — `llmplan profile` run as a user runs it (ctest -P script): the CPU
# reference on tiny HF configs (tests/data/profile), the JSON report's schema and blocks, the
# books that must match the planner exactly in fp32 (parameters, gradients, optimizer, logits), and
# one-line refusals (exit 2). --device cuda either runs (a GPU is present) or refuses in one line.
include(${CMAKE_CURRENT_LIST_DIR}/cli_cases_common.cmake)  # WORKDIR, expect_run

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

# Gradient accumulation (--global-batch 6 = 3 micro-batches of 2): the CPU reference runs it and
# the planner's books of the engine predict its peak exactly (one micro-batch's: engine/program.h).
expect_run(0 profile --hf-config ${llama} --device cpu --precision fp32 --framework llmplan --micro-batch 2
           --global-batch 6 --seq 16 --steps 1 --warmup 0 --json)
string(JSON p GET "${last_out}" predicted memory peak_allocated)
string(JSON m GET "${last_out}" measured memory peak_allocated peak_bytes)
string(JSON gb GET "${last_out}" job global_batch)
if(NOT gb EQUAL 6)
  message(FATAL_ERROR "--global-batch 6: the report's job says global_batch ${gb}")
endif()
expect_run(0 profile --hf-config ${llama} --device cpu --precision fp32 --framework llmplan --micro-batch 2
           --seq 16 --steps 1 --warmup 0 --json)
string(JSON m1 GET "${last_out}" measured memory peak_allocated peak_bytes)
if(NOT p EQUAL m OR NOT m EQUAL m1)
  message(FATAL_ERROR "--global-batch 6: predicted peak ${p}, measured ${m}; one micro-batch measured ${m1}")
endif()
# The CUDA engine accumulates on one GPU only: with several ranks refused in one line before any
# device is looked at.
expect_run(2 profile --hf-config ${gpt2} --device cuda --gpus 2 --micro-batch 2 --global-batch 8 --seq 16)
expect_one_line_refusal("--global-batch: 2 micro-batches per step on 2 GPUs; the CUDA engine accumulates gradients on one GPU only")

# mixed-fp16 (dynamic loss scaling) in the planner's books of the engine: the same bytes as
# mixed-bf16 for every term and phase (2-byte storage; the loss scale is a host value).
foreach(rc none full)
  expect_run(0 plan --hf-config ${gpt2} --framework llmplan --precision mixed-bf16 --micro-batch 2 --seq 16
             --recompute ${rc} --json)
  string(JSON bf16_mem GET "${last_out}" memory per_gpu)
  string(JSON bf16_phases GET "${last_out}" memory phases)
  expect_run(0 plan --hf-config ${gpt2} --framework llmplan --precision mixed-fp16 --micro-batch 2 --seq 16
             --recompute ${rc} --json)
  string(JSON fp16_mem GET "${last_out}" memory per_gpu)
  string(JSON fp16_phases GET "${last_out}" memory phases)
  string(JSON fp16_formula GET "${last_out}" memory terms 0 formula)
  if(NOT fp16_mem STREQUAL bf16_mem OR NOT fp16_phases STREQUAL bf16_phases OR NOT fp16_formula MATCHES "fp16")
    message(FATAL_ERROR "--framework llmplan mixed-fp16 (${rc}) differs from mixed-bf16:\n${fp16_mem}\n${bf16_mem}\n${fp16_formula}")
  endif()
endforeach()

# Refusals: one line, exit 2.
expect_run(2 profile --hf-config ${gpt2} --device cpu --micro-batch 2 --seq 16)
expect_one_line_refusal("--precision fp32")
expect_run(2 profile --hf-config ${gpt2} --device cpu --precision mixed-fp16 --micro-batch 2 --seq 16)
expect_one_line_refusal("--device cpu runs the fp32 CPU reference only; pass --precision fp32 \\(mixed-fp16 needs --device cuda\\)")
expect_run(2 profile --hf-config ${gpt2} --device cpu --precision amp-fp16 --micro-batch 2 --seq 16)
expect_one_line_refusal("--precision amp-fp16: the engine runs fp32, mixed-bf16 and mixed-fp16")
expect_run(2 plan --hf-config ${gpt2} --framework llmplan --precision amp-fp16 --micro-batch 2 --seq 16)
expect_one_line_refusal("--precision amp-fp16: the engine runs fp32, mixed-bf16 and mixed-fp16")
expect_run(2 profile --hf-config ${gpt2} --device tpu)
expect_one_line_refusal("--device: \"tpu\"")
expect_run(2 profile --hf-config ${gpt2} --device cpu --precision fp32 --seq 16 --steps 0)
expect_one_line_refusal("--steps")
expect_run(2 profile --hf-config ${gpt2} --device cpu --precision fp32 --seq 16 --gpus 2)
expect_one_line_refusal("--gpus 2: the CPU reference runs on one device")
# --gpus N > 1 (one process per GPU, data parallel): the flags are checked before anything starts.
expect_run(2 profile --hf-config ${gpt2} --device cpu --precision fp32 --seq 16 --gpus 2 --tp 2)
expect_one_line_refusal("runs data parallel only")
expect_run(2 profile --hf-config ${gpt2} --device cpu --precision fp32 --seq 16 --rank 0)
expect_one_line_refusal("--rank: set by llmplan")
expect_run(2 profile --hf-config ${gpt2} --device cpu --precision fp32 --seq 16 --timeout 0)
expect_one_line_refusal("--timeout")

# Started by mpirun (Open MPI exports OMPI_COMM_WORLD_SIZE to every rank) where the GPU backend
# module carries no MPI (LLMPLAN_MPI is OFF; tests/cli_no_backend_cases.cmake: no module at all):
# one line, exit 2, before any flag is looked at.
if(NOT LLMPLAN_MPI)
  foreach(cmd "profile;--hf-config;${gpt2};--gpus;2;--device;cpu" "profile;comm;--gpus;2")
    execute_process(COMMAND ${CMAKE_COMMAND} -E env OMPI_COMM_WORLD_SIZE=2 ${LLMPLAN} ${cmd}
                    RESULT_VARIABLE last_code OUTPUT_VARIABLE last_out ERROR_VARIABLE last_err WORKING_DIRECTORY "${WORKDIR}")
    if(NOT last_code EQUAL 2)
      message(FATAL_ERROR "OMPI_COMM_WORLD_SIZE=2 llmplan ${cmd}: exit ${last_code}, expected 2\n${last_out}\n---\n${last_err}")
    endif()
    expect_one_line_refusal("started by mpirun, but .*; run `llmplan profile")
  endforeach()
endif()

# --device cuda: runs where there is a GPU, else refuses in one line (no CUDA build, no driver, no GPU).
execute_process(COMMAND ${LLMPLAN} profile --hf-config ${gpt2} --device cuda --micro-batch 2 --seq 16 --steps 1 --warmup 0
                RESULT_VARIABLE code OUTPUT_VARIABLE last_out ERROR_VARIABLE last_err WORKING_DIRECTORY "${WORKDIR}")
if(code EQUAL 2)
  expect_one_line_refusal("--device cuda: ")
elseif(NOT code EQUAL 0 OR NOT last_out MATCHES "peak allocated")
  message(FATAL_ERROR "profile --device cuda: exit ${code}\n${last_out}\n---\n${last_err}")
endif()
# The same with mixed-fp16: where it runs, the report counts skipped steps and gives the loss scale.
execute_process(COMMAND ${LLMPLAN} profile --hf-config ${gpt2} --device cuda --precision mixed-fp16 --micro-batch 2 --seq 16
                        --steps 2 --warmup 1 --json
                RESULT_VARIABLE code OUTPUT_VARIABLE last_out ERROR_VARIABLE last_err WORKING_DIRECTORY "${WORKDIR}")
if(code EQUAL 2)
  expect_one_line_refusal("--device cuda: ")
elseif(code EQUAL 0)
  string(JSON skipped GET "${last_out}" measured skipped_steps)
  string(JSON scale GET "${last_out}" measured loss_scale)
  if(skipped GREATER 2 OR NOT scale GREATER 0 OR NOT last_err MATCHES "loss scale")
    message(FATAL_ERROR "profile --device cuda mixed-fp16: ${skipped} skipped, scale ${scale}\n${last_err}")
  endif()
else()
  message(FATAL_ERROR "profile --device cuda --precision mixed-fp16: exit ${code}\n${last_out}\n---\n${last_err}")
endif()
message(STATUS "cli profile cases: all passed")
