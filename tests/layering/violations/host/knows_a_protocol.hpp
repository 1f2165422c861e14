// Fixture for the layering test: the host is protocol-neutral and sans-I/O.
#include "hyphae/proto/dht/dht_node.hpp"
#include <thread>
