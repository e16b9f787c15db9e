// The dashboard of plexus-node's HTTP port, loaded in a real headless
// Chromium against three daemons: what it shows of the nodes, the hub's
// children and the events, before and after a kill -9.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "http_client.h"
#include "hub_process_fixture.h"

namespace {

using namespace plexus_test;

constexpr char kChromium[] = "/usr/bin/chromium";

// The page at `port` as the browser has it after its scripts ran: the DOM
// dumped by headless Chromium. Empty if Chromium failed.
std::string rendered_page(uint16_t port) {
  char profile[] = "/tmp/plexus-chromium-XXXXXX";
  if (!mkdtemp(profile)) return "";
  // Root in a container needs --no-sandbox; the virtual time budget lets
  // the page's fetch of /api/state finish before the dump.
  ChildProcess browser(
      {kChromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
       std::string("--user-data-dir=") + profile, "--virtual-time-budget=5000", "--dump-dom",
       "http://127.0.0.1:" + std::to_string(port) + "/"},
      environment_without("PLEXUS_COOKIE"));
  std::string page;
  while (std::optional<std::string> line = browser.read_line(60s)) page += *line + "\n";
  browser.wait(kWait);
  std::filesystem::remove_all(profile);
  return page;
}

// The text of every element of `cls` inside the element whose data-node is
// `node` (and, before it, the first such one).
std::string cell(const std::string& page, const std::string& node, const std::string& cls) {
  std::regex row("<tr data-node=\"" + std::regex_replace(node, std::regex(R"([.])"), R"(\.)") +
                 "\">(.*?)</tr>");
  std::smatch m;
  if (!std::regex_search(page, m, row)) return "(no row)";
  std::string inside = m[1];
  std::smatch c;
  if (!std::regex_search(inside, c, std::regex("class=\"" + cls + "\">([^<]*)<"))) return "";
  return c[1];
}

// The counts of the hub's bars, by node.
std::map<std::string, int> bars(const std::string& page) {
  std::map<std::string, int> out;
  std::regex bar(
      R"re(<div class="bar-row" data-node="([^"]+)">.*?<span class="bar-count">(\d+)</span>)re");
  for (auto it = std::sregex_iterator(page.begin(), page.end(), bar); it != std::sregex_iterator();
       ++it) {
    out[(*it)[1]] = std::stoi((*it)[2]);
  }
  return out;
}

// The nodes in /api/state's children-by-node of the hub (refreshed every
// second in the background), once it names `n` of them.
bool by_node_names(uint16_t port, size_t n) {
  return http_poll(port, "/api/state",
                   [&](const HttpReply& r) {
                     size_t at = r.body.find("\"by_node\":{");
                     if (at == std::string::npos) return false;
                     std::string counts = r.body.substr(at, r.body.find('}', at) - at);
                     return static_cast<size_t>(std::count(counts.begin(), counts.end(), '@')) == n;
                   })
      .has_value();
}

TEST_F(HubProcessTest, TheDashboardShowsTheNodesTheChildrenAndAFailover) {
  ASSERT_EQ(access(kChromium, X_OK), 0)
      << kChromium << " is missing: scripts/install-deps.sh installs Debian's chromium";
  std::set<std::string> ids = start_many("room", 300);
  ASSERT_EQ(converged(ids), "");
  const uint16_t port = d("a").http_port();
  ASSERT_NE(port, 0);

  ASSERT_TRUE(by_node_names(port, 3));
  std::string page = rendered_page(port);
  ASSERT_NE(page.find("data-loaded=\"yes\""), std::string::npos) << page;
  // It updates itself: in the 5 s of virtual time the browser gives it, it
  // fetched /api/state and redrew more than once, with no reload.
  std::smatch refreshed;
  ASSERT_TRUE(std::regex_search(page, refreshed, std::regex(R"re(data-refreshes="(\d+)")re")))
      << page;
  EXPECT_GE(std::stoi(refreshed[1]), 2) << "it redraws every 2 s";
  EXPECT_NE(page.find("<span class=\"children\">300</span>"), std::string::npos) << page;
  std::map<std::string, int> before = bars(page);
  ASSERT_EQ(before.size(), 3u) << page;
  for (const char* n : {"a", "b", "c"}) {
    EXPECT_EQ(cell(page, d(n).name(), "up state"), "up") << n << "\n" << page;
    // Each node runs its children and the processes of its own.
    EXPECT_GT(std::atoi(cell(page, d(n).name(), "processes").c_str()), before[d(n).name()]) << n;
  }
  int total = 0;
  for (const auto& [node, n] : before) total += n;
  EXPECT_EQ(total, 300);
  EXPECT_NE(page.find("joined"), std::string::npos) << "the hub's join event";

  const std::string lost = d("c").name();
  d("c").process().kill_and_wait();  // kill -9
  daemons_["c"].reset();
  ASSERT_TRUE(settled(2));
  ASSERT_EQ(converged(ids), "");
  ASSERT_TRUE(by_node_names(port, 2));
  page = rendered_page(port);
  EXPECT_EQ(cell(page, lost, "down state"), "down") << page;
  EXPECT_NE(page.find("<span class=\"children\">300</span>"), std::string::npos) << page;
  std::map<std::string, int> after = bars(page);
  EXPECT_EQ(after.size(), 2u) << page;
  EXPECT_EQ(after.count(lost), 0u);
  total = 0;
  for (const auto& [node, n] : after) total += n;
  EXPECT_EQ(total, 300);
  EXPECT_NE(page.find("node " + lost + " down"), std::string::npos) << page;
}

}  // namespace
