// Fixture for the layering test: every line below breaks a rule and must be reported.
#include <filesystem>
#include "hyphae/runtime/piece_hasher.hpp"
long stamp() { return time(nullptr); }
// std::chrono::system_clock::now() in a comment is allowed.
