# gui_cli_cases.cmake — llmplan-gui's command line as a user runs it (ctest -P script, offscreen):
# files that are not what they should be and sizes out of range are one stderr line and exit 2, a
# screenshot that cannot be written one line and exit 1; never an abort.
file(REMOVE_RECURSE "${WORKDIR}")
file(MAKE_DIRECTORY "${WORKDIR}/runtime")
# Qt wants a private runtime folder (else it warns on stderr).
file(CHMOD "${WORKDIR}/runtime" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
set(ENV{XDG_RUNTIME_DIR} "${WORKDIR}/runtime")

# Runs llmplan-gui ARGS…; fails unless it exits `expected_code` with exactly one stderr line equal
# to "llmplan-gui: " + `line`.
function(expect_gui expected_code line)
  execute_process(COMMAND ${GUI} ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err
                  WORKING_DIRECTORY "${WORKDIR}" TIMEOUT 120)
  # Qt's offscreen platform says this of every window it shows; it is not llmplan-gui's.
  string(REPLACE "This plugin does not support propagateSizeHints()\n" "" err "${err}")
  if(NOT code EQUAL expected_code OR NOT err STREQUAL "llmplan-gui: ${line}\n")
    message(FATAL_ERROR "llmplan-gui ${ARGN}: exit ${code}, expected ${expected_code}\nstderr: ${err}\nexpected: llmplan-gui: ${line}")
  endif()
endfunction()

set(shot "${WORKDIR}/shot.png")
foreach(size 100000x100000 16385x100 0x100 100 axb 100x-5)
  expect_gui(2 "--size: \"${size}\" is not WIDTHxHEIGHT with each side from 1 to 16384 pixels" --size ${size} --screenshot ${shot})
endforeach()
if(EXISTS "${shot}")
  message(FATAL_ERROR "a refused --size wrote a screenshot")
endif()

# --profile: an array, a number, a report with a field of another type, not JSON at all.
set(f "${WORKDIR}/profile.json")
foreach(text "[1, 2]" "3.5")
  file(WRITE "${f}" "${text}")
  expect_gui(2 "${f}: no measured quantity found (see the Measured tab for the keys read)" --profile ${f} --screenshot ${shot})
endforeach()
file(WRITE "${f}" "{\"schema\": \"llmplan.profile/1\", \"measured\": {\"memory\": {\"peak_allocated\": {\"peak_bytes\": \"1\"}}}}")
expect_gui(2 "${f}: not a complete llmplan.profile/1 report (no number at measured.memory.peak_allocated.peak_bytes)"
           --profile ${f} --screenshot ${shot})
file(WRITE "${f}" "[1,\n2")
expect_gui(2 "profile report ${f}: not valid JSON at line 2, column 2: the text ends in an array, expected ']'"
           --profile ${f} --screenshot ${shot})
# A scenario that is not an object.
file(WRITE "${f}" "[1]")
expect_gui(2 "${f}: expected a JSON object (a scenario or an llmplan plan report)" --scenario ${f} --screenshot ${shot})
file(WRITE "${f}" "{\"model_source\": []}")
expect_gui(2 "${f}: \"model_source\" must be an object {\"kind\", \"value\"}" --scenario ${f} --screenshot ${shot})

# A screenshot that cannot be written: a folder; one that can: a small PNG.
expect_gui(1 "--screenshot: cannot write \"${WORKDIR}\": it is a directory" --size 200x100 --screenshot ${WORKDIR})
execute_process(COMMAND ${GUI} --size 320x200 --screenshot ${shot} RESULT_VARIABLE code ERROR_VARIABLE err TIMEOUT 120)
file(READ "${shot}" magic LIMIT 4 HEX)
if(NOT code EQUAL 0 OR NOT magic STREQUAL "89504e47")
  message(FATAL_ERROR "--size 320x200 --screenshot: exit ${code}, file starts ${magic}\n${err}")
endif()
message(STATUS "gui cli cases: all passed")
