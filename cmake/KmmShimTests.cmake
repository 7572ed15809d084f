# KmmShimTests.cmake - tests of the malloc shim (src/shim) and of real
# programs running on it.  Included from CMakeLists.txt when tests are on.
#
#   shim_api_preload   tests/shim/api.c under LD_PRELOAD=libkmm-malloc.so
#   shim_api_linked    the same program linked with libkmm-malloc.so
#   programs_<name>    tests/programs/<name>.sh: a real program (sqlite3,
#                      perl, git, python3, gcc, redis, a C++ program) on
#                      the shim, its results verified; label "programs".
#                      A program that cannot be had prints SKIPPED and the
#                      reason and exits 77 (CTest shows it as skipped).
if(NOT KMM_HAVE_SHIM OR NOT TARGET kmm_malloc)
  return()
endif()

add_test(NAME shim_api_preload COMMAND kmm-shim-api-preload)
set_tests_properties(shim_api_preload PROPERTIES LABELS "integration;shim" TIMEOUT 300
  ENVIRONMENT "LD_PRELOAD=$<TARGET_FILE:kmm_malloc>;KMM_OPTIONS=")
add_test(NAME shim_api_linked COMMAND kmm-shim-api-linked)
set_tests_properties(shim_api_linked PROPERTIES LABELS "integration;shim" TIMEOUT 300
  ENVIRONMENT "KMM_OPTIONS=")

file(GLOB KMM_PROGRAM_TESTS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/programs/*.sh)
foreach(script IN LISTS KMM_PROGRAM_TESTS)
  get_filename_component(name ${script} NAME_WE)
  if(name STREQUAL "lib")
    continue()
  endif()
  add_test(NAME programs_${name}
    COMMAND sh ${script} $<TARGET_FILE:kmm_malloc> ${PROJECT_BINARY_DIR}/tests/programs/${name})
  set_tests_properties(programs_${name} PROPERTIES LABELS programs TIMEOUT 240 SKIP_RETURN_CODE 77)
endforeach()
