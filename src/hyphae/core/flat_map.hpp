#pragma once
// Hash tables on hot paths: abseil's open-addressing tables, where a node-based
// std::unordered_map costs a cache miss per lookup (the simulator's connection tables were a
// fifth of its time). Their iteration order changes from run to run (abseil salts each table),
// so use them only where nothing iterates them, or sort what is taken out before acting on it.

#include <absl/container/flat_hash_map.h>

namespace hyphae {

template <class Key, class Value, class Hash = absl::Hash<Key>>
using flat_map = absl::flat_hash_map<Key, Value, Hash>;

}  // namespace hyphae
