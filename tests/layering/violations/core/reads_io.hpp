// Fixture for the layering test: every line below breaks a rule and must be reported.
#include <thread>
#include <fstream>
#include "asio.hpp"
#include "hyphae/proto/bittorrent/metainfo.hpp"
inline auto seed() { return std::random_device{}(); }
inline auto now() { return std::chrono::steady_clock::now(); }
