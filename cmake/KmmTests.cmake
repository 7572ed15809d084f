# KmmTests.cmake - test registration.
#
# kmm_add_test(NAME SOURCES src.c... [LABELS l...] [ARGS a...] [TIMEOUT s] [SERIAL])
#   builds one test binary against kmm_static (with the harness and the
#   internal headers on the include path) and registers it with CTest.
# kmm_glob_tests(KIND)
#   registers every tests/KIND/*.c as test KIND_<file>, labelled KIND.
#   Markers inside a file, each on a line of its own:
#     /* kmm-test: threaded */    also label "threaded" (TSan runs these;
#                                  every stress test has it implicitly)
#     /* kmm-test: timeout=N */   CTest timeout in seconds
#     /* kmm-test: serial */      never run beside another test
#     /* kmm-test: backends */    run twice, once per slab backend: as
#                                  KIND_<file>_slab and KIND_<file>_slob with
#                                  KMM_TEST_BOOT="slab=slab" / "slab=slob" in
#                                  the environment (the test adds it to its
#                                  boot command lines)
#   Every test runs with KMM_TEST_LOCKDEP=1: page_helpers.h turns the lock
#   order validator (src/mm/lockdep.c) on for every boot.

set(KMM_TEST_TIMEOUT_unit 120)
set(KMM_TEST_TIMEOUT_integration 300)
set(KMM_TEST_TIMEOUT_stress 900)

function(kmm_add_test name)
  cmake_parse_arguments(T "SERIAL" "TIMEOUT" "SOURCES;LABELS;ARGS;BACKENDS" ${ARGN})
  if(NOT T_SOURCES)
    message(FATAL_ERROR "kmm_add_test(${name}): SOURCES is required")
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE kmm_static Threads::Threads m)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/src)
  # Tests may include src/mm/internal.h: same definitions as the core.
  target_compile_definitions(${name} PRIVATE _GNU_SOURCE KMM_HOSTED
    KMM_DEBUG=${KMM_DEBUG} KMM_PAGE_SHIFT=${KMM_PAGE_SHIFT})
  target_compile_options(${name} PRIVATE -fno-strict-aliasing)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set(runs ${name})
  if(T_BACKENDS)
    set(runs "")
    foreach(b IN LISTS T_BACKENDS)
      add_test(NAME ${name}_${b} COMMAND ${name} ${T_ARGS})
      set_tests_properties(${name}_${b} PROPERTIES ENVIRONMENT "KMM_TEST_BOOT=slab=${b};KMM_TEST_LOCKDEP=1")
      list(APPEND runs ${name}_${b})
    endforeach()
  else()
    add_test(NAME ${name} COMMAND ${name} ${T_ARGS})
    set_tests_properties(${name} PROPERTIES ENVIRONMENT "KMM_TEST_LOCKDEP=1")
  endif()
  foreach(r IN LISTS runs)
    set_tests_properties(${r} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT})
    if(T_SERIAL)
      set_tests_properties(${r} PROPERTIES RUN_SERIAL TRUE)
    endif()
  endforeach()
endfunction()

function(kmm_glob_tests kind)
  file(GLOB files CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/${kind}/*.c)
  foreach(f IN LISTS files)
    get_filename_component(base ${f} NAME_WE)
    # re-read the markers when the file changes
    set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${f})
    file(STRINGS ${f} marks REGEX "kmm-test:")
    set(labels ${kind})
    if(kind STREQUAL "stress" OR marks MATCHES "kmm-test: threaded")
      list(APPEND labels threaded)
    endif()
    set(timeout ${KMM_TEST_TIMEOUT_${kind}})
    if(marks MATCHES "kmm-test: timeout=([0-9]+)")
      set(timeout ${CMAKE_MATCH_1})
    endif()
    set(serial "")
    if(marks MATCHES "kmm-test: serial")
      set(serial SERIAL)
    endif()
    set(backends "")
    if(marks MATCHES "kmm-test: backends")
      set(backends BACKENDS slab slob)
    endif()
    kmm_add_test(${kind}_${base} SOURCES ${f} LABELS ${labels} TIMEOUT ${timeout} ${serial} ${backends})
  endforeach()
endfunction()
