#include "node_name.h"

#include <cctype>

namespace plexus::detail {

Result<NodeAddress> parse_node_name(std::string_view name, bool allow_port_zero) {
  auto bad = [&](const char* why) {
    return Status(StatusCode::kInvalidArgument, "bad node name '" + std::string(name) +
                                                    "': " + why + " (expected name@host:port)");
  };
  size_t at = name.find('@');
  size_t colon = name.rfind(':');
  if (at == std::string_view::npos || at == 0) return bad("no name before '@'");
  if (colon == std::string_view::npos || colon < at) return bad("no ':port'");
  std::string_view base = name.substr(0, at);
  std::string_view host = name.substr(at + 1, colon - at - 1);
  std::string_view port = name.substr(colon + 1);
  for (char c : base) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
      return bad("the name may hold only letters, digits, '_', '-' and '.'");
  }
  if (host.empty()) return bad("empty host");
  if (port.empty() || port.size() > 5) return bad("bad port");
  uint32_t value = 0;
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return bad("bad port");
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > 65535) return bad("port above 65535");
  if (value == 0 && !allow_port_zero) return bad("port 0");
  return NodeAddress{std::string(base), std::string(host), static_cast<uint16_t>(value)};
}

}  // namespace plexus::detail
