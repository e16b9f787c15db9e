#include "plexus/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace plexus {

namespace {

// [a-zA-Z_:][a-zA-Z0-9_:]*, as the exposition format allows.
bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && (i == 0 || c < '0' || c > '9')) return false;
  }
  return true;
}

// Label names are metric names without ':'.
bool valid_label_name(std::string_view name) {
  return valid_metric_name(name) && name.find(':') == std::string_view::npos;
}

// Help text escapes '\' and newline; label values '"' too.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void append_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, ec == std::errc() ? end : buffer);
  }
}

void append_labels(std::string& out, std::initializer_list<MetricLabel> first,
                   const std::vector<std::pair<std::string, std::string>>& rest) {
  if (first.size() == 0 && rest.empty()) return;
  out += '{';
  bool comma = false;
  auto one = [&](std::string_view name, std::string_view value) {
    if (comma) out += ',';
    comma = true;
    out += name;
    out += "=\"";
    append_escaped(out, value, true);
    out += '"';
  };
  for (const MetricLabel& label : first) one(label.name, label.value);
  for (const auto& [name, value] : rest) one(name, value);
  out += '}';
}

}  // namespace

void MetricsWriter::counter(std::string_view name, std::string_view help, double value,
                            std::initializer_list<MetricLabel> labels) {
  add(MetricKind::kCounter, name, help, value, labels);
}

void MetricsWriter::gauge(std::string_view name, std::string_view help, double value,
                          std::initializer_list<MetricLabel> labels) {
  add(MetricKind::kGauge, name, help, value, labels);
}

void MetricsWriter::add(MetricKind kind, std::string_view name, std::string_view help, double value,
                        std::initializer_list<MetricLabel> labels) {
  bool valid =
      valid_metric_name(name) && (kind != MetricKind::kCounter || name.ends_with("_total"));
  for (const MetricLabel& label : labels) valid = valid && valid_label_name(label.name);
  auto it = families_.find(name);
  if (!valid || (it != families_.end() && it->second.kind != kind)) {
    ++rejected_;
    return;
  }
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{kind, std::string(help), {}}).first;
  }
  Sample sample{{}, value};
  sample.labels.reserve(labels.size());
  for (const MetricLabel& label : labels) sample.labels.emplace_back(label.name, label.value);
  it->second.samples.push_back(std::move(sample));
}

std::string MetricsWriter::prometheus(std::initializer_list<MetricLabel> const_labels) const {
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP ";
    out += name;
    out += ' ';
    append_escaped(out, family.help, false);
    out += "\n# TYPE ";
    out += name;
    out += family.kind == MetricKind::kCounter ? " counter\n" : " gauge\n";
    for (const Sample& sample : family.samples) {
      out += name;
      append_labels(out, const_labels, sample.labels);
      out += ' ';
      append_value(out, sample.value);
      out += '\n';
    }
  }
  return out;
}

std::optional<double> MetricsWriter::value(std::string_view name,
                                           std::initializer_list<MetricLabel> labels) const {
  auto it = families_.find(name);
  if (it == families_.end()) return std::nullopt;
  for (const Sample& sample : it->second.samples) {
    bool match = std::all_of(labels.begin(), labels.end(), [&](const MetricLabel& want) {
      return std::any_of(sample.labels.begin(), sample.labels.end(), [&](const auto& have) {
        return have.first == want.name && have.second == want.value;
      });
    });
    if (match) return sample.value;
  }
  return std::nullopt;
}

MetricsRegistry::Registration& MetricsRegistry::Registration::operator=(
    Registration&& other) noexcept {
  if (this != &other) {
    reset();
    registry_ = std::exchange(other.registry_, nullptr);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void MetricsRegistry::Registration::reset() {
  if (registry_ != nullptr) registry_->remove(id_);
  registry_ = nullptr;
  id_ = 0;
}

MetricsRegistry::Registration MetricsRegistry::add(Collector collector) {
  detail::MutexLock lock(mu_);
  uint64_t id = next_id_++;
  collectors_.emplace_back(id, std::move(collector));
  return Registration(this, id);
}

void MetricsRegistry::remove(uint64_t id) {
  detail::MutexLock lock(mu_);
  std::erase_if(collectors_, [id](const auto& entry) { return entry.first == id; });
}

void MetricsRegistry::collect(MetricsWriter& writer) const {
  detail::MutexLock lock(mu_);
  for (const auto& [id, collector] : collectors_) collector(writer);
}

}  // namespace plexus
