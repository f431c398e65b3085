// build_info.h — which llmplan this is, for `llmplan --version` and `llmplan-gui --version`.
// Defined in a source generated at build time by cmake/build_info.cmake (library
// llmplan_build_info): the project's version from CMakeLists.txt's project() and, when built from a
// git checkout, the commit ("-dirty" when tracked files differed from it). Reports carry only
// the project version (planner/report.cpp), so a rebuild at another commit leaves them unchanged.
#pragma once

namespace llmplan {

// "0.1.0 (git abc1234)", or "0.1.0" where the source is not a git checkout or git is missing.
const char* build_version();

}  // namespace llmplan
