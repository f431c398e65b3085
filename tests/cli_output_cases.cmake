# cli_output_cases.cmake — where the real build/llmplan binary writes a report (ctest -P script):
# a regular file (replaced whole), a symbolic link (its file replaced, the link kept), a FIFO with a
# reader, a /dev/null-like and a /dev/full-like node, a 250-character name in deep folders, a
# read-only folder, a folder; and SIGINT/SIGTERM during a long run leave no report. Every device
# node is made inside WORKDIR (mknod, as root; skipped where not permitted): /dev is never touched.
include(${CMAKE_CURRENT_LIST_DIR}/cli_cases_common.cmake)  # WORKDIR, expect_run

set(report_args plan --model gpt2-124m)

# One line on stderr matching `what`.
function(expect_one_line what)
  string(REGEX MATCHALL "\n" newlines "${last_err}")
  list(LENGTH newlines n)
  if(NOT n EQUAL 1 OR NOT last_err MATCHES "${what}")
    message(FATAL_ERROR "expected one stderr line matching '${what}', got:\n${last_err}")
  endif()
endfunction()

# What `stat -c %F` says `path` is ("regular file", "fifo", "character special file", ...).
function(kind_of path out)
  execute_process(COMMAND stat -c %F "${path}" OUTPUT_VARIABLE kind OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(${out} "${kind}" PARENT_SCOPE)
endfunction()

# No temporary (.llmplan-*.tmp) left in `dir`.
function(expect_no_leftovers dir)
  file(GLOB leftovers "${dir}/.llmplan-*")
  if(leftovers)
    message(FATAL_ERROR "temporary files left behind: ${leftovers}")
  endif()
endfunction()

function(expect_plan_report path)
  file(READ "${path}" text)
  string(JSON schema GET "${text}" schema)
  if(NOT schema STREQUAL "llmplan.plan/1")
    message(FATAL_ERROR "${path} is not a whole plan report")
  endif()
endfunction()

# A regular file: written, then replaced whole.
file(WRITE "${WORKDIR}/r.json" "old contents")
expect_run(0 ${report_args} --report "${WORKDIR}/r.json")
expect_plan_report("${WORKDIR}/r.json")
expect_no_leftovers("${WORKDIR}")

# A symbolic link to a file: the file gets the report, the link stays a link.
file(WRITE "${WORKDIR}/target.json" "old")
file(CREATE_LINK "target.json" "${WORKDIR}/link.json" SYMBOLIC)
expect_run(0 ${report_args} --report "${WORKDIR}/link.json")
expect_plan_report("${WORKDIR}/target.json")
if(NOT IS_SYMLINK "${WORKDIR}/link.json")
  message(FATAL_ERROR "the link was replaced by a file")
endif()

# A folder: refused in one line, exit 1.
file(MAKE_DIRECTORY "${WORKDIR}/folder")
expect_run(1 ${report_args} --report "${WORKDIR}/folder")
expect_one_line("--report: cannot write \"${WORKDIR}/folder\": it is a directory")

# A 250-character name in folders 2,000 characters deep (the temporary's name is short).
string(REPEAT "d" 200 level)
set(deep "${WORKDIR}")
foreach(i RANGE 9)
  set(deep "${deep}/${level}${i}")
endforeach()
file(MAKE_DIRECTORY "${deep}")
string(REPEAT "n" 245 name)
expect_run(0 ${report_args} --report "${deep}/${name}.json")
expect_plan_report("${deep}/${name}.json")
expect_no_leftovers("${deep}")

# A FIFO: written in place to its reader (dd), still a FIFO afterwards.
execute_process(COMMAND mkfifo "${WORKDIR}/fifo" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "mkfifo failed")
endif()
execute_process(COMMAND dd "if=${WORKDIR}/fifo" "of=${WORKDIR}/from_fifo.json" status=none
                COMMAND ${LLMPLAN} ${report_args} --report "${WORKDIR}/fifo"
                RESULTS_VARIABLE codes OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 120)
if(NOT codes STREQUAL "0;0")
  message(FATAL_ERROR "--report FIFO: exit codes ${codes}\n${err}")
endif()
expect_plan_report("${WORKDIR}/from_fifo.json")
kind_of("${WORKDIR}/fifo" kind)
if(NOT kind STREQUAL "fifo")
  message(FATAL_ERROR "the FIFO became a ${kind}")
endif()

# Device nodes like /dev/null (1, 3) and /dev/full (1, 7): written in place, never replaced; a
# full device is a failure to write (exit 1, one line).
execute_process(COMMAND mknod "${WORKDIR}/null" c 1 3 RESULT_VARIABLE null_rc ERROR_QUIET)
if(null_rc EQUAL 0)
  execute_process(COMMAND mknod "${WORKDIR}/full" c 1 7 RESULT_VARIABLE rc)
  expect_run(0 ${report_args} --report "${WORKDIR}/null")
  expect_run(1 ${report_args} --report "${WORKDIR}/full")
  expect_one_line("--report: cannot write \"${WORKDIR}/full\": No space left on device")
  foreach(node null full)
    kind_of("${WORKDIR}/${node}" kind)
    if(NOT kind STREQUAL "character special file")
      message(FATAL_ERROR "${node} became a ${kind}")
    endif()
  endforeach()
else()
  message(STATUS "SKIP: device nodes (mknod is not permitted here)")
endif()

# A read-only folder: one line, exit 1, nothing written. Root may write anywhere, so as root the
# binary runs as user nobody (setpriv), from a folder nobody can reach.
execute_process(COMMAND id -u OUTPUT_VARIABLE uid OUTPUT_STRIP_TRAILING_WHITESPACE)
execute_process(COMMAND mktemp -d OUTPUT_VARIABLE tmp OUTPUT_STRIP_TRAILING_WHITESPACE)
file(MAKE_DIRECTORY "${tmp}/ro")
file(CHMOD "${tmp}" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
file(CHMOD "${tmp}/ro" PERMISSIONS OWNER_READ OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(as_user "")
if(uid STREQUAL "0")
  find_program(SETPRIV setpriv)
  if(SETPRIV)
    set(as_user ${SETPRIV} --reuid=65534 --regid=65534 --clear-groups)
  endif()
endif()
if(uid STREQUAL "0" AND NOT as_user)
  message(STATUS "SKIP: read-only folder (root, and no setpriv to run as another user)")
else()
  execute_process(COMMAND ${as_user} ${LLMPLAN} ${report_args} --report "${tmp}/ro/r.json"
                  RESULT_VARIABLE code OUTPUT_QUIET ERROR_VARIABLE last_err)
  file(GLOB written "${tmp}/ro/*" "${tmp}/ro/.*")
  if(NOT code EQUAL 1 OR written)
    message(FATAL_ERROR "read-only folder: exit ${code}, files ${written}\n${last_err}")
  endif()
  expect_one_line("--report: cannot write \"${tmp}/ro/r.json\": Permission denied")
endif()
file(CHMOD "${tmp}/ro" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
file(REMOVE_RECURSE "${tmp}")

# SIGINT and SIGTERM during a long `profile --device cpu` (timeout sends them after 2 s): the run
# stops at once and leaves no report and no temporary.
find_program(TIMEOUT timeout)
if(TIMEOUT)
  foreach(signal INT TERM)
    string(TIMESTAMP t0 "%s")
    execute_process(COMMAND ${TIMEOUT} -s ${signal} 2
                            ${LLMPLAN} profile --hf-config ${DATA}/profile/tiny-gpt2.json --device cpu --precision fp32
                            --micro-batch 2 --seq 16 --steps 1000000 --warmup 1 --report "${WORKDIR}/stopped.json"
                    RESULT_VARIABLE code OUTPUT_QUIET ERROR_QUIET TIMEOUT 60)
    string(TIMESTAMP t1 "%s")
    math(EXPR seconds "${t1} - ${t0}")
    if(NOT code EQUAL 124 OR seconds GREATER 10)
      message(FATAL_ERROR "SIG${signal}: exit ${code} after ${seconds} s (expected timeout's 124 within seconds)")
    endif()
    if(EXISTS "${WORKDIR}/stopped.json")
      message(FATAL_ERROR "SIG${signal} left a report behind")
    endif()
    expect_no_leftovers("${WORKDIR}")
  endforeach()
else()
  message(STATUS "SKIP: signals (no timeout program)")
endif()
message(STATUS "cli output cases: all passed")
