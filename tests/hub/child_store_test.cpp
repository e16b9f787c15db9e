// The durable hub's store (hub/src/child_store.h) on a real RocksDB: what it
// keeps comes back after it is closed, a missing store is made, and a
// corrupt one, one of another format or an unreadable entry is reported and
// set aside while the hub still gets a store.
#include "child_store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <fstream>

#include "node_test_support.h"
#include "plexus/node/node.h"

namespace plexus_test {
namespace {

using plexus::hub::ChildRecord;
using plexus::hub::ChildSpec;
using plexus::hub::detail::ChildStore;
using plexus::hub::detail::RecordPtr;
using plexus::strategies::Segments;

const Segments kSegments = *Segments::make();

class ChildStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("plexus_child_store_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "store").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<ChildStore> open(ChildStore::Contents* contents,
                                   std::vector<std::string>* notes) {
    auto store = ChildStore::open({path_, false}, *node_, kSegments, contents, notes);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // A store of its own that holds `r` alone, closed again.
  void seed(const ChildRecord& r) {
    ChildStore::Contents contents;
    std::vector<std::string> notes;
    auto store = open(&contents, &notes);
    ASSERT_NE(store, nullptr);
    store->put(r, *node_);
    ASSERT_TRUE(store->write().ok());
  }

  // Writes `key` = `value` into the database at path_ with RocksDB alone.
  void put_raw(const std::string& key, const std::string& value) {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, path_, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, value).ok());
  }

  static ChildRecord record(const std::string& id, uint64_t epoch, bool tombstone = false) {
    ChildRecord r;
    r.id = id;
    r.epoch = epoch;
    r.stamp = 7;
    r.segment = kSegments.of(id);
    r.tombstone = tombstone;
    if (!tombstone) {
      auto spec = std::make_shared<ChildSpec>();
      spec->id = id;
      spec->type = "worker";
      spec->init_args = "args-" + id;
      r.spec = spec;
      r.pids = plexus::hub::PidList{plexus::Pid{0, 5, 9}};
    }
    return r;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<plexus::Node> node_ = start_node("store_node");
};

std::map<std::string, RecordPtr> by_id(const ChildStore::Contents& contents) {
  std::map<std::string, RecordPtr> out;
  for (const RecordPtr& r : contents.records) out[r->id] = r;
  return out;
}

TEST_F(ChildStoreTest, WhatIsWrittenComesBackWithoutPidsAndAMissingStoreIsMade) {
  {
    ChildStore::Contents contents;
    std::vector<std::string> notes;
    auto store = open(&contents, &notes);
    ASSERT_NE(store, nullptr);
    EXPECT_TRUE(contents.records.empty());
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].find("none there"), std::string::npos) << notes[0];
    store->put(record("a", 10), *node_);
    store->put(record("b", 11), *node_);
    store->put(record("c", 12), *node_);
    store->put_state("a", "state of a");
    store->put_state("zz", "no record: ignored");
    store->put(record("b", 13, /*tombstone=*/true), *node_);
    store->erase("c");
    EXPECT_TRUE(store->pending());
    ASSERT_TRUE(store->write().ok());
    EXPECT_FALSE(store->pending());
    EXPECT_TRUE(store->holds("a"));
    EXPECT_TRUE(store->holds("b"));
    EXPECT_FALSE(store->holds("c"));
  }
  ChildStore::Contents contents;
  std::vector<std::string> notes;
  auto store = open(&contents, &notes);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(notes.empty()) << notes[0];
  auto records = by_id(contents);
  ASSERT_EQ(records.size(), 2u);
  const RecordPtr& a = records.at("a");
  EXPECT_EQ(a->epoch, 10u);
  EXPECT_EQ(a->stamp, 7u);
  EXPECT_FALSE(a->tombstone);
  EXPECT_TRUE(a->pids.empty());
  ASSERT_NE(a->spec, nullptr);
  EXPECT_EQ(a->spec->init_args, "args-a");
  EXPECT_EQ(a->segment, kSegments.of("a"));
  EXPECT_TRUE(records.at("b")->tombstone);
  EXPECT_EQ(records.at("b")->epoch, 13u);
  ASSERT_EQ(contents.states.size(), 1u);
  EXPECT_EQ(contents.states.at("a"), "state of a");
  EXPECT_EQ(store->size(), 2u);
}

TEST_F(ChildStoreTest, ACorruptStoreIsSetAsideAndANewOneMade) {
  seed(record("a", 10));
  // RocksDB's pointer to its manifest, overwritten with garbage.
  {
    std::ofstream current(path_ + "/CURRENT", std::ios::trunc);
    current << "garbage";
  }
  ChildStore::Contents contents;
  std::vector<std::string> notes;
  auto store = open(&contents, &notes);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(contents.records.empty());
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("moved aside to " + path_ + ".corrupt-"), std::string::npos) << notes[0];
  EXPECT_NE(notes[0].find(path_), std::string::npos) << notes[0];
  size_t aside = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    if (entry.path().filename().string().rfind("store.corrupt-", 0) == 0) ++aside;
  }
  EXPECT_EQ(aside, 1u);
  // The new store works.
  store->put(record("b", 3), *node_);
  ASSERT_TRUE(store->write().ok());
  store.reset();
  contents = {};
  notes.clear();
  store = open(&contents, &notes);
  ASSERT_EQ(contents.records.size(), 1u);
  EXPECT_EQ(contents.records[0]->id, "b");
}

TEST_F(ChildStoreTest, AnotherDatabaseIsNotTakenForAStore) {
  put_raw("someone", "else's");
  ChildStore::Contents contents;
  std::vector<std::string> notes;
  auto store = open(&contents, &notes);
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("not a hub store"), std::string::npos) << notes[0];
  EXPECT_NE(notes[0].find("moved aside"), std::string::npos) << notes[0];
}

TEST_F(ChildStoreTest, AnEntryThatCannotBeReadIsSkippedAndNamed) {
  seed(record("good", 10));
  put_raw("r/bad", "\xff\xff not a record");
  ChildStore::Contents contents;
  std::vector<std::string> notes;
  auto store = open(&contents, &notes);
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(contents.records.size(), 1u);
  EXPECT_EQ(contents.records[0]->id, "good");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("r/bad"), std::string::npos) << notes[0];
}

TEST_F(ChildStoreTest, AStoreThatCannotBeMadeIsAnError) {
  std::ofstream(dir_ / "file") << "a file, not a directory";
  ChildStore::Contents contents;
  std::vector<std::string> notes;
  auto store = ChildStore::open({(dir_ / "file" / "store").string(), false}, *node_, kSegments,
                                &contents, &notes);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), plexus::StatusCode::kUnavailable);
  EXPECT_NE(store.status().message().find((dir_ / "file" / "store").string()), std::string::npos)
      << store.status();
}

}  // namespace
}  // namespace plexus_test
