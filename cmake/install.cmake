# install.cmake — what `cmake --install` lays out, and the Debian packages CPack builds from it
# (docs/INSTALL.md). Included last by the top-level CMakeLists.txt, once every target exists.
#
# Three install components, one .deb each:
#   cli   → package llmplan:      bin/llmplan, the man pages, the bash completion, the docs the
#                                 reports cite (share/doc/llmplan/docs/*.md) and the README;
#   gui   → package llmplan-gui:  bin/llmplan-gui (GUI builds; needs Qt 6's libraries);
#   cuda  → package llmplan-cuda: the GPU backend module (CUDA builds) in LLMPLAN_INSTALL_MODULEDIR,
#                                 where the loader looks relative to bin/ (backend/loader.h).
# The CLI needs no runtime data file: the model presets (models/*.json) and the GPU catalog are
# compiled in, and calibration, cluster and law files are the user's own. Packages llmplan and
# llmplan-gui never depend on CUDA: profiling is the only use of the module, and without it
# `llmplan profile --device cuda` refuses in one line.
include(GNUInstallDirs)

install(TARGETS llmplan RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cli)
install(DIRECTORY ${LLMPLAN_MAN_DIR}/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT cli FILES_MATCHING PATTERN "*.1.gz")
# bash-completion's folder for completions loaded on demand (pkg-config bash-completion: completionsdir).
install(FILES ${LLMPLAN_COMPLETION_FILE} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions COMPONENT cli)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT cli)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs COMPONENT cli)
set(_llmplan_components cli)

if(TARGET llmplan-gui)
  install(TARGETS llmplan-gui RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT gui)
  list(APPEND _llmplan_components gui)
endif()
if(TARGET llmplan_cuda)
  install(TARGETS llmplan_cuda LIBRARY DESTINATION ${LLMPLAN_INSTALL_MODULEDIR} COMPONENT cuda)
  list(APPEND _llmplan_components cuda)
endif()

# --- CPack: .deb packages for Debian 12 (cpack -G DEB in the build folder) ------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME llmplan)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(LLMPLAN_PACKAGE_MAINTAINER "llmplan maintainers <maintainers@llmplan.invalid>" CACHE STRING
    "The Maintainer field of the .deb packages")
set(CPACK_PACKAGE_CONTACT "${LLMPLAN_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Only these components: an install() rule elsewhere without a COMPONENT stays out of the packages.
set(CPACK_COMPONENTS_ALL ${_llmplan_components})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # llmplan_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_CLI_PACKAGE_NAME llmplan)
set(CPACK_DEBIAN_GUI_PACKAGE_NAME llmplan-gui)
set(CPACK_DEBIAN_CUDA_PACKAGE_NAME llmplan-cuda)
# Each package's description: the project's description (CMakeLists.txt's project(), CPack's
# summary line), then the component's text.
set(CPACK_COMPONENT_CLI_DESCRIPTION "The command line, llmplan: per-GPU memory, step time, communication, cost
and energy of large-language-model training and serving jobs, a search for the best parallel
layout, and scaling-law budgets. Needs no GPU.")
set(CPACK_COMPONENT_GUI_DESCRIPTION "The Qt 6 desktop front end, llmplan-gui: memory, time and cost views,
what-if and comparisons.")
set(CPACK_COMPONENT_CUDA_DESCRIPTION "The GPU backend module that llmplan profile opens at run time to
measure real training steps. Needs NVIDIA's driver and the CUDA runtime libraries it was built
against (cuBLAS, NCCL).")
# The module must come from the same llmplan as the CLI (the loader refuses another interface version).
set(CPACK_DEBIAN_CUDA_PACKAGE_DEPENDS "llmplan (= ${PROJECT_VERSION})")
# Dependencies of the CLI and the GUI from their ELF files (dpkg-shlibdeps, package dpkg-dev; CPack
# needs `file` to find the ELF files). Without those tools: Debian 12's, stated.
find_program(LLMPLAN_DPKG_SHLIBDEPS dpkg-shlibdeps)
find_program(LLMPLAN_FILE_PROGRAM file)
if(LLMPLAN_DPKG_SHLIBDEPS AND LLMPLAN_FILE_PROGRAM)
  set(CPACK_DEBIAN_CLI_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_GUI_PACKAGE_SHLIBDEPS ON)
else()
  set(CPACK_DEBIAN_CLI_PACKAGE_DEPENDS "libc6 (>= 2.34), libgcc-s1 (>= 3.3.1), libstdc++6 (>= 12)")
  set(CPACK_DEBIAN_GUI_PACKAGE_DEPENDS
      "libc6 (>= 2.34), libgcc-s1 (>= 3.3.1), libstdc++6 (>= 12), libqt6core6 (>= 6.2), libqt6gui6 (>= 6.2), libqt6widgets6 (>= 6.2), libqt6charts6 (>= 6.2), libqt6svg6 (>= 6.2)")
endif()
# Not from dpkg-shlibdeps for the module: cuBLAS and NCCL come from NVIDIA's packages, which
# dpkg-shlibdeps has no symbols or shlibs files for (docs/INSTALL.md).
set(CPACK_DEBIAN_CUDA_PACKAGE_SHLIBDEPS OFF)
include(CPack)
