// Fixture for the layering test: the simulator may not use real I/O.
#include "hyphae/runtime/atomic_file.hpp"
