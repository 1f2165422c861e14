#pragma once
// Maps on hot paths. Hash tables: abseil's open-addressing tables, where a node-based
// std::unordered_map costs a cache miss per lookup (the simulator's connection tables were a
// fifth of its time). Their iteration order changes from run to run (abseil salts each table),
// so use them only where nothing iterates them, or sort what is taken out before acting on it.

#include <absl/container/btree_map.h>
#include <absl/container/flat_hash_map.h>

namespace hyphae {

template <class Key, class Value, class Hash = absl::Hash<Key>>
using flat_map = absl::flat_hash_map<Key, Value, Hash>;

// Where the order of a walk decides what happens (which peer hears first), and a table holds a
// few dozen entries: a B-tree, in key order, in a few cache lines. Any insert or erase moves its
// entries: walks that may change it walk a copy of the keys.
template <class Key, class Value>
using ordered_map = absl::btree_map<Key, Value>;

}  // namespace hyphae
