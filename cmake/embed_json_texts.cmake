# Writes OUT, a C++ source that holds the text of every DIR/<PREFIX><key>.json, sorted by key, as
# the vector FUNCTION() of TYPE {key, text} declared in HEADER. One generator for every JSON file
# compiled into llmplan (models/*.json: core/model_configs.h; validation/kernels/kernel_tables_*.json:
# core/kernel_table_texts.h); core/CMakeLists.txt's llmplan_embed_json runs it at build time:
#   cmake -DOUT=<file.cpp> -DDIR=<dir> -DPREFIX=<prefix> -DHEADER=<core/x.h> -DTYPE=<T> -DFUNCTION=<f>
#         -P embed_json_texts.cmake
file(GLOB files LIST_DIRECTORIES false "${DIR}/${PREFIX}*.json")
list(SORT files)
set(body "")
foreach(f IN LISTS files)
  get_filename_component(name "${f}" NAME_WLE)
  string(LENGTH "${PREFIX}" prefix_length)
  string(SUBSTRING "${name}" ${prefix_length} -1 key)
  file(READ "${f}" text)
  string(FIND "${text}" ")llmplan_json\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${f} contains the raw-string delimiter )llmplan_json\"")
  endif()
  string(APPEND body "    {\"${key}\", R\"llmplan_json(${text})llmplan_json\"},\n")
endforeach()
file(RELATIVE_PATH rel_dir "${CMAKE_CURRENT_LIST_DIR}/.." "${DIR}")
set(content "// Generated from ${rel_dir}/${PREFIX}*.json by cmake/embed_json_texts.cmake; do not edit.
#include \"${HEADER}\"

namespace llmplan {

const std::vector<${TYPE}>& ${FUNCTION}() {
  static const std::vector<${TYPE}> texts = {
${body}  };
  return texts;
}

}  // namespace llmplan
")
# Rewrite only when the content changes, so that unchanged files rebuild nothing.
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL content)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${content}")
