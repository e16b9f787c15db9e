// HubCluster: nodes of a loopback network, each running a hub, and the checks
// of the hub's guarantees (docs/hub.md) after the cluster has settled.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "node_test_support.h"
#include "plexus/hub/handover.h"
#include "plexus/hub/hub.h"
#include "plexus/hub/redundancy_signal.h"
#include "plexus/hub/saved_state.h"
#include "plexus/node/loopback.h"
#include "plexus/strategies/rendezvous.h"

namespace plexus_test {

using plexus::LoopbackNetwork;
namespace hub = plexus::hub;

// Where each hub child's process runs, as the children themselves report it:
// the ground truth the registries are checked against.
struct Running {
  std::map<std::string, std::vector<std::pair<std::string, Pid>>> by_id;
  // The last RedundancySignal each copy got: (id, node) -> mode.
  std::map<std::pair<std::string, std::string>, plexus::strategies::Redundancy::Mode> modes;

  // Numbered messages (Counter) each child took, by sender: the last number
  // (kept through a hot swap, as the child's state), and every number that
  // did not follow the last one: below it (out of order), the same again
  // (repeated), or past the next (a gap: `missing` up to `next` - 1 never
  // came).
  struct Gap {
    std::string id;
    std::string sender;
    int64_t missing;
    int64_t next;
  };
  std::map<std::string, std::map<std::string, int64_t>> seen;
  std::vector<std::string> out_of_order;
  std::vector<std::string> repeated;
  std::vector<Gap> gaps;
  // Hot swaps whose state reached the new copy.
  size_t handed_over = 0;
  // Copies of a durable hub's children that came back with a saved state,
  // the state each child last saved, and each save_state that failed.
  size_t restored = 0;
  std::map<std::string, std::string> saved;
  std::vector<std::string> save_errors;
  // How many processes of one child may run at once (a quorum strategy
  // with one copy and cold swaps: one), and each time more did.
  size_t max_copies = SIZE_MAX;
  std::vector<std::string> overlaps;

  // The last number child `id` took from its first sender (0: none).
  int64_t last_taken(const std::string& id) const {
    auto it = seen.find(id);
    return it == seen.end() || it->second.empty() ? 0 : it->second.begin()->second;
  }
  // The last number child `id` took from `sender` (sender_key; 0: none).
  int64_t last_taken(const std::string& id, const std::string& sender) const {
    auto it = seen.find(id);
    if (it == seen.end()) return 0;
    auto last = it->second.find(sender);
    return last == it->second.end() ? 0 : last->second;
  }
  size_t copies(const std::string& id) const {
    auto it = by_id.find(id);
    return it == by_id.end() ? 0 : it->second.size();
  }
};

// Removes its child from Running when the child's process ends.
struct RunningGuard {
  Running* running;
  std::string id;
  std::pair<std::string, Pid> where;
  ~RunningGuard() {
    running->modes.erase({id, where.first});
    auto& list = running->by_id[id];
    std::erase(list, where);
    if (list.empty()) running->by_id.erase(id);
  }
};

// How a child names the sender of numbered messages: its pid, as the
// message carries it.
inline std::string sender_key(const plexus::PidProto& pid) {
  return pid.node() + "/" + std::to_string(pid.index()) + "." + std::to_string(pid.serial());
}

// A worker's state, as it hands it over: "sender=last;..." for each sender
// of numbered messages.
inline std::string encode_seen(const std::map<std::string, int64_t>& seen) {
  std::string out;
  for (const auto& [sender, last] : seen) out += sender + "=" + std::to_string(last) + ";";
  return out;
}
inline std::map<std::string, int64_t> decode_seen(const std::string& text) {
  std::map<std::string, int64_t> out;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ';')) {
    size_t eq = item.rfind('=');
    if (eq != std::string::npos) out[item.substr(0, eq)] = std::stoll(item.substr(eq + 1));
  }
  return out;
}

// The worker every node registers as "worker": it reports itself (and the
// modes it is told) in Running, answers a call of a Text with its node's
// name, and ends normally on Text "stop" and with an error on "crash". It
// checks that the numbered messages (Counter) of each sender come in order
// with none missing. With a hot-swap hub (`hot_swap`) it takes part in its
// moves (plexus/hub/handover.h), its numbers being its state, unless its id
// starts with "stubborn": that one never answers a HandoverRequest. In a
// durable hub (`durable_hub`, its id) it saves that state after each number
// (plexus/hub/saved_state.h) and takes it back when it is restored.
inline Task<> worker(Context self, plexus_test::SpawnArgs args, Running* running,
                     bool hot_swap = false, std::string durable_hub = "") {
  Node* node = Node::of(self);
  const std::string id = args.label();
  RunningGuard guard{running, id, {node->name(), self.self()}};
  running->by_id[id].push_back(guard.where);
  if (running->by_id[id].size() > running->max_copies) {
    running->overlaps.push_back(id + " runs " + std::to_string(running->by_id[id].size()) +
                                " times at once (the last on " + node->name() + ")");
  }
  std::map<std::string, int64_t> seen;
  if (hot_swap || !durable_hub.empty()) {
    std::optional<std::string> state = co_await hub::begin_child(self);
    if (state) {
      seen = decode_seen(*state);
      if (hot_swap) {
        ++running->handed_over;
      } else {
        ++running->restored;
        running->seen[id] = seen;
      }
    }
  }
  for (;;) {
    std::string text;
    std::optional<hub::HandoverRequest> handover;
    bool counted = false;
    co_await self.receive([&](plexus_test::Text& t) { text = t.text(); },
                          [&](plexus_test::Counter& c) {
                            counted = true;
                            std::string sender = sender_key(c.reply_to());
                            int64_t& last = seen[sender];
                            std::string what = id + ": " + sender + " " + std::to_string(c.seq()) +
                                               " after " + std::to_string(last);
                            if (c.seq() < last) running->out_of_order.push_back(what);
                            if (c.seq() == last) running->repeated.push_back(what);
                            if (c.seq() > last + 1)
                              running->gaps.push_back({id, sender, last + 1, c.seq()});
                            last = std::max(last, c.seq());
                            running->seen[id][sender] = last;
                          },
                          [&](hub::HandoverRequest& r) { handover = std::move(r); },
                          [&](hub::RedundancySignal& s) {
                            running->modes[{id, node->name()}] = s.mode;
                          },
                          [&](plexus::Call<plexus_test::Text>& c) {
                            plexus_test::Text name;
                            name.set_text(node->name());
                            (void)self.reply(c.from, name);
                          });
    if (counted && !durable_hub.empty()) {
      plexus::Status saved = co_await hub::save_state(self, durable_hub, id, encode_seen(seen));
      if (saved.ok()) {
        running->saved[id] = encode_seen(seen);
      } else {
        running->save_errors.push_back(id + ": " + saved.to_string());
      }
    }
    if (handover && !id.starts_with("stubborn")) {
      if (co_await hub::hand_over(self, std::move(*handover), encode_seen(seen))) co_return;
    }
    if (text == "stop") co_return;
    if (text == "crash") throw std::runtime_error("crash");
  }
}

// A hub config for virtual time: quick syncs, views and discovery.
inline hub::HubConfig fast_config(std::string hub_id) {
  hub::HubConfig c;
  c.hub_id = std::move(hub_id);
  c.sync_interval = 300ms;
  c.view_debounce = 30ms;
  c.partition_cut_delay = 1000ms;
  c.hubs_discover_interval = 200ms;
  c.storage_purge_interval = 1000ms;
  return c;
}

inline hub::ChildSpec worker_spec(const std::string& id,
                                  plexus::Restart restart = plexus::Restart::kPermanent) {
  plexus_test::SpawnArgs args;
  args.set_label(id);
  hub::ChildSpec spec;
  spec.id = id;
  spec.type = "worker";
  spec.init_args = args.SerializeAsString();
  spec.restart = restart;
  return spec;
}

inline std::vector<hub::ChildSpec> worker_specs(const std::string& prefix, int count) {
  std::vector<hub::ChildSpec> out;
  for (int i = 0; i < count; ++i) out.push_back(worker_spec(prefix + std::to_string(i)));
  return out;
}

// A process on one node that sends numbered messages (Counter) to each of
// `ids` through the hub, one round after another, until told to stop; a
// send the hub holds back (kResourceExhausted) is sent again next round, so
// each child's numbers go out in order with none skipped.
struct Sender {
  explicit Sender(std::vector<std::string> to) : ids(std::move(to)) {}
  std::vector<std::string> ids;
  std::map<std::string, int64_t> sent;  // the last number each child was sent
  std::map<plexus::StatusCode, int> refused;
  // With a network to read the time of, when each number went:
  // sent_at[id][n - 1] for number n (virtual ms).
  LoopbackNetwork* clock = nullptr;
  std::map<std::string, std::vector<int64_t>> sent_at;
  bool stop = false;
  bool stopped = false;
  int rounds = 0;
  std::string key;  // how the children name this sender (sender_key), once it runs

  Task<> run(Context self, hub::Hub& hub) {
    Counter c;
    Node::of(self)->to_proto(self.self(), c.mutable_reply_to());
    key = sender_key(c.reply_to());
    while (!stop) {
      for (const std::string& id : ids) {
        c.set_seq(sent[id] + 1);
        plexus::Status s = hub.send(self, id, c);
        if (s.ok()) {
          ++sent[id];
          if (clock) sent_at[id].push_back(clock->now_ms());
        } else {
          ++refused[s.code()];
        }
      }
      ++rounds;
      co_await self.receive(plexus::after(2ms, [] {}));
    }
    stopped = true;
  }
};

class HubCluster {
 public:
  explicit HubCluster(hub::HubConfig config, LogCapture* logs = nullptr,
                      plexus::LogLevel level = plexus::LogLevel::kInfo)
      : config_(std::move(config)), logs_(logs), level_(level) {}
  ~HubCluster() {
    for (auto& m : members_) m.hub.reset();
    members_.clear();
  }

  LoopbackNetwork& net() { return net_; }
  Running& running() { return running_; }
  size_t size() const { return members_.size(); }
  Node& node(size_t i) { return *members_.at(i).node; }
  hub::Hub& hub(size_t i) { return *members_.at(i).hub; }
  bool up(size_t i) const { return members_.at(i).node && members_.at(i).hub; }

  // Starts node `base` (seeded with every other member) and its hub.
  size_t add(const std::string& base, hub::HubConfig* config = nullptr) {
    members_.emplace_back();
    start_member(members_.size() - 1, base + "@loop:0", config);
    return members_.size() - 1;
  }

  // The frame limit and the tick timeout of the nodes started from now on
  // (NodeOptions).
  void set_max_frame_size(size_t bytes) { max_frame_size_ = bytes; }
  void set_tick_timeout(std::chrono::milliseconds t) { tick_timeout_ = t; }

  // Starts member `i` again after a crash: the same name, a new creation,
  // the same config.
  void restart(size_t i) { start_member(i, members_.at(i).name, nullptr); }

 private:
  void start_member(size_t i, const std::string& name, hub::HubConfig* config) {
    NodeOptions o;
    o.name = name;
    o.cookie = kCookie;
    o.loopback = &net_;
    if (max_frame_size_ != 0) o.max_frame_size = max_frame_size_;
    if (tick_timeout_.count() != 0) o.tick_timeout = tick_timeout_;
    o.runtime = runtime_options(Sched::kDeterministic, logs_);
    if (logs_) o.runtime.log_level = level_;
    // Every other member is a seed (a crashed one is retried until it is
    // back), as a deployment lists several.
    for (size_t j = 0; j < members_.size(); ++j) {
      if (j != i && !members_[j].name.empty()) o.seeds.push_back(members_[j].name);
    }
    Member& m = members_.at(i);
    if (config) m.config = *config;
    const hub::HubConfig& cfg = m.config ? *m.config : config_;
    m.node = start_node(o);
    m.name = m.node->name();
    Running* running = &running_;
    bool hot_swap = cfg.migration->hands_over();
    std::string durable = cfg.store_path.empty() ? "" : cfg.hub_id;
    plexus::Status registered = m.node->register_process<plexus_test::SpawnArgs>(
        "worker", [running, hot_swap, durable](Context self, plexus_test::SpawnArgs args) {
          return worker(self, std::move(args), running, hot_swap, durable);
        });
    if (!registered.ok()) throw std::runtime_error(registered.to_string());
    auto started = hub::Hub::start(*m.node, cfg);
    if (!started.ok()) throw std::runtime_error(started.status().to_string());
    m.hub = std::move(*started);
  }

 public:
  // Kills member `i` as kill -9 would: no goodbye, its children die with it.
  void crash(size_t i) {
    members_.at(i).hub.reset();
    members_.at(i).node.reset();
  }

  // Metric `name` of this hub, summed over the live members.
  double metric_sum(std::string_view name) {
    double total = 0;
    for (size_t i : live()) {
      plexus::MetricsWriter w;
      node(i).runtime().metrics().collect(w);
      total += w.value(name, {{"hub", config_.hub_id}}).value_or(0);
    }
    return total;
  }

  std::vector<size_t> live() const {
    std::vector<size_t> out;
    for (size_t i = 0; i < members_.size(); ++i) {
      if (up(i) && members_[i].hub->is_alive()) out.push_back(i);
    }
    return out;
  }

  // True once every live member has the same view, naming exactly the live
  // members, and none is locked.
  bool views_settled() {
    std::vector<size_t> ids = live();
    std::vector<std::string> names;
    for (size_t i : ids) names.push_back(node(i).name());
    std::sort(names.begin(), names.end());
    for (size_t i : ids) {
      if (hub(i).is_locked() || hub(i).nodes(true) != names ||
          hub(i).view_number() != hub(ids.front()).view_number()) {
        return false;
      }
    }
    return true;
  }

  // Each live member's view, locked or not: "a@loop:1 #7 [a@loop:1 b@loop:2] locked; ...".
  std::string views() {
    std::ostringstream out;
    for (size_t i : live()) {
      out << node(i).name() << " #" << hub(i).view_number() << " [";
      for (const std::string& n : hub(i).nodes(true)) out << " " << n;
      out << " ]" << (hub(i).is_locked() ? " locked" : "") << "; ";
    }
    return out.str();
  }

  // Runs until the views settle and `check()` holds, or `timeout` of virtual
  // time passes; returns check()'s last answer ("" when it holds).
  std::string settle(std::chrono::milliseconds timeout = 60s) {
    std::string why;
    net_.run_until(
        [&] {
          if (!views_settled()) {
            why = "the views did not settle: " + views();
            return false;
          }
          why = check();
          return why.empty();
        },
        timeout);
    return why;
  }

  // A pid as "node/index.serial", the same whichever node names it.
  std::string canonical(Node& on, Pid pid) {
    plexus::PidProto p;
    on.to_proto(pid, &p);
    return p.node() + "/" + std::to_string(p.index()) + "." + std::to_string(p.serial());
  }

  // Each live member's registry as id -> canonical pids.
  std::map<std::string, std::vector<std::string>> registry_of(size_t i) {
    std::map<std::string, std::vector<std::string>> out;
    for (const hub::ChildInfo& c : hub(i).registry_dump()) {
      auto& pids = out[c.id];
      for (const hub::NodePid& np : c.nodes) pids.push_back(canonical(node(i), np.pid));
    }
    return out;
  }

  // The hub's guarantees (issue "The hub", 1 to 3), "" when they hold:
  // every child in the registries runs min(replicas, members) times, on the
  // members the distribution names, in its order; nothing runs that the registries do not name;
  // every live member's registry is the same and names only live pids; every id in `expected`
  // (acknowledged and not stopped) is there.
  std::string check(const std::set<std::string>* expected = nullptr) {
    std::ostringstream why;
    std::vector<size_t> ids = live();
    if (ids.empty()) return "";
    auto reference = registry_of(ids.front());
    for (size_t i : ids) {
      auto mine = registry_of(i);
      if (mine != reference) {
        why << node(i).name() << "'s registry differs from " << node(ids.front()).name() << "'s ("
            << mine.size() << " vs " << reference.size() << " children";
        for (const auto& [id, pids] : mine) {
          auto theirs = reference.find(id);
          if (theirs != reference.end() && theirs->second == pids) continue;
          why << "; first at " << id << ":";
          for (const std::string& p : pids) why << " " << p;
          why << " vs";
          if (theirs != reference.end()) {
            for (const std::string& p : theirs->second) why << " " << p;
          }
          break;
        }
        why << ")";
        return why.str();
      }
    }
    plexus::strategies::View view(0, view_members());
    size_t want = std::min<size_t>(
        static_cast<size_t>(std::max(1, config_.redundancy->replication_factor(view))),
        view.size());
    for (const auto& [id, pids] : reference) {
      auto it = running_.by_id.find(id);
      size_t copies = it == running_.by_id.end() ? 0 : it->second.size();
      if (copies != want || pids.size() != want) {
        why << id << " runs " << copies << " times, the registry names " << pids.size()
            << ", the redundancy wants " << want;
        return why.str();
      }
      std::set<std::string> runs_as;
      for (const auto& [on, pid] : it->second) runs_as.insert(canonical(*node_named(on), pid));
      std::set<std::string> named_as(pids.begin(), pids.end());
      if (runs_as != named_as) {
        why << id << " runs as " << *runs_as.begin() << (want > 1 ? ", ..." : "")
            << ", the registry names " << pids.front() << (want > 1 ? ", ..." : "");
        return why.str();
      }
      if (config_.redundancy->signal() == plexus::strategies::Redundancy::Signal::kAll) {
        for (size_t k = 0; k < pids.size(); ++k) {
          std::string named = pids[k].substr(0, pids[k].find('/'));
          auto told = running_.modes.find({id, named});
          if (told == running_.modes.end() || told->second != config_.redundancy->mode(k)) {
            why << id << "'s copy " << k << " on " << named << " was not told its mode";
            return why.str();
          }
        }
      }
      if (config_.distribution->records_placement()) continue;
      std::vector<std::string> placed = placement(id, view, static_cast<int>(want));
      for (size_t k = 0; k < placed.size() && k < pids.size(); ++k) {
        std::string named = pids[k].substr(0, pids[k].find('/'));
        if (placed[k] != named) {
          why << id << "'s copy " << k << " runs on " << named << ", the strategy names "
              << placed[k];
          return why.str();
        }
      }
    }
    for (const auto& [id, where] : running_.by_id) {
      if (!reference.count(id)) {
        why << id << " runs " << where.size() << " times and no registry names it";
        return why.str();
      }
    }
    if (expected) {
      for (const std::string& id : *expected) {
        if (!reference.count(id)) {
          why << id << " was acknowledged and never stopped, and is gone";
          return why.str();
        }
      }
    }
    return "";
  }

 private:
  struct Member {
    std::string name;
    std::optional<hub::HubConfig> config;  // its own, if add() was given one
    std::unique_ptr<Node> node;
    std::unique_ptr<hub::Hub> hub;
  };

  Node* node_named(const std::string& name) {
    for (auto& m : members_) {
      if (m.node && m.node->name() == name) return m.node.get();
    }
    return nullptr;
  }
  std::vector<plexus::strategies::Member> view_members() {
    std::vector<plexus::strategies::Member> out;
    for (size_t i : live()) out.push_back({node(i).name(), node(i).creation()});
    return out;
  }
  std::vector<std::string> placement(const std::string& id, const plexus::strategies::View& view,
                                     int replicas = 1) {
    plexus::strategies::PlacementInput in;
    in.child_id = id;
    in.replicas = replicas;
    in.segment = plexus::strategies::Segments::make(config_.segments)->of(id);
    in.view = &view;
    return config_.distribution->place(in);
  }

  hub::HubConfig config_;
  LogCapture* logs_;
  plexus::LogLevel level_;
  Running running_;
  size_t max_frame_size_ = 0;                  // 0: NodeOptions' default
  std::chrono::milliseconds tick_timeout_{0};  // 0: NodeOptions' default
  LoopbackNetwork net_;                        // after what logs into it, before the nodes
  std::vector<Member> members_;
};

// The first number any child took out of order, again, or past a gap; ""
// when each took each sender's numbers one after the other.
inline std::string disorder(const Running& r) {
  if (!r.out_of_order.empty()) return "out of order: " + r.out_of_order[0];
  if (!r.repeated.empty()) return "repeated: " + r.repeated[0];
  if (!r.gaps.empty()) {
    const Running::Gap& g = r.gaps[0];
    return "lost: " + g.id + ": " + g.sender + " " + std::to_string(g.missing) + " to " +
           std::to_string(g.next - 1);
  }
  return "";
}

// Every child took every number the sender sent it, in order.
inline std::string complete(HubCluster& c, const Sender& sender) {
  if (std::string why = disorder(c.running()); !why.empty()) return why;
  for (const auto& [id, last] : sender.sent) {
    int64_t got = c.running().last_taken(id);
    if (got != last) {
      return id + " took " + std::to_string(got) + " of " + std::to_string(last) + " messages";
    }
  }
  return "";
}

}  // namespace plexus_test
