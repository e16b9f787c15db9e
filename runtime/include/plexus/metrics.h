// Metrics: one registry per runtime that every layer on it (the transport,
// the zen monitor, the hubs) adds its figures to, read as one snapshot in the
// Prometheus text format.
//
// A layer does not push samples: it adds a collector, a function that writes
// its current figures into a MetricsWriter when someone asks (a scrape of
// /metrics, `plexusctl metrics`). So a figure costs nothing until it is read,
// and each layer keeps its counters where they are cheapest to keep.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plexus/detail/mutex.h"

namespace plexus {

enum class MetricKind { kCounter, kGauge };

// One label of a sample: peer="b@127.0.0.1:4001".
struct MetricLabel {
  std::string_view name;
  std::string_view value;
};

// The samples of one collection, grouped by metric name (a family). Not
// thread-safe: one collection writes it, on one thread.
class MetricsWriter {
 public:
  // A value that only grows (it restarts from 0 with the process). The name
  // must end in `_total`, as Prometheus expects of counters.
  void counter(std::string_view name, std::string_view help, double value,
               std::initializer_list<MetricLabel> labels = {});
  // A value at this moment.
  void gauge(std::string_view name, std::string_view help, double value,
             std::initializer_list<MetricLabel> labels = {});
  // The same from a counter kept as an atomic (read relaxed): how every
  // layer here keeps its counts.
  void counter(std::string_view name, std::string_view help, const std::atomic<uint64_t>& value,
               std::initializer_list<MetricLabel> labels = {}) {
    counter(name, help, static_cast<double>(value.load(std::memory_order_relaxed)), labels);
  }
  void gauge(std::string_view name, std::string_view help, const std::atomic<uint64_t>& value,
             std::initializer_list<MetricLabel> labels = {}) {
    gauge(name, help, static_cast<double>(value.load(std::memory_order_relaxed)), labels);
  }

  // The Prometheus text exposition format (0.0.4): each family's HELP and
  // TYPE lines, then its samples, families sorted by name, each sample with
  // `const_labels` first (a daemon passes node="name@host:port"). Label
  // values and help texts are escaped as the format says.
  std::string prometheus(std::initializer_list<MetricLabel> const_labels = {}) const;

  // A sample's value, for tests and plexusctl: the first sample of `name`
  // whose labels include every one of `labels`; nothing if there is none.
  std::optional<double> value(std::string_view name,
                              std::initializer_list<MetricLabel> labels = {}) const;

  // Samples written with a name that is not a valid metric name, a counter
  // without `_total`, or a kind other than the family's first: they are left
  // out, and counted here so that a test can catch the collector.
  size_t rejected() const { return rejected_; }

 private:
  struct Sample {
    std::vector<std::pair<std::string, std::string>> labels;
    double value;
  };
  struct Family {
    MetricKind kind;
    std::string help;
    std::vector<Sample> samples;
  };
  void add(MetricKind kind, std::string_view name, std::string_view help, double value,
           std::initializer_list<MetricLabel> labels);

  std::map<std::string, Family, std::less<>> families_;
  size_t rejected_ = 0;
};

// The collectors of one runtime. Thread-safe. A collector runs on the
// thread that collects, with the registry's lock held: it must be quick (it
// runs on a node's I/O thread when /metrics is served), and it must not add
// or remove collectors.
class MetricsRegistry {
 public:
  using Collector = std::function<void(MetricsWriter&)>;

  // Removes its collector when destroyed (or reset); an owner keeps one next
  // to the state its collector reads, so the collector never outlives it.
  class Registration {
   public:
    Registration() = default;
    Registration(Registration&& other) noexcept { *this = std::move(other); }
    Registration& operator=(Registration&& other) noexcept;
    ~Registration() { reset(); }
    // Waits for a collection in progress, then removes the collector.
    void reset();

   private:
    friend class MetricsRegistry;
    Registration(MetricsRegistry* registry, uint64_t id) : registry_(registry), id_(id) {}
    MetricsRegistry* registry_ = nullptr;
    uint64_t id_ = 0;
  };

  // Adds a collector until the returned registration goes. The registry
  // must outlive the registration.
  [[nodiscard]] Registration add(Collector collector);

  // Runs every collector, in the order they were added, into `writer`.
  void collect(MetricsWriter& writer) const;

 private:
  void remove(uint64_t id);

  mutable detail::Mutex mu_;
  uint64_t next_id_ PLEXUS_GUARDED_BY(mu_) = 1;
  std::vector<std::pair<uint64_t, Collector>> collectors_ PLEXUS_GUARDED_BY(mu_);
};

}  // namespace plexus
