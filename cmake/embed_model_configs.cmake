# Writes OUT, a C++ source that holds every models/*.json file's text, for core/model_configs.h.
# Run at build time: cmake -DOUT=<file.cpp> -DDIR=<models dir> -P embed_model_configs.cmake
file(GLOB files LIST_DIRECTORIES false "${DIR}/*.json")
list(SORT files)
set(body "")
foreach(f IN LISTS files)
  get_filename_component(name "${f}" NAME_WLE)
  file(READ "${f}" text)
  string(FIND "${text}" ")llmplan_json\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${f} contains the raw-string delimiter )llmplan_json\"")
  endif()
  string(APPEND body "    {\"${name}\", R\"llmplan_json(${text})llmplan_json\"},\n")
endforeach()
set(content "// Generated from models/*.json by cmake/embed_model_configs.cmake; do not edit.
#include \"core/model_configs.h\"

namespace llmplan {

const std::vector<ModelConfigText>& bundled_model_configs() {
  static const std::vector<ModelConfigText> configs = {
${body}  };
  return configs;
}

}  // namespace llmplan
")
# Rewrite only when the content changes, so that an unchanged models/ rebuilds nothing.
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL content)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${content}")
