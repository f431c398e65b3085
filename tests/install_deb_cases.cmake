# install_deb_cases.cmake — the .deb packages as a user gets them: CPack builds them from this build
# folder (cmake/install.cmake), `dpkg-deb -x` unpacks them into a scratch folder, and the unpacked
# tree is run there, with no GPU and no CUDA: llmplan --version, a plan (golden numbers: README's
# example), the GPU backend module looked for relative to bin/, every man page through man -l, the
# bash completion in a plain bash. Skipped (one "SKIP:" line) where cpack, dpkg-deb or man is missing.
#   cmake -DBUILD_DIR=... -DWORKDIR=... -DCPACK=... -DVERSION=x.y.z -DMODULE_DIR=lib/llmplan
#         -DWRONG_ABI_MODULE=... -DDATA=tests/data -DGUI=ON|OFF -P install_deb_cases.cmake
file(REMOVE_RECURSE "${WORKDIR}")
file(MAKE_DIRECTORY "${WORKDIR}/root")

find_program(DPKG_DEB dpkg-deb)
find_program(MAN man)
find_program(BASH bash)
foreach(tool "CPACK;cpack (CMake's)" "DPKG_DEB;dpkg-deb (package dpkg)" "MAN;man (package man-db)" "BASH;bash")
  list(GET tool 0 var)
  list(GET tool 1 what)
  if(NOT ${var} OR NOT EXISTS "${${var}}")
    message("SKIP: ${what} not found")
    return()
  endif()
endforeach()

function(expect_run expected_code)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err WORKING_DIRECTORY "${WORKDIR}")
  if(NOT code EQUAL expected_code)
    message(FATAL_ERROR "${ARGN}: exit ${code}, expected ${expected_code}\nstdout: ${out}\nstderr: ${err}")
  endif()
  set(last_out "${out}" PARENT_SCOPE)
  set(last_err "${err}" PARENT_SCOPE)
endfunction()

function(expect_match text regex what)
  if(NOT text MATCHES "${regex}")
    message(FATAL_ERROR "${what}: expected to match '${regex}', got:\n${text}")
  endif()
endfunction()

# --- build and unpack ------------------------------------------------------------------------------
expect_run(0 "${CPACK}" --config "${BUILD_DIR}/CPackConfig.cmake" -G DEB -B "${WORKDIR}/pkg")
file(GLOB debs "${WORKDIR}/pkg/*.deb")
file(GLOB cli_deb "${WORKDIR}/pkg/llmplan_${VERSION}_*.deb")
list(LENGTH cli_deb n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "expected one llmplan_${VERSION}_*.deb, got: ${debs}")
endif()
foreach(deb IN LISTS debs)
  expect_run(0 ${DPKG_DEB} -x "${deb}" "${WORKDIR}/root")
endforeach()

# The CLI's package: its name, and nothing of CUDA or Qt among its dependencies.
expect_run(0 ${DPKG_DEB} -f "${cli_deb}" Package Depends)
expect_match("${last_out}" "^Package: llmplan\nDepends: [^\n]*libc6" "llmplan's control fields")
if(last_out MATCHES "cuda|cublas|nccl|qt6|libmpi")
  message(FATAL_ERROR "llmplan's package depends on a GPU or Qt library:\n${last_out}")
endif()
expect_run(0 ${DPKG_DEB} -c "${cli_deb}")
foreach(path usr/bin/llmplan usr/share/man/man1/llmplan\\.1\\.gz usr/share/man/man1/llmplan-plan\\.1\\.gz
        usr/share/bash-completion/completions/llmplan usr/share/doc/llmplan/docs/MEMORY_MODEL.md)
  expect_match("${last_out}" " \\./${path}\n" "dpkg-deb -c llmplan")
endforeach()
if(last_out MATCHES "libllmplan_cuda|llmplan-gui")
  message(FATAL_ERROR "the llmplan package holds the GPU module or the GUI:\n${last_out}")
endif()

# --- the unpacked CLI --------------------------------------------------------------------------------
set(bin "${WORKDIR}/root/usr/bin")
set(env ${CMAKE_COMMAND} -E env --unset=LLMPLAN_BACKEND --unset=LLMPLAN_BACKEND_PATH LD_LIBRARY_PATH=)
expect_run(0 ${env} "${bin}/llmplan" --version)
string(REPLACE "." "\\." version_re "${VERSION}")
expect_match("${last_out}" "^llmplan ${version_re}( \\(git [0-9a-f]+(-dirty)?\\))?\n$" "llmplan --version")

# README's example, from the unpacked tree: the same numbers as the build tree's binary.
expect_run(0 ${env} "${bin}/llmplan" plan --params 7B --gpus 8 --zero 3)
expect_match("${last_out}" "6,738,415,616 parameters" "plan from the .deb")
expect_match("${last_out}" "\n  peak allocated +30\\.31 " "plan from the .deb")
expect_match("${last_out}" "\n  device total +32\\.58 +of 79\\.18 GiB on the h100-sxm: FITS" "plan from the .deb")

# The GPU backend: looked for next to the executable, then in MODULE_DIR relative to bin/.
set(gpt2 "${DATA}/profile/tiny-gpt2.json")
set(profile_cuda profile --hf-config "${gpt2}" --device cuda --micro-batch 2 --seq 16)
if(NOT EXISTS "${WORKDIR}/root/usr/${MODULE_DIR}/libllmplan_cuda.so")  # a CUDA build packs it (llmplan-cuda)
  expect_run(2 ${env} "${bin}/llmplan" ${profile_cuda})
  expect_match("${last_err}" "libllmplan_cuda\\.so was not found in ${bin}, ${WORKDIR}/root/usr/${MODULE_DIR} "
               "profile --device cuda without the module")
  # A module there is the one opened: one built for another interface version is refused by name.
  file(MAKE_DIRECTORY "${WORKDIR}/root/usr/${MODULE_DIR}")
  file(COPY_FILE "${WRONG_ABI_MODULE}" "${WORKDIR}/root/usr/${MODULE_DIR}/libllmplan_cuda.so")
  expect_run(2 ${env} "${bin}/llmplan" ${profile_cuda})
  expect_match("${last_err}" "${WORKDIR}/root/usr/${MODULE_DIR}/libllmplan_cuda\\.so is a GPU backend of another llmplan"
               "profile --device cuda with a module in ${MODULE_DIR}")
else()
  # A CUDA build: the module comes in llmplan-cuda, tied to this exact llmplan, and the unpacked
  # CLI finds it (it then runs, or refuses for want of a GPU or a CUDA library, never "not found").
  file(GLOB cuda_deb "${WORKDIR}/pkg/llmplan-cuda_${VERSION}_*.deb")
  expect_run(0 ${DPKG_DEB} -f "${cuda_deb}" Depends)
  expect_match("${last_out}" "^llmplan \\(= ${version_re}\\)\n$" "llmplan-cuda's dependencies")
  execute_process(COMMAND ${env} "${bin}/llmplan" ${profile_cuda} --steps 1 --warmup 0 RESULT_VARIABLE code
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(err MATCHES "was not found in")
    message(FATAL_ERROR "the unpacked llmplan did not find its module in ${MODULE_DIR}: ${err}")
  endif()
endif()

# --- man pages: every command has one, each renders without a groff warning -----------------------
expect_run(0 ${env} "${bin}/llmplan" --help-man "${WORKDIR}")  # what this binary says now
file(GLOB pages RELATIVE "${WORKDIR}" "${WORKDIR}/*.1")
list(SORT pages)
file(GLOB packed RELATIVE "${WORKDIR}/root/usr/share/man/man1" "${WORKDIR}/root/usr/share/man/man1/*")
list(SORT packed)
list(TRANSFORM packed REPLACE "\\.gz$" "")  # the package's pages are gzip-compressed
if(NOT pages STREQUAL packed)
  message(FATAL_ERROR "the package's man pages (${packed}) are not the commands' (${pages})")
endif()
foreach(page llmplan.1 llmplan-plan.1 llmplan-search.1 llmplan-profile-calibrate.1)
  list(FIND pages ${page} at)
  if(at EQUAL -1)
    message(FATAL_ERROR "no man page ${page} among ${pages}")
  endif()
endforeach()
foreach(page IN LISTS pages)
  expect_run(0 ${CMAKE_COMMAND} -E env MANWIDTH=100 MANPAGER=cat PAGER=cat LC_ALL=C.UTF-8
             ${MAN} --warnings -l "${WORKDIR}/root/usr/share/man/man1/${page}.gz")
  if(NOT last_err STREQUAL "")
    message(FATAL_ERROR "man -l ${page}: warnings:\n${last_err}")
  endif()
  if(page STREQUAL "llmplan-plan.1")
    set(text "${last_out}")  # man-db drops bold and underline when its output is not a terminal
    expect_match("${text}" "\nNAME\n +llmplan-plan - Per-GPU memory of a training job" "man -l llmplan-plan.1")
    expect_match("${text}" "\n +--gpu NAME\n +GPU type \\(see `llmplan gpus`\\) \\(default: h100-sxm\\)" "man -l llmplan-plan.1")
    expect_match("${text}" "\n +Values: [^\n]*h100-sxm" "man -l llmplan-plan.1")
  endif()
endforeach()

# --- bash completion -------------------------------------------------------------------------------
set(completion "${WORKDIR}/root/usr/share/bash-completion/completions/llmplan")
expect_run(0 ${env} "${bin}/llmplan" --bash-completion "${WORKDIR}/completion.now")
file(READ "${completion}" packed_completion)
file(READ "${WORKDIR}/completion.now" now_completion)
if(NOT packed_completion STREQUAL now_completion)
  message(FATAL_ERROR "the package's bash completion is not the one its llmplan writes")
endif()
file(WRITE "${WORKDIR}/complete.sh" "source '${completion}' || exit 3
complete -p llmplan || exit 4
t() { COMP_WORDS=(\"$@\"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _llmplan; echo \"[\$*] \${COMPREPLY[*]}\"; }
t llmplan pl
t llmplan profile c
t llmplan plan --fram
t llmplan plan --framework me
t llmplan infer --gpu h100-n
t llmplan plan --recompute =
t llmplan plan --tp ''
")
expect_run(0 ${BASH} --norc --noprofile "${WORKDIR}/complete.sh")
expect_match("${last_out}" "^complete -F _llmplan llmplan\n" "complete -p llmplan")
expect_match("${last_out}" "\n\\[llmplan pl\\] plan\n" "completing a command")
expect_match("${last_out}" "\n\\[llmplan profile c\\] calibrate comm\n" "completing a nested command")
expect_match("${last_out}" "\n\\[llmplan plan --fram\\] --framework --framework-option\n" "completing a flag")
expect_match("${last_out}" "\n\\[llmplan plan --framework me\\] megatron megatron-bridge\n" "completing --framework's value")
expect_match("${last_out}" "\n\\[llmplan infer --gpu h100-n\\] h100-nvl\n" "completing --gpu's value")
expect_match("${last_out}" "\n\\[llmplan plan --recompute =\\] none selective full\n" "completing --recompute=")
expect_match("${last_out}" "\n\\[llmplan plan --tp \\] \n" "a number is not completed")

# --- the GUI's package (GUI builds) ----------------------------------------------------------------
if(GUI)
  file(GLOB gui_deb "${WORKDIR}/pkg/llmplan-gui_${VERSION}_*.deb")
  if(NOT gui_deb)
    message(FATAL_ERROR "a GUI build made no llmplan-gui package: ${debs}")
  endif()
  expect_run(0 ${DPKG_DEB} -f "${gui_deb}" Depends)
  expect_match("${last_out}" "libqt6widgets6" "llmplan-gui's dependencies")
  if(last_out MATCHES "cuda|cublas|nccl")
    message(FATAL_ERROR "llmplan-gui's package depends on a GPU library:\n${last_out}")
  endif()
  expect_run(0 ${env} "${bin}/llmplan-gui" --version)  # no display needed
  expect_match("${last_out}" "^llmplan-gui ${version_re}( \\(git [0-9a-f]+(-dirty)?\\))?\n$" "llmplan-gui --version")
endif()
message(STATUS "install cases (.deb unpacked and run): all passed")
