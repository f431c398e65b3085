# Writes OUT, a C++ source that holds the text of every kernel table DIR/kernel_tables_<key>.json
# (measured by validation/kernels/measure_kernels.py), for core/kernel_table_texts.h.
# Run at build time: cmake -DOUT=<file.cpp> -DDIR=<validation/kernels> -P embed_kernel_tables.cmake
file(GLOB files LIST_DIRECTORIES false "${DIR}/kernel_tables_*.json")
list(SORT files)
set(body "")
foreach(f IN LISTS files)
  get_filename_component(name "${f}" NAME_WLE)
  string(REGEX REPLACE "^kernel_tables_" "" key "${name}")
  file(READ "${f}" text)
  string(FIND "${text}" ")llmplan_json\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${f} contains the raw-string delimiter )llmplan_json\"")
  endif()
  string(APPEND body "    {\"${key}\", R\"llmplan_json(${text})llmplan_json\"},\n")
endforeach()
set(content "// Generated from validation/kernels/kernel_tables_*.json by cmake/embed_kernel_tables.cmake; do not edit.
#include \"core/kernel_table_texts.h\"

namespace llmplan {

const std::vector<KernelTableText>& bundled_kernel_tables() {
  static const std::vector<KernelTableText> tables = {
${body}  };
  return tables;
}

}  // namespace llmplan
")
# Rewrite only when the content changes, so that unchanged tables rebuild nothing.
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL content)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${content}")
