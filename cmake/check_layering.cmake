# The architecture rule as a test (run with cmake -DROOT=<src/hyphae> -P check_layering.cmake):
# - core/, proto/, host/ and session/ are sans-I/O: no Asio, threads, files, sockets,
#   std::random_device, and no clock reads; time and randomness are handed in by the driver;
# - layers include only layers below them: core <- proto <- host <- session <- runtime, sim; the
#   host knows no protocol: host/ includes no proto/;
# - a protocol folder (proto/<name>/) includes no other protocol folder: what two protocols share
#   goes down to core/.
if(NOT ROOT)
  message(FATAL_ERROR "usage: cmake -DROOT=<src/hyphae> -P check_layering.cmake")
endif()
get_filename_component(ROOT "${ROOT}" ABSOLUTE)

set(io_patterns
  "#[ \t]*include[ \t]*[<\"]asio[./>]|includes Asio"
  "#[ \t]*include[ \t]*<thread>|includes <thread>"
  "#[ \t]*include[ \t]*<fstream>|includes <fstream>"
  "#[ \t]*include[ \t]*<filesystem>|includes <filesystem>"
  "#[ \t]*include[ \t]*<future>|includes <future>"
  "#[ \t]*include[ \t]*<sys/socket\\.h>|includes <sys/socket.h>"
  "random_device|uses std::random_device"
  "(steady_clock|system_clock|high_resolution_clock|utc_clock|file_clock)[ \t]*::[ \t]*now|reads a clock"
  "(^|[^a-z_])(clock_gettime|gettimeofday)[ \t]*\\(|reads a clock"
  "(^|[^a-z_:.])time[ \t]*\\([ \t]*(nullptr|NULL|0)[ \t]*\\)|reads a clock")

# layer -> layers it must not include
set(forbidden_core "proto;host;session;runtime;sim")
set(forbidden_proto "host;session;runtime;sim")
set(forbidden_host "proto;session;runtime;sim")
set(forbidden_session "runtime;sim")
set(forbidden_runtime "sim")
set(forbidden_sim "runtime")

set(violations 0)
foreach(layer core proto host session runtime sim)
  file(GLOB_RECURSE files "${ROOT}/${layer}/*.hpp" "${ROOT}/${layer}/*.cpp" "${ROOT}/${layer}/*.h")
  foreach(path IN LISTS files)
    file(STRINGS "${path}" lines)
    file(RELATIVE_PATH shown "${ROOT}" "${path}")
    set(number 0)
    foreach(line IN LISTS lines)
      math(EXPR number "${number} + 1")
      if(line MATCHES "^[ \t]*//")
        continue()
      endif()
      if(layer MATCHES "^(core|proto|host|session)$")
        foreach(rule IN LISTS io_patterns)
          string(REPLACE "|" ";" parts "${rule}")
          list(POP_BACK parts what)
          list(JOIN parts "|" pattern)
          if(line MATCHES "${pattern}")
            message("${shown}:${number}: ${what} (cores are sans-I/O)")
            math(EXPR violations "${violations} + 1")
          endif()
        endforeach()
      endif()
      if(layer STREQUAL "proto")
        string(REGEX MATCH "^proto/([a-z0-9_]+)/" own "${shown}")
        set(own "${CMAKE_MATCH_1}")
        if(line MATCHES "#[ \t]*include[ \t]*[<\"]hyphae/proto/([a-z0-9_]+)/" AND NOT own STREQUAL "")
          if(NOT CMAKE_MATCH_1 STREQUAL own)
            message("${shown}:${number}: proto/${own}/ includes proto/${CMAKE_MATCH_1}/ (shared code goes down to core/)")
            math(EXPR violations "${violations} + 1")
          endif()
        endif()
      endif()
      foreach(upper IN LISTS forbidden_${layer})
        if(line MATCHES "#[ \t]*include[ \t]*[<\"]hyphae/${upper}/")
          message("${shown}:${number}: ${layer}/ includes ${upper}/ (layers include only layers below)")
          math(EXPR violations "${violations} + 1")
        endif()
      endforeach()
    endforeach()
  endforeach()
endforeach()

message("layering: ${violations} violations")
if(violations GREATER 0)
  message(FATAL_ERROR "layering rules broken")
endif()
