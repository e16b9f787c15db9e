// HubProcessTest: plexus-node daemons on 127.0.0.1 hosting hub "demo",
// driven with plexusctl as an operator would (ctl()), and the checks of
// what they run once quiet. Shared by hub_process_test.cpp (faults) and
// hub_dashboard_test.cpp (the dashboard, in a real browser).
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <map>
#include <set>

#include "ctl_support.h"
#include "node_process_support.h"

namespace plexus_test {

class HubProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kNodeBinary || !kCtlBinary) GTEST_SKIP() << "built without the daemon";
    for (const char* base : {"a", "b", "c"}) start(base);
    ASSERT_TRUE(settled(3));
  }
  void TearDown() override {
    if (HasFailure()) {
      for (auto& [name, d] : daemons_) {
        if (d) std::cerr << "--- " << name << ":\n" << d->log();
      }
    }
  }
  void start(const std::string& base, const std::string& name = "") {
    Daemon::Options o;
    o.name = name.empty() ? base + "@127.0.0.1:0" : name;
    for (auto& [n, d] : daemons_) {
      if (d) o.seeds.push_back(d->name());
    }
    o.http = true;  // the dashboard's test reads it; the others do not mind
    o.tick_timeout = tick_timeout_;
    o.extra_args = {"--hub",
                    "demo",
                    "--hub-sync-ms",
                    "300",
                    "--hub-discover-ms",
                    "300",
                    "--hub-view-debounce-ms",
                    "50",
                    "--hub-partition-cut-ms",
                    "1000",
                    "--log-level",
                    "warning"};
    o.extra_args.insert(o.extra_args.end(), hub_args_.begin(), hub_args_.end());
    if (!store_root_.empty())
      o.extra_args.insert(o.extra_args.end(), {"--hub-store", store_root_ + "/" + base});
    auto d = Daemon::start(o);
    std::string key = base;
    daemons_[key] = std::move(d);
  }
  Daemon& d(const std::string& base) { return *daemons_.at(base); }
  std::vector<std::string> live() {
    std::vector<std::string> out;
    for (auto& [n, d] : daemons_) {
      if (d) out.push_back(n);
    }
    return out;
  }
  // Every live daemon's hub has a view of `members` and is not locked.
  bool settled(size_t members, std::chrono::milliseconds timeout = kWait) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      bool all = true;
      for (const std::string& n : live()) {
        if (!hub_settled_on(d(n).name(), "demo", members)) {
          all = false;
          break;
        }
      }
      if (all) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(50ms);
    }
  }
  // Waits until every live daemon lists exactly `ids`, each on `copies_`
  // nodes, and the daemons' --local lists cover them that often: "" or why not.
  std::string converged(const std::set<std::string>& ids,
                        std::chrono::milliseconds timeout = kWait) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string why;
    for (;;) {
      why = check(ids);
      if (why.empty() || std::chrono::steady_clock::now() > deadline) return why;
      std::this_thread::sleep_for(100ms);
    }
  }
  std::string check(const std::set<std::string>& ids) {
    std::map<std::string, std::string> reference;  // id -> its line
    std::map<std::string, int> running;            // id -> local copies
    for (const std::string& n : live()) {
      Ctl all = ctl(d(n).name(), {"hub", "demo", "list"});
      if (all.code != 0) return n + ": list failed: " + all.err;
      std::map<std::string, std::string> mine;
      for (const std::string& l : all.lines) mine[field(l, "id")] = l;
      if (reference.empty()) reference = mine;
      if (mine != reference)
        return n + "'s registry differs (" + std::to_string(mine.size()) + " vs " +
               std::to_string(reference.size()) + ")";
      // --local lists the processes n's supervisor runs: each must be the
      // copy n's registry names on n, pid and all.
      for (const std::string& l : ctl(d(n).name(), {"hub", "demo", "list", "--local"}).lines) {
        const std::string id = field(l, "id");
        ++running[id];
        auto named = mine.find(id);
        if (named == mine.end()) return n + " runs " + id + ", which its registry does not name";
        if (named->second.find(copy_of(l)) == std::string::npos) {
          return n + " runs " + id + " as " + copy_of(l) + ", its registry says " + named->second;
        }
      }
    }
    for (const std::string& id : ids) {
      if (!reference.count(id)) return id + " is missing";
      if (running[id] != copies_) return id + " runs " + std::to_string(running[id]) + " times";
    }
    if (reference.size() != ids.size()) {
      return "the registries have " + std::to_string(reference.size()) + " children, not " +
             std::to_string(ids.size());
    }
    return "";
  }

  // The ids of the children whose processes daemon `base` runs.
  std::vector<std::string> local(const std::string& base) {
    std::vector<std::string> out;
    for (const std::string& l : ctl(d(base).name(), {"hub", "demo", "list", "--local"}).lines) {
      out.push_back(field(l, "id"));
    }
    return out;
  }
  // The value counter child `id` answers through daemon `via`, or why not.
  std::string value_of(const std::string& via, const std::string& id) {
    Ctl get = ctl(d(via).name(), {"hub", "demo", "call", id, "get"});
    if (get.code != 0 || get.lines.empty()) return "no answer: " + get.err;
    return field(get.lines[0], "value");
  }
  // Raises counter child `id` `times` times through daemon `via`: false
  // (and a failure) if a call failed.
  bool raise(const std::string& via, const std::string& id, int times) {
    for (int i = 0; i < times; ++i) {
      Ctl incr = ctl(d(via).name(), {"hub", "demo", "call", id, "incr"});
      if (incr.code != 0) {
        ADD_FAILURE() << "incr " << id << " through " << via << ": " << incr.err;
        return false;
      }
    }
    return true;
  }
  // SIGTERM to daemon `base`, which must end with exit code 0 (its hubs
  // leave gracefully); false (and a failure) if it did not end.
  bool terminate(const std::string& base) {
    if (kill(d(base).process().pid(), SIGTERM) != 0) return false;
    std::optional<int> exited = d(base).process().wait(kWait);
    daemons_[base].reset();
    if (!exited) {
      ADD_FAILURE() << base << ": SIGTERM did not end the daemon";
      return false;
    }
    EXPECT_TRUE(WIFEXITED(*exited) && WEXITSTATUS(*exited) == 0) << base << ": " << *exited;
    return true;
  }

  // The one (node, pid) entry of a `list --local` line: {"node":..,"pid":..}.
  static std::string copy_of(const std::string& line) {
    size_t from = line.find("\"nodes\":[") + 9, to = line.find(']', from);
    return from < 9 || to == std::string::npos ? line : line.substr(from, to - from);
  }

  // Starts PREFIX0..PREFIX{n-1} through daemon a, and waits for every
  // daemon to hold them: their ids, or an empty set (a failure) if not.
  std::set<std::string> start_many(const std::string& prefix, int n) {
    Ctl many = ctl(d("a").name(),
                   {"hub", "demo", "start-many", prefix, std::to_string(n), "--type", "counter"});
    EXPECT_EQ(many.code, 0) << many.err;
    std::set<std::string> ids;
    for (int i = 0; i < n; ++i) ids.insert(prefix + std::to_string(i));
    std::string why = converged(ids);
    EXPECT_EQ(why, "");
    return many.code == 0 && why.empty() ? ids : std::set<std::string>{};
  }

  std::map<std::string, std::unique_ptr<Daemon>> daemons_;
  std::vector<std::string> hub_args_;  // more hub settings, before SetUp
  std::string store_root_;             // if set, each daemon's --hub-store: store_root_/<base>
  std::chrono::milliseconds tick_timeout_{1000};  // the daemons' --tick-ms
  int copies_ = 1;
};

// The same hub with two copies of each child, one active.

}  // namespace plexus_test
