# KmmToolTests.cmake - tests of the kmm CLI, the trace format and the
# freestanding example.  Included from CMakeLists.txt when tests are on.
#
#   tool_trace_format         tests/tools/trace_format.c: encoder / writer /
#                             reader round trips (links tools/trace*.c)
#   tool_demo_deterministic   two `kmm demo --threads 1 --seed 7 --seconds 1`
#                             runs print the same report text
#   tool_demo_pictures        a multi-threaded demo writes both SVGs
#   tool_report_json          kmm report --json parses; text reports print
#   tool_replay_generated     trace-gen + replay on SLAB and SLOB (--compare),
#                             binary and text forms
#   tool_replay_real_program  a trace of sqlite3 or python3 recorded through
#                             the malloc shim, replayed on both backends
#                             (skipped, with a message, until the shim exists)
#   tool_exec                 kmm exec finds the shim or says clearly why not
#   freestanding_example      examples/freestanding runs and prints buddyinfo
# Shell tests live in tests/cli/*.sh; each gets the kmm binary, a scratch
# directory and python3 (or "none").  Exit 77 means skipped.

find_program(KMM_PYTHON3 python3)
if(NOT KMM_PYTHON3)
  set(KMM_PYTHON3 none)
endif()

kmm_add_test(tool_trace_format
  SOURCES ${PROJECT_SOURCE_DIR}/tests/tools/trace_format.c
          ${PROJECT_SOURCE_DIR}/tools/trace.c ${PROJECT_SOURCE_DIR}/tools/trace_read.c
  LABELS unit TIMEOUT 60)
target_include_directories(tool_trace_format PRIVATE ${PROJECT_SOURCE_DIR}/tools)

function(kmm_cli_test name script)
  cmake_parse_arguments(C "" "TIMEOUT" "LABELS" ${ARGN})
  if(NOT C_TIMEOUT)
    set(C_TIMEOUT 120)
  endif()
  set(dir ${PROJECT_BINARY_DIR}/tests/cli/${name})
  add_test(NAME ${name}
    COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/${script} $<TARGET_FILE:kmm> ${dir} ${KMM_PYTHON3})
  set_tests_properties(${name} PROPERTIES LABELS "${C_LABELS}" TIMEOUT ${C_TIMEOUT} SKIP_RETURN_CODE 77)
endfunction()

if(KMM_HAVE_CLI)
  kmm_cli_test(tool_demo_deterministic demo_deterministic.sh LABELS integration)
  kmm_cli_test(tool_demo_pictures demo_pictures.sh LABELS integration)
  kmm_cli_test(tool_report_json report_json.sh LABELS integration)
  kmm_cli_test(tool_replay_generated replay_generated.sh LABELS integration)
  kmm_cli_test(tool_replay_real_program replay_real_program.sh LABELS integration TIMEOUT 300)
  kmm_cli_test(tool_exec exec.sh LABELS integration)
endif()

if(KMM_HAVE_FREESTANDING_EXAMPLE)
  add_test(NAME freestanding_example
    COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/freestanding.sh ${KMM_FS_EXAMPLE})
  set_tests_properties(freestanding_example PROPERTIES LABELS unit TIMEOUT 60)
endif()
