// Just enough JSON for plexusctl's lines: strings escaped, objects built by
// hand.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace plexus_node {

// `text` as a JSON string, quotes included.
inline std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

inline const char* json_bool(bool b) { return b ? "true" : "false"; }

// ["a","b"]: each of `items` (strings) as a JSON string.
template <class Strings>
std::string json_strings(const Strings& items) {
  std::string out = "[";
  for (const auto& item : items) out += (out.size() > 1 ? "," : "") + json_string(item);
  return out + "]";
}

}  // namespace plexus_node
