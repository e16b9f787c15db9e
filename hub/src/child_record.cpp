#include "plexus/hub/child_record.h"

namespace plexus::hub {

std::string_view ChildRecord::tag() const {
  if (!spec) return {};
  auto it = spec->metadata.find(kTagKey);
  return it == spec->metadata.end() ? std::string_view() : std::string_view(it->second);
}

}  // namespace plexus::hub
