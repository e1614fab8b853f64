# Shared compile flags and the one-library-per-folder helper.

function(huginn_target_flags target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                         -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
                         -Wnull-dereference -Wimplicit-fallthrough)
  if(HUGINN_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# Test code builds containers from literals in ways that trip g++ 12's
# middle-end diagnostics at -O2 (false positives: GCC PRs 105329, 105651,
# 106199, 107852). Production code keeps them; tests drop only these.
function(huginn_test_flags target)
  huginn_target_flags(${target})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-stringop-overflow -Wno-array-bounds
                           -Wno-restrict -Wno-maybe-uninitialized -Wno-nonnull
                           -Wno-stringop-overread)
  endif()
endfunction()

if(HUGINN_SANITIZE)
  add_compile_options(-fsanitize=${HUGINN_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${HUGINN_SANITIZE})
endif()

if(HUGINN_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "HUGINN_FUZZ needs clang (libFuzzer)")
  endif()
  # Instrument every library for coverage; only the fuzz mains link libFuzzer's main.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# huginn_module(NAME [DIR path] [DEPS ...]): the static library huginn_NAME from
# src/<path>/*.cpp; its public headers live in include/huginn/<path>/.
function(huginn_module name)
  cmake_parse_arguments(M "" "DIR" "DEPS" ${ARGN})
  if(NOT M_DIR)
    set(M_DIR ${name})
  endif()
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${M_DIR}/*.cpp)
  list(FILTER srcs EXCLUDE REGEX ".*/main\\.cpp$")
  if(srcs)
    add_library(huginn_${name} STATIC ${srcs})
    target_include_directories(huginn_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include
                               PRIVATE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(huginn_${name} PUBLIC ${M_DEPS})
    huginn_target_flags(huginn_${name})
  else()  # header-only so far
    add_library(huginn_${name} INTERFACE)
    target_include_directories(huginn_${name} INTERFACE ${PROJECT_SOURCE_DIR}/include)
    target_link_libraries(huginn_${name} INTERFACE ${M_DEPS})
  endif()
endfunction()
