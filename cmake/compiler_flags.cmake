# Warnings and sanitizers for every Hyphae target (not for the system's headers).
add_library(hyphae_flags INTERFACE)
target_compile_options(hyphae_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wimplicit-fallthrough -Wmissing-declarations -Wundef)
if(HYPHAE_WERROR)
  target_compile_options(hyphae_flags INTERFACE -Werror)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ 12 at -O2 reports std::variant members as maybe-uninitialized when they are not
    # (GCC bug 105593 and kin): still shown, no longer fatal.
    target_compile_options(hyphae_flags INTERFACE -Wno-error=maybe-uninitialized)
  endif()
endif()

if(HYPHAE_SANITIZE)
  set(HYPHAE_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_compile_options(${HYPHAE_SANITIZER_FLAGS})
  add_link_options(${HYPHAE_SANITIZER_FLAGS})
endif()

if(HYPHAE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "HYPHAE_FUZZ needs clang (libFuzzer); use the 'fuzz' preset")
  endif()
  # Libraries get coverage instrumentation; only the fuzz targets link libFuzzer's main.
  # Undefined behaviour stops the run (clang recovers by default, and a fuzzer would only print it).
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
endif()
