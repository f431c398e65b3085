# cli_model_source_cases.cmake — the real build/llmplan binary naming models as people do (ctest -P
# script): a Hugging Face ORG/NAME from a fake hub cache built in WORKDIR as huggingface_hub lays it
# out (refs/main, two snapshots, config.json a link into ../../blobs), found through each of
# HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME, XDG_CACHE_HOME and HOME; the one-line errors
# (exact text); --hf-config folders. DATA: tests/data (the real TinyLlama and Llama 2 configs).
include(${CMAKE_CURRENT_LIST_DIR}/cli_cases_common.cmake)  # WORKDIR, expect_run

set(real_llmplan "${LLMPLAN}")
# expect_run runs ${LLMPLAN}: the binary under `cmake -E env` with only the given variables set.
macro(use_env)
  set(LLMPLAN ${CMAKE_COMMAND} -E env --unset=HF_HUB_CACHE --unset=HUGGINGFACE_HUB_CACHE --unset=HF_HOME
      --unset=XDG_CACHE_HOME ${ARGN} ${real_llmplan})
endmacro()

function(expect_equal what actual expected)
  if(NOT actual STREQUAL expected)
    message(FATAL_ERROR "${what}:\n  got      [${actual}]\n  expected [${expected}]")
  endif()
endfunction()

# The cache: revision 1111 (TinyLlama 1.1B), named by refs/main, and revision 2222 (Llama 2 7B).
set(hub "${WORKDIR}/home/.cache/huggingface/hub")
set(repo "${hub}/models--TinyLlama--TinyLlama-1.1B")
file(MAKE_DIRECTORY "${repo}/blobs" "${repo}/snapshots/1111" "${repo}/snapshots/2222" "${repo}/refs")
file(COPY_FILE "${DATA}/hf/tinyllama-1.1b.json" "${repo}/blobs/tiny")
file(COPY_FILE "${DATA}/hf/llama-2-7b.json" "${repo}/blobs/l2")
file(CREATE_LINK "../../blobs/tiny" "${repo}/snapshots/1111/config.json" SYMBOLIC)
file(CREATE_LINK "../../blobs/l2" "${repo}/snapshots/2222/config.json" SYMBOLIC)
file(WRITE "${repo}/refs/main" "1111")
set(id TinyLlama/TinyLlama-1.1B)
set(config "${repo}/snapshots/1111/config.json")

# Every way huggingface_hub finds the hub folder, each alone.
foreach(way "HOME=${WORKDIR}/home" "XDG_CACHE_HOME=${WORKDIR}/home/.cache" "HF_HOME=${WORKDIR}/home/.cache/huggingface"
            "HUGGINGFACE_HUB_CACHE=${hub}" "HF_HUB_CACHE=${hub}")
  use_env(HOME=/nonexistent ${way})
  expect_run(0 models ${id})
  string(FIND "${last_out}" "\n" eol)
  string(SUBSTRING "${last_out}" 0 ${eol} head)
  expect_equal("models ${id} with ${way}" "${head}" "${id} — from ${config}")
  if(NOT last_out MATCHES "total +1,100,048,384 ")
    message(FATAL_ERROR "models ${id} with ${way}: not TinyLlama's 1,100,048,384 parameters:\n${last_out}")
  endif()
endforeach()
# HF_HUB_CACHE comes first: HF_HOME names an empty folder here.
use_env(HF_HOME=${WORKDIR}/empty HF_HUB_CACHE=${hub})
expect_run(0 models ${id})

# plan --json: the model is named as typed, its origin is the cache file.
use_env(HOME=${WORKDIR}/home)
expect_run(0 plan --model ${id} --gpus 1 --json)
string(JSON name GET "${last_out}" model name)
string(JSON origin GET "${last_out}" model origin)
string(JSON params GET "${last_out}" model parameters)
expect_equal("plan model name" "${name}" "${id}")
expect_equal("plan model origin" "${origin}" "Hugging Face cache ${config}")
expect_equal("plan parameters" "${params}" "1100048384")

# Without refs/main: the newest snapshot holding config.json (2222, Llama 2 7B).
file(REMOVE "${repo}/refs/main")
execute_process(COMMAND touch -d "2020-01-01" "${repo}/snapshots/1111" COMMAND_ERROR_IS_FATAL ANY)
expect_run(0 infer --model ${id} --json)
string(JSON params GET "${last_out}" model parameters)
expect_equal("infer parameters (newest snapshot)" "${params}" "6738415616")

# Not in the cache and no preset of it: one exact line on stderr, nothing on stdout, exit 2.
expect_run(2 plan --model Qwen/QwQ-32B)
expect_equal("not found" "${last_out}${last_err}"
  "llmplan plan: error: --model Qwen/QwQ-32B: not a preset and not in the Hugging Face cache (looked in ${hub}/models--Qwen--QwQ-32B); fetch its config with: hf download Qwen/QwQ-32B config.json\n")
expect_run(2 search --model Qwen/QwQ-32B)
expect_equal("not found (search)" "${last_out}${last_err}"
  "llmplan search: error: --model Qwen/QwQ-32B: not a preset and not in the Hugging Face cache (looked in ${hub}/models--Qwen--QwQ-32B); fetch its config with: hf download Qwen/QwQ-32B config.json\n")

# Not in the cache, but a preset's own repository: planned as that preset, the origin saying so.
expect_run(0 plan --model Qwen/Qwen3-8B --json)
string(JSON origin GET "${last_out}" model origin)
expect_equal("preset for an id not in the cache" "${origin}" "preset qwen3-8b (Qwen/Qwen3-8B is not in the Hugging Face cache)")

# Malformed ids and unknown presets: one line each.
expect_run(2 plan --model ../../etc/passwd)
expect_equal("malformed" "${last_out}${last_err}"
  "llmplan plan: error: --model \"../../etc/passwd\": not a preset, nor a Hugging Face model id ORG/NAME (more than one \"/\")\n")
expect_run(2 plan --model ../passwd)
expect_equal("malformed" "${last_out}${last_err}"
  "llmplan plan: error: --model \"../passwd\": not a preset, nor a Hugging Face model id ORG/NAME (\"--\" and \"..\" may not appear)\n")
expect_run(2 models llama-2-8b)
expect_equal("unknown preset" "${last_out}${last_err}"
  "llmplan models: error: models: unknown model \"llama-2-8b\" (did you mean \"llama-2-7b\"? `llmplan models` lists the presets; a Hugging Face ORG/NAME in the local cache, or --hf-config PATH, works too)\n")

# --hf-config: a folder holding config.json, and one without.
expect_run(0 plan --hf-config "${repo}/snapshots/1111" --gpus 1 --json)
string(JSON params GET "${last_out}" model parameters)
expect_equal("--hf-config folder" "${params}" "1100048384")
expect_run(2 plan --hf-config "${repo}/blobs")
expect_equal("--hf-config folder without config.json" "${last_out}${last_err}"
  "llmplan plan: error: --hf-config ${repo}/blobs: the folder has no config.json\n")
message(STATUS "cli model source cases: all passed")
