// Fixture for the layering test: a protocol folder may not include another protocol folder.
#include "hyphae/proto/dht/krpc.hpp"
#include "hyphae/proto/tracker/announce.hpp"
