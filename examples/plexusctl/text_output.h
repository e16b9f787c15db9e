// Renders one of the daemon's JSON lines for people: `key=value` pairs, with
// nested objects as {k=v ...} and lists as [a b].
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace plexusctl {

class TextOutput {
 public:
  // `json` as the daemon writes it (valid JSON); anything else comes back as it is.
  static std::string render(std::string_view json) {
    TextOutput t(json);
    std::string out;
    if (!t.value(&out, /*top=*/true) || t.at_ != json.size()) return std::string(json);
    return out;
  }

 private:
  explicit TextOutput(std::string_view s) : s_(s) {}

  bool value(std::string* out, bool top = false) {
    if (at_ >= s_.size()) return false;
    char c = s_[at_];
    if (c == '{') return object(out, top);
    if (c == '[') return list(out);
    if (c == '"') return string(out);
    size_t start = at_;
    while (at_ < s_.size() && s_[at_] != ',' && s_[at_] != '}' && s_[at_] != ']') ++at_;
    out->append(s_.substr(start, at_ - start));
    return at_ > start;
  }
  bool object(std::string* out, bool top) {
    ++at_;
    if (!top) *out += "{";
    bool first = true;
    while (at_ < s_.size() && s_[at_] != '}') {
      if (!first) {
        if (s_[at_] != ',') return false;
        ++at_;
      }
      if (!first || !top) *out += first ? "" : " ";
      std::string key;
      if (!string(&key) || at_ >= s_.size() || s_[at_] != ':') return false;
      ++at_;
      *out += key + "=";
      if (!value(out)) return false;
      first = false;
    }
    if (at_ >= s_.size()) return false;
    ++at_;
    if (!top) *out += "}";
    return true;
  }
  bool list(std::string* out) {
    ++at_;
    *out += "[";
    bool first = true;
    while (at_ < s_.size() && s_[at_] != ']') {
      if (!first) {
        if (s_[at_] != ',') return false;
        ++at_;
        *out += " ";
      }
      if (!value(out)) return false;
      first = false;
    }
    if (at_ >= s_.size()) return false;
    ++at_;
    *out += "]";
    return true;
  }
  bool string(std::string* out) {
    if (s_[at_] != '"') return false;
    for (++at_; at_ < s_.size() && s_[at_] != '"'; ++at_) {
      if (s_[at_] == '\\' && at_ + 1 < s_.size()) ++at_;
      *out += s_[at_];
    }
    if (at_ >= s_.size()) return false;
    ++at_;
    return true;
  }

  std::string_view s_;
  size_t at_ = 0;
};

}  // namespace plexusctl
