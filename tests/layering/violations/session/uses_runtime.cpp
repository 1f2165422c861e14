// Fixture for the layering test: the session is sans-I/O and below the runtime.
#include "hyphae/runtime/file_storage.hpp"
