// Migration: how a hub child moves from one member to another.
#pragma once

#include <string>
#include <string_view>

namespace plexus::strategies {

// Compared by name when members join, as every strategy. Pure: what a move
// does is the hub's (docs/hub.md, "Migration").
class Migration {
 public:
  virtual ~Migration() = default;
  virtual std::string_view name() const = 0;
  virtual std::string parameters() const { return ""; }
  // True if the old copy hands its state to the new one before it stops
  // (hot swap); false if it stops first and the new copy starts afresh.
  virtual bool hands_over() const = 0;
};

// The old copy stops, then the new one starts from its spec (ProcessHub's
// ColdSwap, the default). Messages sent meanwhile to the old pid are lost.
class ColdSwap final : public Migration {
 public:
  std::string_view name() const override { return "cold_swap"; }
  bool hands_over() const override { return false; }
};

// The new copy starts as a migration target, the old one hands its state
// over and forwards what reaches it after that, senders through the hub
// wait meanwhile, and then the old copy stops (ProcessHub's HotSwap with
// handover). The children must take part: plexus/hub/handover.h.
class HotSwap final : public Migration {
 public:
  std::string_view name() const override { return "hot_swap"; }
  bool hands_over() const override { return true; }
};

// "name(parameters)": what a member compares with its peers'.
std::string describe(const Migration& migration);

}  // namespace plexus::strategies
