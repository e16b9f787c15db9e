#include "child_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <chrono>
#include <filesystem>
#include <system_error>

#include "plexus/hub.pb.h"
#include "record_codec.h"

namespace plexus::hub::detail {

namespace {

// The layout of the keys below; a store of another one is set aside.
constexpr std::string_view kFormatKey = "format";
constexpr std::string_view kFormat = "plexus.hub.store.1";
constexpr std::string_view kRecordPrefix = "r/";
constexpr std::string_view kStatePrefix = "s/";

std::string key(std::string_view prefix, std::string_view id) {
  std::string k;
  k.reserve(prefix.size() + id.size());
  k.append(prefix).append(id);
  return k;
}

bool starts_with(const rocksdb::Slice& s, std::string_view prefix) {
  return s.size() >= prefix.size() && std::string_view(s.data(), prefix.size()) == prefix;
}

std::string_view rest(const rocksdb::Slice& s, std::string_view prefix) {
  return std::string_view(s.data() + prefix.size(), s.size() - prefix.size());
}

rocksdb::Options db_options() {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = true;
  // A hub's store is small and written in batches from one thread.
  options.max_background_jobs = 1;
  options.keep_log_file_num = 2;
  // No periodic statistics thread: nothing reads them (the hub's own
  // metrics say what the store holds), and it is a thread less per hub.
  options.stats_dump_period_sec = 0;
  options.stats_persist_period_sec = 0;
  return options;
}

Status unavailable(const std::string& path, const std::string& why) {
  return Status(StatusCode::kUnavailable, "hub store " + path + ": " + why);
}

// Moves a store that cannot be used out of the way, keeping it for whoever
// wants to look at it: the name it got, or an error.
Result<std::string> set_aside(const std::string& path) {
  int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  std::string aside = path + ".corrupt-" + std::to_string(ms);
  std::error_code ec;
  std::filesystem::rename(path, aside, ec);
  if (ec) return unavailable(path, "cannot move it aside to " + aside + ": " + ec.message());
  return aside;
}

}  // namespace

ChildStore::ChildStore(Options options, std::unique_ptr<rocksdb::DB> db)
    : options_(std::move(options)),
      db_(std::move(db)),
      batch_(std::make_unique<rocksdb::WriteBatch>()) {}

ChildStore::~ChildStore() = default;

Result<std::unique_ptr<ChildStore>> ChildStore::open(const Options& options, Node& node,
                                                     const strategies::Segments& segments,
                                                     Contents* contents,
                                                     std::vector<std::string>* notes) {
  const std::string& path = options.path;
  std::error_code ec;
  bool existed = std::filesystem::exists(path, ec);
  if (!existed) {
    // As mkdir -p: RocksDB makes the last directory only.
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return unavailable(path, "cannot make its directory: " + ec.message());
  }
  // Two tries: the store as it is, then (if it could not be used) a new one
  // in its place.
  for (int attempt = 0; attempt < 2; ++attempt) {
    rocksdb::DB* raw = nullptr;
    rocksdb::Status opened = rocksdb::DB::Open(db_options(), path, &raw);
    std::unique_ptr<rocksdb::DB> db(raw);
    Status problem;
    if (!opened.ok()) {
      if (!opened.IsCorruption() && !opened.IsInvalidArgument() && !opened.IsNotSupported()) {
        return unavailable(path, opened.ToString());
      }
      problem = unavailable(path, opened.ToString());
    } else {
      *contents = Contents{};
      problem = read(*db, node, segments, contents, notes);
    }
    if (problem.ok()) {
      if (!existed && attempt == 0) {
        notes->push_back("hub store " + path + ": none there; a new one was made");
      }
      auto store = std::unique_ptr<ChildStore>(new ChildStore(options, std::move(db)));
      for (const RecordPtr& r : contents->records) store->ids_.insert(r->id);
      store->batch_->Put(rocksdb::Slice(kFormatKey.data(), kFormatKey.size()),
                         rocksdb::Slice(kFormat.data(), kFormat.size()));
      if (Status w = store->write(); !w.ok()) return w;
      return store;
    }
    db.reset();
    if (attempt == 1) return problem;
    Result<std::string> aside = set_aside(path);
    if (!aside.ok()) return aside.status();
    notes->push_back(problem.message() + "; it was moved aside to " + *aside +
                     " and a new store made: the children it held are not restored");
    *contents = Contents{};
    existed = false;
  }
  return unavailable(path, "cannot be opened");
}

Status ChildStore::read(rocksdb::DB& db, Node& node, const strategies::Segments& segments,
                        Contents* contents, std::vector<std::string>* notes) {
  const std::string& path = db.GetName();
  std::string format;
  rocksdb::Status got =
      db.Get(rocksdb::ReadOptions(), rocksdb::Slice(kFormatKey.data(), kFormatKey.size()), &format);
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions()));
  it->SeekToFirst();
  bool empty = !it->Valid();
  if (got.IsNotFound() && !empty) {
    return unavailable(path, "not a hub store (no \"format\" key)");
  }
  if (!got.ok() && !got.IsNotFound()) return unavailable(path, got.ToString());
  if (got.ok() && format != kFormat) {
    return unavailable(path, "format \"" + format + "\", not \"" + std::string(kFormat) + "\"");
  }
  std::unordered_map<std::string, std::string> states;
  size_t skipped = 0;
  for (; it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key();
    if (starts_with(k, kStatePrefix)) {
      states.emplace(std::string(rest(k, kStatePrefix)), it->value().ToString());
    } else if (starts_with(k, kRecordPrefix)) {
      ChildRecordProto proto;
      Result<RecordPtr> record = Status(StatusCode::kInvalidArgument, "not a record");
      if (proto.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        record = decode(proto, node, segments);
      }
      if (!record.ok() || (*record)->id != rest(k, kRecordPrefix)) {
        ++skipped;
        if (skipped <= 3) {
          notes->push_back(
              "hub store " + path + ": entry " + k.ToString() + " cannot be read (" +
              (record.ok() ? std::string("its id differs") : record.status().message()) +
              "): skipped");
        }
        continue;
      }
      contents->records.push_back(*record);
    }
  }
  if (!it->status().ok()) return unavailable(path, it->status().ToString());
  if (skipped > 3) {
    notes->push_back("hub store " + path + ": " + std::to_string(skipped) +
                     " entries in all cannot be read: skipped");
  }
  for (const RecordPtr& r : contents->records) {
    if (r->tombstone) continue;
    if (auto s = states.find(r->id); s != states.end()) {
      contents->states.emplace(r->id, std::move(s->second));
    }
  }
  return Status::OK();
}

void ChildStore::put(const ChildRecord& record, const Node& node) {
  ChildRecordProto proto;
  encode(record, node, &proto);
  proto.clear_pids();  // none of them lives after a restart
  std::string k = key(kRecordPrefix, record.id);
  batch_->Put(k, proto.SerializeAsString());
  if (record.tombstone) batch_->Delete(key(kStatePrefix, record.id));
  ids_.insert(record.id);
}

void ChildStore::put_state(std::string_view id, std::string_view state) {
  if (!holds(id)) return;
  batch_->Put(key(kStatePrefix, id), rocksdb::Slice(state.data(), state.size()));
}

std::optional<std::string> ChildStore::state_of(std::string_view id) const {
  std::string state;
  if (!holds(id) || !db_->Get(rocksdb::ReadOptions(), key(kStatePrefix, id), &state).ok()) {
    return std::nullopt;
  }
  return state;
}

void ChildStore::erase(std::string_view id) {
  batch_->Delete(key(kRecordPrefix, id));
  batch_->Delete(key(kStatePrefix, id));
  ids_.erase(std::string(id));
}

bool ChildStore::pending() const { return batch_->Count() > 0; }

Status ChildStore::write() {
  if (!pending()) return Status::OK();
  rocksdb::WriteOptions options;
  options.sync = options_.sync;
  rocksdb::Status written = db_->Write(options, batch_.get());
  batch_->Clear();
  if (!written.ok()) return unavailable(options_.path, written.ToString());
  return Status::OK();
}

}  // namespace plexus::hub::detail
