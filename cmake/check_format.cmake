# The house style as a test (run with cmake -DROOT=<source dir> -DCLANG_FORMAT=<program> -P
# check_format.cmake): every C++ file under src, apps, tests, bench and fuzz is as clang-format
# (.clang-format at the root) would write it. Layering fixtures are exempt.
if(NOT ROOT OR NOT CLANG_FORMAT)
  message(FATAL_ERROR "usage: cmake -DROOT=<source dir> -DCLANG_FORMAT=<program> -P check_format.cmake")
endif()
set(files "")
foreach(dir src apps tests bench fuzz)
  file(GLOB_RECURSE found "${ROOT}/${dir}/*.cpp" "${ROOT}/${dir}/*.hpp")
  list(APPEND files ${found})
endforeach()
list(FILTER files EXCLUDE REGEX "/tests/layering/violations/")
list(LENGTH files count)
execute_process(COMMAND "${CLANG_FORMAT}" --dry-run --Werror ${files}
                WORKING_DIRECTORY "${ROOT}" RESULT_VARIABLE status ERROR_VARIABLE complaints)
if(NOT status EQUAL 0)
  string(REGEX MATCHALL "[^\n]*: error: code should be clang-formatted[^\n]*" lines "${complaints}")
  foreach(line IN LISTS lines)
    message("${line}")
  endforeach()
  message(FATAL_ERROR "format: files differ from clang-format's output; run: git ls-files '*.cpp' '*.hpp' | xargs clang-format -i")
endif()
message("format: ${count} files formatted")
