// The chat example (examples/chat) as its users meet it: three plexus-chat
// daemons on 127.0.0.1, people on TCP connections to their chat ports, and
// nodes killed with kill -9.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "ctl_support.h"
#include "line_client.h"
#include "node_process_support.h"

namespace plexus_test {
namespace {

using plexus_chat::LineClient;
using std::chrono::milliseconds;

constexpr milliseconds kAnswer{10'000};

// A person on one node's chat port.
class Person {
 public:
  explicit Person(const std::string& address) {
    EXPECT_TRUE(client_.connect(address)) << address;
    EXPECT_TRUE(next("* welcome").has_value());
  }
  // Sends `line` and returns the first line that starts with one of
  // `answers` (skipping deliveries and notices), or "" if none in time.
  std::string ask(const std::string& line, std::vector<std::string> answers) {
    client_.send(line);
    return client_.expect(answers, kAnswer).value_or("");
  }
  std::optional<std::string> next(const std::string& prefix, milliseconds timeout = kAnswer) {
    return client_.expect({prefix}, timeout);
  }
  void enter(const std::string& name, const std::string& room) {
    ASSERT_EQ(ask("/nick " + name, {"* you are", "! "}), "* you are " + name);
    ASSERT_TRUE(ask("/join " + room, {"* joined", "! "}).starts_with("* joined " + room));
  }
  // Posts until it is acknowledged (a room catching up says "! not sent"):
  // the index.
  uint64_t post(const std::string& text) {
    const auto deadline = LineClient::Clock::now() + std::chrono::seconds(20);
    while (LineClient::Clock::now() < deadline) {
      std::string answer = ask(text, {"ok ", "! "});
      if (answer.starts_with("ok ")) return std::stoull(answer.substr(answer.rfind(' ') + 1));
      if (client_.broken()) break;
    }
    ADD_FAILURE() << "'" << text << "' was never acknowledged";
    return 0;
  }
  // The room's whole history: index -> "user: text".
  std::map<uint64_t, std::string> history() {
    std::map<uint64_t, std::string> out;
    std::string head = ask("/history 1000000", {"history ", "! "});
    EXPECT_TRUE(head.starts_with("history ")) << head;
    while (std::optional<std::string> line =
               client_.read_line(LineClient::Clock::now() + kAnswer)) {
      if (*line == "end") break;
      // "ROOM INDEX USER: TEXT"
      size_t first = line->find(' '), second = line->find(' ', first + 1);
      out[std::stoull(line->substr(first + 1, second - first - 1))] = line->substr(second + 1);
    }
    return out;
  }
  // The nodes of the room's copies, the active one first.
  std::vector<std::string> where(const std::string& room) {
    std::string answer = ask("/where " + room, {"* " + room + ":", "* no room"});
    std::vector<std::string> nodes;
    for (size_t at = answer.find(" on "); at != std::string::npos;
         at = answer.find(" on ", at + 1)) {
      size_t end = answer.find(',', at);
      nodes.push_back(answer.substr(at + 4, end == std::string::npos ? end : end - at - 4));
    }
    return nodes;
  }
  LineClient& client() { return client_; }

 private:
  LineClient client_;
};

class ChatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* base : {"a", "b", "c"}) start(std::string(base) + "@127.0.0.1:0");
    ASSERT_TRUE(settled());
  }
  void TearDown() override {
    if (HasFailure()) {
      for (auto& [name, d] : daemons_) std::cerr << "--- " << name << ":\n" << d->log();
    }
  }
  // Starts a node; a name with port 0 gets its port. Its chat port is in
  // chat_[name].
  std::string start(const std::string& name) {
    Daemon::Options o;
    o.name = name;
    o.binary = PLEXUS_CHAT_BINARY;
    o.more_ready_lines = 1;  // CHAT <address>:<port>
    o.extra_args = {"--chat-port", "0"};
    for (auto& [n, d] : daemons_) o.seeds.push_back(n);
    auto daemon = Daemon::start(o);
    std::string chat = daemon->ready_lines().at(0);
    EXPECT_TRUE(chat.starts_with("CHAT ")) << chat;
    std::string real = daemon->name();
    chat_[real] = chat.substr(5);
    daemons_[real] = std::move(daemon);
    return real;
  }
  void kill9(const std::string& name) {
    daemons_.at(name)->process().kill_and_wait();
    daemons_.erase(name);
  }
  // Waits until both chat hubs of every node list every node, unlocked.
  bool settled() {
    return eventually([&] {
      for (auto& [name, d] : daemons_) {
        for (const char* hub : {"chat_rooms", "chat_sessions"}) {
          if (!hub_settled_on(name, hub, daemons_.size())) return false;
        }
      }
      return true;
    });
  }
  // A node of the cluster that is not in `not_these`.
  std::string other_than(const std::set<std::string>& not_these) const {
    for (auto& [name, d] : daemons_) {
      if (!not_these.count(name)) return name;
    }
    return "";
  }
  // Waits until `pred()` holds; false after `timeout`.
  template <class Pred>
  bool eventually(Pred pred, milliseconds timeout = milliseconds(20'000)) {
    const auto deadline = LineClient::Clock::now() + timeout;
    while (!pred()) {
      if (LineClient::Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(milliseconds(50));  // the condition's polling pace
    }
    return true;
  }

  std::map<std::string, std::unique_ptr<Daemon>> daemons_;
  std::map<std::string, std::string> chat_;  // node name -> its chat port's address
};

TEST_F(ChatTest, PeopleOnTwoNodesTalkInARoom) {
  auto it = daemons_.begin();
  Person alice(chat_[it->first]);
  Person bob(chat_[(++it)->first]);
  alice.enter("alice", "lobby");
  bob.enter("bob", "lobby");
  EXPECT_EQ(alice.ask("hello bob", {"ok ", "! "}), "ok lobby 1");
  EXPECT_EQ(bob.next("lobby ").value_or(""), "lobby 1 alice: hello bob");
  EXPECT_EQ(bob.ask("/who", {"* in", "! "}), "* in lobby: alice, bob");
  // Bob's gateway tells his session the room in a message of its own, which
  // may reach it after alice's question (order holds per pair of processes).
  std::string whois;
  EXPECT_TRUE(eventually([&] {
    whois = alice.ask("/whois bob", {"* bob", "! "});
    return whois.starts_with("* bob is online on " + it->first + " in lobby");
  })) << whois;
  EXPECT_EQ(alice.ask("/whois carol", {"* ", "! "}), "* nobody is called carol");
  EXPECT_EQ(alice.history(), (std::map<uint64_t, std::string>{{1, "alice: hello bob"}}));
  // Two copies of the room, on two nodes.
  std::vector<std::string> copies = alice.where("lobby");
  ASSERT_EQ(copies.size(), 2u);
  EXPECT_NE(copies[0], copies[1]);
}

TEST_F(ChatTest, ANameIsTakenUntilItsConnectionEnds) {
  auto it = daemons_.begin();
  auto first = std::make_unique<Person>(chat_[it->first]);
  Person second(chat_[(++it)->first]);
  ASSERT_EQ(first->ask("/nick alice", {"* you are", "! "}), "* you are alice");
  EXPECT_EQ(second.ask("/nick alice", {"* you are", "! "}), "! the name alice is taken");
  first.reset();  // the connection closes; the session sees its gateway end
  EXPECT_TRUE(eventually([&] {
    return second.ask("/nick alice", {"* you are", "! "}) == "* you are alice";
  }));
  std::string whois = second.ask("/whois alice", {"* alice", "! "});
  EXPECT_TRUE(whois.starts_with("* alice is online on " + it->first)) << whois;
}

TEST_F(ChatTest, BadInputGetsAClearAnswerAndTheNodeServesOn) {
  const std::string& address = chat_.begin()->second;
  Person p(address);
  EXPECT_EQ(p.ask("hello", {"! "}), "! take a name first: /nick NAME");
  EXPECT_EQ(p.ask("/join lobby", {"! "}), "! take a name first: /nick NAME");
  EXPECT_EQ(p.ask("/nick bad name!", {"! "}),
            "! a name is 1 to 32 letters, digits, '_', '.' or '-'");
  EXPECT_EQ(p.ask("/nick " + std::string(33, 'x'), {"! "}),
            "! a name is 1 to 32 letters, digits, '_', '.' or '-'");
  EXPECT_EQ(p.ask("/frobnicate", {"! "}), "! unknown command /frobnicate; /help lists them");
  ASSERT_EQ(p.ask("/nick dora", {"* you are", "! "}), "* you are dora");
  EXPECT_EQ(p.ask("hello", {"! "}), "! join a room first: /join ROOM");
  EXPECT_EQ(p.ask("/join a/b", {"! "}),
            "! a room's name is 1 to 32 letters, digits, '_', '.' or '-'");
  ASSERT_TRUE(p.ask("/join lobby", {"* joined", "! "}).starts_with("* joined lobby"));
  EXPECT_EQ(p.ask("/history many", {"! "}), "! /history takes a number");
  // A line longer than 4096 bytes ends the connection, with a word.
  EXPECT_EQ(p.ask(std::string(5000, 'x'), {"! "}), "! a line longer than 4096 bytes; bye");
  EXPECT_FALSE(p.client().read_line(LineClient::Clock::now() + kAnswer).has_value());
  EXPECT_TRUE(p.client().broken());
  // The node goes on: the room and the name are there for a new connection.
  Person again(address);
  EXPECT_EQ(again.ask("/nick dora", {"* you are", "! "}), "* you are dora");
  EXPECT_TRUE(again.ask("/join lobby", {"* joined", "! "}).starts_with("* joined lobby"));
  EXPECT_EQ(again.ask("/quit", {"* bye"}), "* bye");
  EXPECT_FALSE(again.client().read_line(LineClient::Clock::now() + kAnswer).has_value());
}

// The room's promise: an acknowledged message is on both copies. Kill the
// active copy's node: the passive copy has every message. Bring the node
// back (it takes a copy again, which catches up from the other) and kill
// the other copy's node: the new copy has every message too.
TEST_F(ChatTest, AcknowledgedMessagesOutliveTheNodesOfTheirCopies) {
  std::map<uint64_t, std::string> acked;
  auto post_some = [&](Person& p, const std::string& who, int from, int count) {
    for (int i = from; i < from + count; ++i) {
      std::string text = "message " + std::to_string(i);
      uint64_t index = p.post(text);
      ASSERT_NE(index, 0u);
      ASSERT_FALSE(acked.count(index)) << "index " << index << " acknowledged twice";
      acked[index] = who + ": " + text;
    }
  };
  Person first(chat_.begin()->second);
  first.enter("ann", "r");
  std::vector<std::string> copies = first.where("r");
  ASSERT_EQ(copies.size(), 2u);
  post_some(first, "ann", 0, 50);

  // kill -9 the active copy's node; someone on a node that survives posts on.
  const std::string active = copies[0];
  const std::string talker_node = other_than({active});
  Person talker(chat_[talker_node]);
  talker.enter("ben", "r");
  kill9(active);
  post_some(talker, "ben", 50, 20);
  EXPECT_EQ(talker.history(), acked);

  // The killed node comes back under its name: the room's placement gives it
  // a copy again, whose log comes from the other copy.
  start(active);
  ASSERT_TRUE(settled());
  ASSERT_TRUE(eventually([&] {
    std::vector<std::string> now = talker.where("r");
    return now.size() == 2 && (now[0] == active || now[1] == active);
  })) << "no copy of r on "
      << active;
  post_some(talker, "ben", 70, 10);

  // Kill the other copy's node: the copy on `active` is the one left, and
  // it holds every acknowledged message, the 50 from before it was killed
  // too. (Read from `active`: the talker's node may be the one killed.)
  Person last(chat_[active]);
  last.enter("cat", "r");
  std::vector<std::string> now = last.where("r");
  ASSERT_EQ(now.size(), 2u);
  kill9(now[0] == active ? now[1] : now[0]);
  EXPECT_TRUE(eventually([&] { return last.history() == acked; }));
  post_some(last, "cat", 80, 5);
  EXPECT_EQ(last.history(), acked);
}

// The demo of the README's first command, as a new user runs it (without
// its install and build steps, which CI has done): it ends by itself, says
// no acknowledged message was lost, and stops every process it started.
TEST(ChatDemoTest, TheDemoTellsTheWholeStoryAndCleansUp) {
  ChildProcess demo(
      {"/bin/bash", PLEXUS_SOURCE_DIR "/scripts/demo.sh", "--no-build"},
      environment_without("PLEXUS_DEMO_BIN_DIR", {"PLEXUS_DEMO_BIN_DIR=" PLEXUS_EXAMPLES_BIN_DIR}));
  std::vector<std::string> lines;
  while (std::optional<std::string> line = demo.read_line(std::chrono::seconds(120))) {
    lines.push_back(*line);
  }
  std::optional<int> status = demo.wait(std::chrono::seconds(30));
  std::string all;
  for (const std::string& l : lines) all += l + "\n";
  ASSERT_TRUE(status.has_value()) << all;
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << describe_wait_status(*status) << "\n"
      << all << demo.output();
  EXPECT_NE(all.find("kill -9 chat3@"), std::string::npos) << all;
  EXPECT_NE(all.find("acknowledged and lost: 0, duplicated: 0"), std::string::npos) << all;
  EXPECT_NE(all.find("every acknowledged message is in its room's history"), std::string::npos);
  EXPECT_NE(all.find("./scripts/demo.sh --keep"), std::string::npos) << all;
  EXPECT_NE(all.find("restarting chat3@"), std::string::npos) << all;
  EXPECT_NE(all.find("sessions by node at the end: "), std::string::npos) << all;
  // The story itself (no build here) in under two minutes, as the issue of
  // the demo asks.
  size_t took = all.find("the story took ");
  ASSERT_NE(took, std::string::npos) << all;
  EXPECT_LT(std::stod(all.substr(took + 15)), 120.0) << all;
  // Nothing it started runs on (its nodes read their cookie from its
  // directory; its bots and its log reader name that directory too).
  for (const char* started : {"plexus-chat .*--cookie-file /tmp/plexus-demo\\.", "chat-bots .*--t0",
                              "tail .*/tmp/plexus-demo\\..*/bots.log"}) {
    ChildProcess pgrep({"/usr/bin/pgrep", "-f", started}, environment_without(""));
    std::optional<int> found = pgrep.wait(std::chrono::seconds(10));
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(WEXITSTATUS(*found), 1) << "processes of the demo still run (" << started << "):\n"
                                      << pgrep.read_line(std::chrono::seconds(1)).value_or("");
  }
}

}  // namespace
}  // namespace plexus_test
