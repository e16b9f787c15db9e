// ChildStore: a durable hub's children on one node, in RocksDB
// (HubConfig::store_path; docs/hub.md, "Durable children").
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "plexus/status.h"
#include "plexus/strategies/segments.h"
#include "registry.h"

namespace rocksdb {
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace plexus {
class Node;
}

namespace plexus::hub::detail {

// What the store holds, so that a full restart of the cluster brings every
// child back exactly once:
//   "r/<id>"  the newest record this node knows of a child it runs a copy
//             of, without pids (no pid of theirs lives after a restart); a
//             copy started here is written before its decider hears of it,
//             so a commit that moves a child off this node is never applied
//             anywhere before the node it moves to has it;
//             or the tombstone of such a child, until the hub purges it, so
//             that an older record of it kept elsewhere loses on restore;
//   "s/<id>"  the last state the child saved (Hub::save_state), kept with
//             its record and erased with it;
//   "format"  kFormat, so a store of another layout is refused by name.
//
// Only the hub server's thread calls it. Changes gather in a batch that
// write() applies atomically: to the operating system (it survives a kill
// -9 of the process, not a power loss), and with `sync` to disk as well.
class ChildStore {
 public:
  struct Options {
    std::string path;
    bool sync = false;
  };
  // What a store held when it was opened.
  struct Contents {
    std::vector<RecordPtr> records;                       // live ones and tombstones
    std::unordered_map<std::string, std::string> states;  // of live records, by id
  };

  // Opens the store at `options.path`, creating it if it is missing, and
  // reads it. One RocksDB cannot open (corrupt), or of another format, is
  // moved aside to "<path>.corrupt-<ms since the epoch>" and a new one made;
  // an entry that cannot be read is skipped. Each such finding is added to
  // `notes`, for the hub's log. kUnavailable (naming the path and RocksDB's
  // reason) if no store can be made there at all.
  static Result<std::unique_ptr<ChildStore>> open(const Options& options, Node& node,
                                                  const strategies::Segments& segments,
                                                  Contents* contents,
                                                  std::vector<std::string>* notes);
  ~ChildStore();
  ChildStore(const ChildStore&) = delete;
  ChildStore& operator=(const ChildStore&) = delete;

  const std::string& path() const { return options_.path; }
  // True if a record of `id` is kept here.
  bool holds(std::string_view id) const { return ids_.count(std::string(id)) != 0; }
  size_t size() const { return ids_.size(); }

  // Keeps `record` (without its pids) as the one of its id; a tombstone
  // erases the state too.
  void put(const ChildRecord& record, const Node& node);
  // Keeps `state` as the saved state of `id`: ignored unless a record of
  // `id` is kept.
  void put_state(std::string_view id, std::string_view state);
  // The state kept for `id` (as last written), or nullopt.
  std::optional<std::string> state_of(std::string_view id) const;
  // Forgets `id`: its record and its state.
  void erase(std::string_view id);
  // Applies what was put and erased since the last write: OK, or RocksDB's
  // error (the changes are dropped; the caller logs it and runs on).
  Status write();
  bool pending() const;

 private:
  ChildStore(Options options, std::unique_ptr<rocksdb::DB> db);
  static Status read(rocksdb::DB& db, Node& node, const strategies::Segments& segments,
                     Contents* contents, std::vector<std::string>* notes);

  const Options options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::unique_ptr<rocksdb::WriteBatch> batch_;
  std::unordered_set<std::string> ids_;  // the ids with a record kept
};

}  // namespace plexus::hub::detail
