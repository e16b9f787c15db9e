// chat-bots: simulated users of plexus-chat. Each bot takes a name, joins a
// room and posts numbered messages, one at a time, through one node's chat
// port; when its connection breaks it reconnects through another node and
// goes on. A watcher prints where each room's copies are whenever that
// changes. At the end every room's history is read back and checked: every
// acknowledged message is in it, once, at the index its "ok" gave.
//
//   chat-bots --nodes 127.0.0.1:7001,127.0.0.1:7002 [--users 24] [--rooms 6]
//             [--seconds 30] [--interval-ms 100] [--t0 UNIX-TIME]
//
// Its lines start with the seconds since --t0 (default: its start).
//
// Exit codes: 0 if no acknowledged message is missing or duplicated, 1 if
// one is, 2 for a bad command line.
#include <atomic>
#include <chrono>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "line_client.h"

namespace {

using plexus_chat::LineClient;

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The time the printed times count from (--t0), as a Unix time in seconds.
double t0 =
    std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
std::mutex print_mu;

// Prints one line with the time since t0.
void say(const std::string& line) {
  double t =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() -
      t0;
  std::lock_guard<std::mutex> lock(print_mu);
  std::cout << "[" << std::fixed << std::setprecision(1) << std::setw(5) << t << "s] " << line
            << std::endl;
}

struct Options {
  std::vector<std::string> nodes;
  int users = 24;
  int rooms = 6;
  int seconds = 30;
  int interval_ms = 100;
};

// What every bot found, for the summary.
struct Tally {
  std::mutex mu;
  // room -> text -> the index its "ok" gave.
  std::map<std::string, std::map<std::string, uint64_t>> acked;
  std::atomic<uint64_t> posted{0}, not_sent{0}, reconnects{0};
  // Why messages were not acknowledged: the answer -> how often.
  std::map<std::string, uint64_t> why_not;
  // The longest a message waited for its "ok", in ms (through a failover).
  std::atomic<int64_t> longest_wait_ms{0};
};

std::string room_of(int bot, const Options& o) { return "room" + std::to_string(bot % o.rooms); }

// Connects through node `first` or the next ones, takes `name` and joins
// `room`: false if no node let it in before `deadline`.
bool enter(LineClient& client, const Options& o, size_t first, const std::string& name,
           const std::string& room, Clock::time_point deadline) {
  for (size_t attempt = 0; Clock::now() < deadline; ++attempt) {
    const std::string& node = o.nodes[(first + attempt) % o.nodes.size()];
    if (!client.connect(node)) {
      std::this_thread::sleep_for(milliseconds(100));  // a pause before the next node
      continue;
    }
    client.send("/nick " + name);
    std::optional<std::string> nick = client.expect({"* you are", "! "}, milliseconds(10'000));
    if (!nick || !nick->starts_with("* you are")) {
      // Taken: the session still holds the connection that broke, until it
      // learns of it.
      std::this_thread::sleep_for(milliseconds(200));
      continue;
    }
    client.send("/join " + room);
    std::optional<std::string> joined = client.expect({"* joined", "! "}, milliseconds(10'000));
    if (joined && joined->starts_with("* joined")) return true;
  }
  return false;
}

void run_bot(int bot, const Options& o, Clock::time_point end, Tally& tally) {
  const std::string name = "bot" + std::to_string(bot);
  const std::string room = room_of(bot, o);
  LineClient client;
  size_t node = static_cast<size_t>(bot) % o.nodes.size();
  if (!enter(client, o, node, name, room, end)) {
    say(name + ": no node let it in");
    return;
  }
  for (uint64_t n = 1; Clock::now() < end; ++n) {
    std::string text = "m " + name + " " + std::to_string(n);
    ++tally.posted;
    std::optional<std::string> answer;
    Clock::time_point sent = Clock::now();
    // The answers to a post (a notice, "! lost room ...", is not one).
    if (client.send(text)) {
      answer = client.expect({"ok ", "! not sent", "! join", "! take"}, milliseconds(10'000));
    }
    if (answer && answer->starts_with("ok ")) {
      int64_t waited = std::chrono::duration_cast<milliseconds>(Clock::now() - sent).count();
      int64_t longest = tally.longest_wait_ms.load();
      while (waited > longest && !tally.longest_wait_ms.compare_exchange_weak(longest, waited)) {
      }
      std::istringstream in(answer->substr(3));
      std::string r;
      uint64_t index = 0;
      in >> r >> index;
      std::lock_guard<std::mutex> lock(tally.mu);
      tally.acked[room][text] = index;
    } else {
      ++tally.not_sent;
      {
        std::lock_guard<std::mutex> lock(tally.mu);
        ++tally.why_not[answer ? *answer : client.broken() ? "the connection broke" : "no answer"];
      }
      if (!answer) {
        // The answer may still come, and be taken for the next post's:
        // start again on a new connection.
        client.close();
      } else if (answer->starts_with("! join")) {
        client.send("/join " + room);  // the room was lost (see the notices)
        client.expect({"* joined", "! "}, milliseconds(10'000));
      }
    }
    if (client.broken()) {
      ++tally.reconnects;
      std::string lost = client.address();
      node = (node + 1) % o.nodes.size();
      if (!enter(client, o, node, name, room, end)) return;
      say(name + ": lost " + lost + ", back in " + room + " through " + client.address());
    }
    std::this_thread::sleep_for(milliseconds(o.interval_ms));  // the bot's pace
  }
}

// Prints where each room's copies are whenever that changes.
void watch_rooms(const Options& o, const std::atomic<bool>& done) {
  LineClient client;
  std::map<std::string, std::string> last;
  size_t node = 0;
  while (!done) {
    if (client.broken()) {
      node = (node + 1) % o.nodes.size();
      if (!client.connect(o.nodes[node])) {
        std::this_thread::sleep_for(milliseconds(100));  // then the next node
        continue;
      }
    }
    for (int r = 0; r < o.rooms && !client.broken(); ++r) {
      std::string room = "room" + std::to_string(r);
      client.send("/where " + room);
      std::optional<std::string> where = client.expect({"* "}, milliseconds(2000));
      // Nothing to say of a room no bot has made yet.
      if (!where || where->starts_with("* welcome") || where->starts_with("* no room")) continue;
      std::string now = where->substr(2);
      if (last[room] != now) say(now);
      last[room] = now;
    }
    std::this_thread::sleep_for(milliseconds(250));  // the watcher's pace
  }
}

// Reads every room's history back; counts what is missing or duplicated.
int check(const Options& o, Tally& tally) {
  LineClient client;
  if (!enter(client, o, 0, "checker", "room0", Clock::now() + milliseconds(30'000))) {
    say("check: no node let the checker in");
    return 1;
  }
  uint64_t missing = 0, duplicated = 0, moved = 0, acked_total = 0;
  for (int r = 0; r < o.rooms; ++r) {
    std::string room = "room" + std::to_string(r);
    if (r > 0) {
      client.send("/join " + room);
      if (!client.expect({"* joined"}, milliseconds(10'000))) {
        say("check: cannot join " + room);
        return 1;
      }
    }
    client.send("/history 100000000");
    std::optional<std::string> head = client.expect({"history ", "! "}, milliseconds(10'000));
    if (!head || !head->starts_with("history ")) {
      say("check: no history of " + room + ": " + head.value_or("no answer"));
      return 1;
    }
    std::map<std::string, std::vector<uint64_t>> found;  // text -> its indexes
    while (std::optional<std::string> line =
               client.read_line(Clock::now() + milliseconds(10'000))) {
      if (*line == "end") break;
      // "ROOM INDEX USER: TEXT"
      std::istringstream in(*line);
      std::string r_name, user;
      uint64_t index = 0;
      if (!(in >> r_name >> index >> user) || r_name != room) continue;
      std::string text;
      std::getline(in, text);
      found[text.substr(text.find_first_not_of(' '))].push_back(index);
    }
    std::lock_guard<std::mutex> lock(tally.mu);
    uint64_t room_missing = 0, room_duplicated = 0, room_moved = 0;
    for (const auto& [text, index] : tally.acked[room]) {
      auto it = found.find(text);
      if (it == found.end()) {
        ++room_missing;
      } else if (it->second.size() > 1) {
        ++room_duplicated;
      } else if (it->second[0] != index) {
        ++room_moved;
      }
    }
    size_t in_history = 0;
    for (const auto& [text, indexes] : found) in_history += indexes.size();
    acked_total += tally.acked[room].size();
    missing += room_missing;
    duplicated += room_duplicated;
    moved += room_moved;
    say("check " + room + ": " + std::to_string(tally.acked[room].size()) + " acknowledged, " +
        std::to_string(in_history) + " in its history; missing " + std::to_string(room_missing) +
        ", duplicated " + std::to_string(room_duplicated) + ", at another index " +
        std::to_string(room_moved));
  }
  say("summary: " + std::to_string(tally.posted) + " posted, " + std::to_string(acked_total) +
      " acknowledged, " + std::to_string(tally.not_sent) + " not acknowledged, " +
      std::to_string(tally.reconnects) + " reconnects, the longest wait for an ok " +
      std::to_string(tally.longest_wait_ms) + " ms; acknowledged and lost: " +
      std::to_string(missing) + ", duplicated: " + std::to_string(duplicated) +
      ", at another index: " + std::to_string(moved));
  for (const auto& [why, count] : tally.why_not) {
    say("  not acknowledged " + std::to_string(count) + " times: " + why);
  }
  return missing == 0 && duplicated == 0 && moved == 0 ? 0 : 1;
}

std::optional<Options> parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return std::nullopt;
    std::string value = argv[++i];
    try {
      if (flag == "--nodes") {
        std::stringstream in(value);
        for (std::string node; std::getline(in, node, ',');) {
          // IPv4:port, as LineClient::connect takes it.
          size_t colon = node.rfind(':');
          if (colon == std::string::npos || colon + 1 == node.size() ||
              node.find_first_not_of("0123456789", colon + 1) != std::string::npos ||
              std::stoi(node.substr(colon + 1)) > 65535) {
            return std::nullopt;
          }
          o.nodes.push_back(node);
        }
      } else if (flag == "--users") {
        o.users = std::stoi(value);
      } else if (flag == "--rooms") {
        o.rooms = std::stoi(value);
      } else if (flag == "--seconds") {
        o.seconds = std::stoi(value);
      } else if (flag == "--interval-ms") {
        o.interval_ms = std::stoi(value);
      } else if (flag == "--t0") {
        t0 = std::stod(value);
      } else {
        return std::nullopt;
      }
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  if (o.nodes.empty() || o.users < 1 || o.rooms < 1 || o.seconds < 1 || o.interval_ms < 0) {
    return std::nullopt;
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<Options> options = parse(argc, argv);
  if (!options) {
    std::cerr << "Usage: chat-bots --nodes HOST:PORT[,HOST:PORT...] [--users N] [--rooms N]\n"
                 "                 [--seconds N] [--interval-ms N] [--t0 UNIX-TIME]\n";
    return 2;
  }
  const Options& o = *options;
  Tally tally;
  std::atomic<bool> done{false};
  Clock::time_point end = Clock::now() + std::chrono::seconds(o.seconds);
  say(std::to_string(o.users) + " bots in " + std::to_string(o.rooms) + " rooms for " +
      std::to_string(o.seconds) + " s, through " + std::to_string(o.nodes.size()) + " nodes");
  std::thread watcher(watch_rooms, std::cref(o), std::cref(done));
  std::vector<std::thread> bots;
  for (int b = 0; b < o.users; ++b)
    bots.emplace_back(run_bot, b, std::cref(o), end, std::ref(tally));
  for (Clock::time_point next = Clock::now(); next < end;) {
    next = std::min(next + std::chrono::seconds(5), end);
    std::this_thread::sleep_until(next);  // the progress report's pace
    uint64_t acked = 0;
    {
      std::lock_guard<std::mutex> lock(tally.mu);
      for (const auto& [room, texts] : tally.acked) acked += texts.size();
    }
    say("progress: " + std::to_string(tally.posted) + " posted, " + std::to_string(acked) +
        " acknowledged, " + std::to_string(tally.not_sent) + " not, " +
        std::to_string(tally.reconnects) + " reconnects");
  }
  for (std::thread& t : bots) t.join();
  done = true;
  watcher.join();
  return check(o, tally);
}
