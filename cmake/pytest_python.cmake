# pytest_python.cmake — llmplan_pytest_python(VAR [ANY_VERSION]): the Python that runs the pytest
# suites (python/tests: python.api; tests/test_schemas.py: schemas.reports): one that imports
# pytest (python3-pytest) and jsonschema (python3-jsonschema) and, unless ANY_VERSION, has the
# version of the Python the extension is built for (Python3_VERSION). The interpreter CMake found
# comes first; a pyenv or conda python3 earlier in PATH often lacks Debian's packages, and Debian's
# own python3 is tried then. VAR is empty when neither has them (the suites are then not registered, with a message).
function(llmplan_pytest_python var)
  cmake_parse_arguments(arg "ANY_VERSION" "" "" ${ARGN})
  set(found "")
  foreach(python IN ITEMS "${Python3_EXECUTABLE}" /usr/bin/python3)
    if(found OR NOT EXISTS "${python}")
      continue()
    endif()
    execute_process(COMMAND "${python}" -c "import sys, pytest, jsonschema; print('%d.%d' % sys.version_info[:2])"
                    RESULT_VARIABLE code OUTPUT_VARIABLE version ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(code EQUAL 0 AND (arg_ANY_VERSION OR NOT Python3_VERSION OR "${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR}" STREQUAL version))
      set(found "${python}")
    endif()
  endforeach()
  set(${var} "${found}" PARENT_SCOPE)
endfunction()
