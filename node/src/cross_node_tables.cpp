#include "cross_node_tables.h"

#include "plexus/spi/distribution.h"

namespace plexus::detail {

void CrossNodeTables::apply(TieEffect effect, Crossing crossing, Pid from, Pid to, Ref ref) {
  bool out = crossing == Crossing::kOut;
  // Links are kept as (local, remote); a monitor is in the table of the side
  // its watcher is on.
  std::pair<Pid, Pid> link = out ? std::pair{from, to} : std::pair{to, from};
  auto& watched_by_sender = out ? monitors_out : monitors_in;
  auto& watched_by_receiver = out ? monitors_in : monitors_out;
  switch (effect) {
    case TieEffect::kNone:
      break;
    case TieEffect::kLink:
      links.insert(link);
      break;
    case TieEffect::kUnlink:
      links.erase(link);
      break;
    case TieEffect::kWatch:
      watched_by_sender[ref] = {from, to};
      break;
    case TieEffect::kUnwatch:
      watched_by_sender.erase(ref);
      break;
    case TieEffect::kWatchEnded:
      watched_by_receiver.erase(ref);
      break;
  }
}

void fire(Runtime& rt, CrossNodeTables tables, const std::string& why) {
  ExitReason noconnection = ExitReason::noconnection();
  for (const auto& [local, remote] : tables.links) {
    spi::signal<Exit>(rt, local, EnvelopeKind::kLinkExit, remote, Ref{},
                      Exit{remote, noconnection});
  }
  for (const auto& [ref, pair] : tables.monitors_out) {
    const auto& [watcher, target] = pair;
    spi::signal<Down>(rt, watcher, EnvelopeKind::kDown, target, ref,
                      Down{ref, target, noconnection});
  }
  for (const auto& [ref, pair] : tables.monitors_in) {
    const auto& [watcher, target] = pair;
    spi::signal<NoPayload>(rt, target, EnvelopeKind::kDemonitor, watcher, ref);
  }
  for (const auto& [ref, spawn] : tables.spawns) {
    (void)rt.send(spawn.requester, SpawnReply{ref, Pid{}, Status(StatusCode::kUnavailable, why)});
  }
}

}  // namespace plexus::detail
