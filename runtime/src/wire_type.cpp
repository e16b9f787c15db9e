// The registry of wire types (see WireType in detail/envelope.h).
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

#include "plexus/detail/envelope.h"

namespace plexus::detail {

namespace {

// Filled during static initialization, when protobuf's own descriptors may
// not be ready yet: names are only asked for later, on the first lookup by
// name.
struct WireTypeRegistry {
  std::mutex mu;
  std::deque<WireType> types;  // a deque: pointers to entries stay valid
  std::unordered_map<TypeId, size_t> by_type;
  std::unordered_map<std::string, size_t> by_name;
  size_t named = 0;  // types[0, named) are in by_name

  void index_names() {
    for (; named < types.size(); ++named) by_name.emplace(types[named].name(), named);
  }
};

WireTypeRegistry& registry() {
  static WireTypeRegistry* r = new WireTypeRegistry;  // never destroyed: used until exit
  return *r;
}

}  // namespace

void add_wire_type(const WireType& type) {
  WireTypeRegistry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.by_type.emplace(type.type, r.types.size()).second) r.types.push_back(type);
}

const WireType* find_wire_type(TypeId type) {
  WireTypeRegistry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.by_type.find(type);
  return it == r.by_type.end() ? nullptr : &r.types[it->second];
}

const WireType* find_wire_type(const std::string& name) {
  WireTypeRegistry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.index_names();
  auto it = r.by_name.find(name);
  return it == r.by_name.end() ? nullptr : &r.types[it->second];
}

}  // namespace plexus::detail
