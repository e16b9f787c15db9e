// Helpers shared by the Plexus conformance tests: the runtime's names most
// tests use, the scheduler parameter, runtime options, a capturing log sink
// and waiting helpers.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <typeinfo>
#include <utility>
#include <vector>

#include "plexus/plexus.h"

namespace plexus {

// Readable gtest output for the enums the tests compare.
inline void PrintTo(StatusCode code, std::ostream* os) { *os << status_code_name(code); }

inline void PrintTo(ExitReason::Kind kind, std::ostream* os) {
  switch (kind) {
    case ExitReason::Kind::kNormal:
      *os << "kNormal";
      return;
    case ExitReason::Kind::kKill:
      *os << "kKill";
      return;
    case ExitReason::Kind::kKilled:
      *os << "kKilled";
      return;
    case ExitReason::Kind::kShutdown:
      *os << "kShutdown";
      return;
    case ExitReason::Kind::kNoProc:
      *os << "kNoProc";
      return;
    case ExitReason::Kind::kNoConnection:
      *os << "kNoConnection";
      return;
    case ExitReason::Kind::kError:
      *os << "kError";
      return;
    case ExitReason::Kind::kException:
      *os << "kException";
      return;
  }
  *os << "Kind(?)";
}

}  // namespace plexus

namespace plexus_test {

using namespace std::chrono_literals;

// The runtime's vocabulary, so tests name it unqualified. Names only some
// tests use are declared in those tests.
using plexus::after;
using plexus::Context;
using plexus::Down;
using plexus::Exit;
using plexus::ExitReason;
using plexus::Inbox;
using plexus::LogLevel;
using plexus::Message;
using plexus::Pid;
using plexus::Ref;
using plexus::Runtime;
using plexus::StatusCode;
using plexus::Task;

#if defined(__has_feature)
#define PLEXUS_TEST_HAS_FEATURE(x) __has_feature(x)
#else
#define PLEXUS_TEST_HAS_FEATURE(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || \
    PLEXUS_TEST_HAS_FEATURE(address_sanitizer) || PLEXUS_TEST_HAS_FEATURE(thread_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

// How long to wait for something that must happen (generous: a failure shows
// up as a timeout, a pass never waits this long).
inline constexpr std::chrono::milliseconds kWait = kSanitized ? 60s : 20s;
// How long to watch for something that must not happen. In deterministic mode
// this is virtual time: everything runnable runs before it elapses.
inline constexpr std::chrono::milliseconds kQuiet = 100ms;

// Which scheduler a parameterized test runs on.
enum class Sched { kDeterministic, kThreaded };

inline void PrintTo(Sched sched, std::ostream* os) {
  *os << (sched == Sched::kDeterministic ? "deterministic" : "threaded");
}

inline std::string sched_name(const ::testing::TestParamInfo<Sched>& info) {
  return info.param == Sched::kDeterministic ? "Deterministic" : "Threaded";
}

// A thread-safe log sink that keeps every line, so tests can assert on what
// the runtime logged (and the test output stays clean).
class LogCapture {
 public:
  struct Line {
    plexus::LogLevel level;
    std::string node;  // the logging node's name ("" for a bare runtime)
    std::string text;
  };

  LogCapture() = default;
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // The sink must not outlive this object: destroy the Runtime first.
  plexus::LogSink sink() {
    return [this](const plexus::LogRecord& record) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.push_back(Line{record.level, std::string(record.node), std::string(record.text)});
      cv_.notify_all();
    };
  }

  // A line of the test's own, among the runtime's (a simulation's trace).
  void note(plexus::LogLevel level, std::string text) {
    sink()(plexus::LogRecord{std::chrono::system_clock::now(), level, "", text});
  }

  std::vector<Line> lines() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

  // Lines at `level` or above that contain every one of `parts`.
  size_t count(plexus::LogLevel level, const std::vector<std::string>& parts) const {
    std::lock_guard<std::mutex> lock(mu_);
    return count_locked(level, parts);
  }

  // Waits until a line at `level` or above contains every one of `parts`.
  bool wait_for(plexus::LogLevel level, const std::vector<std::string>& parts,
                std::chrono::milliseconds timeout = kWait) const {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return count_locked(level, parts) > 0; });
  }

  std::string dump() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out;
    for (const Line& line : lines_) {
      out += plexus::log_level_name(line.level);
      if (!line.node.empty()) out += " " + line.node;
      out += ": ";
      out += line.text;
      out += '\n';
    }
    return out;
  }

 private:
  size_t count_locked(plexus::LogLevel level, const std::vector<std::string>& parts) const {
    size_t n = 0;
    for (const Line& line : lines_) {
      if (line.level < level) continue;
      bool all = true;
      for (const std::string& part : parts) {
        if (line.text.find(part) == std::string::npos) {
          all = false;
          break;
        }
      }
      if (all) ++n;
    }
    return n;
  }

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<Line> lines_;
};

// Options for a test runtime on scheduler `sched`. With `logs`, every line at
// info or above goes to it; without, logging is off.
inline plexus::RuntimeOptions runtime_options(Sched sched, LogCapture* logs = nullptr) {
  plexus::RuntimeOptions options;
  options.deterministic = sched == Sched::kDeterministic;
  options.schedulers = options.deterministic ? 1 : 2;
  if (logs != nullptr) {
    options.log_sink = logs->sink();
    options.log_level = plexus::LogLevel::kInfo;
  } else {
    options.log_sink = [](const plexus::LogRecord&) {};
    options.log_level = plexus::LogLevel::kNone;
  }
  return options;
}

// Fixture for tests that run on both schedulers: one runtime per test, with
// its log captured.
class SchedTest : public ::testing::TestWithParam<Sched> {
 protected:
  SchedTest() : rt_(runtime_options(GetParam(), &logs_)) {}

  plexus::Runtime& rt() { return rt_; }
  bool deterministic() const { return GetParam() == Sched::kDeterministic; }

  // Whether `elapsed_ms` of runtime time is right for a wait of `wait_ms`:
  // exactly that in deterministic mode, where virtual time jumps to the
  // deadline; at least that on threads, where a wakeup may be late but never
  // early.
  ::testing::AssertionResult matches_wait(int64_t elapsed_ms, int64_t wait_ms) const {
    if (deterministic() ? elapsed_ms == wait_ms : elapsed_ms >= wait_ms) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << elapsed_ms << " ms elapsed for a wait of " << wait_ms << " ms; expected "
           << (deterministic() ? "exactly" : "at least") << " that";
  }

  LogCapture logs_;  // declared first: outlives the runtime that logs to it
  plexus::Runtime rt_;
};

#define PLEXUS_INSTANTIATE_SCHEDULERS(suite)                                                    \
  INSTANTIATE_TEST_SUITE_P(                                                                     \
      Sched, suite,                                                                             \
      ::testing::Values(::plexus_test::Sched::kDeterministic, ::plexus_test::Sched::kThreaded), \
      ::plexus_test::sched_name)

// The next message of type T, or an exception (which fails the test) if none
// arrives within `timeout`.
template <class T>
T must_receive(plexus::Inbox& inbox, std::chrono::milliseconds timeout = kWait) {
  std::optional<T> value = inbox.receive<T>(timeout);
  if (!value) {
    throw std::runtime_error(std::string("timed out waiting for a message of type ") +
                             typeid(T).name());
  }
  return std::move(*value);
}

// The Down of monitor `ref`, leaving other messages queued.
inline plexus::Down must_receive_down(plexus::Inbox& inbox, plexus::Ref ref,
                                      std::chrono::milliseconds timeout = kWait) {
  std::optional<plexus::Down> got;
  inbox.receive(plexus::match([ref](const plexus::Down& d) { return d.ref == ref; },
                              [&](plexus::Down& d) { got = std::move(d); }),
                plexus::after(timeout, [] {}));
  if (!got) throw std::runtime_error("timed out waiting for the Down of " + ref.to_string());
  return std::move(*got);
}

// The Down of the (only) monitor on `pid`, leaving other messages queued.
inline plexus::Down must_receive_down_of(plexus::Inbox& inbox, plexus::Pid pid,
                                         std::chrono::milliseconds timeout = kWait) {
  std::optional<plexus::Down> got;
  inbox.receive(plexus::match([pid](const plexus::Down& d) { return d.pid == pid; },
                              [&](plexus::Down& d) { got = std::move(d); }),
                plexus::after(timeout, [] {}));
  if (!got) throw std::runtime_error("timed out waiting for the Down of " + pid.to_string());
  return std::move(*got);
}

// True if no message of type T arrives within `window`.
template <class T>
bool nothing_of_type(plexus::Inbox& inbox, std::chrono::milliseconds window = kQuiet) {
  return !inbox.receive<T>(window).has_value();
}

// Moves everything already sent to the inbox into its mailbox (a receive that
// matches nothing and does not wait), so message_queue_len() counts it.
inline void drain(plexus::Inbox& inbox) {
  struct NeverSent {};
  inbox.receive([](NeverSent&) {}, plexus::after(0ms, [] {}));
}

// Waits until `pred` holds. Deterministic runtimes are stepped until it holds
// or nothing is runnable; threaded ones are polled until `timeout`. For state
// with no message to wait on (process_count() settling after the last Down).
inline bool eventually(plexus::Runtime& rt, const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = kWait) {
  if (rt.options().deterministic) {
    while (!pred()) {
      if (!rt.step()) return pred();
    }
    return true;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// Runs `script(self)` (a Task<R> (Context)) in a fresh process and returns
// what it co_returns, for APIs that are awaited from process bodies. Empty if
// the process did not report within `timeout`.
template <class R, class F>
std::optional<R> run_in_process(plexus::Runtime& rt, plexus::Inbox& inbox, F script,
                                std::chrono::milliseconds timeout = kWait) {
  struct Outcome {
    R value;
  };
  plexus::Pid to = inbox.pid();
  rt.spawn([script = std::move(script), to](plexus::Context self) -> plexus::Task<> {
    R value = co_await script(self);
    self.send(to, Outcome{std::move(value)});
  });
  std::optional<Outcome> outcome = inbox.receive<Outcome>(timeout);
  if (!outcome) return std::nullopt;
  return std::optional<R>(std::move(outcome->value));
}

// Makes a call from a fresh process (Context::call) and returns its result.
template <class R, class Req>
plexus::Result<R> call_from_process(plexus::Runtime& rt, plexus::Inbox& inbox, plexus::Pid to,
                                    Req request,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto result = run_in_process<plexus::Result<R>>(
      rt, inbox,
      [to, request = std::move(request),
       timeout](plexus::Context self) -> plexus::Task<plexus::Result<R>> {
        co_return co_await self.call<R>(to, request, timeout);
      },
      timeout + kWait);
  if (!result) throw std::runtime_error("the calling process never reported");
  return std::move(*result);
}

}  // namespace plexus_test
