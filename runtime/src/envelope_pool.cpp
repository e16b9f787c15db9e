// Envelope memory: per-thread magazines of free blocks and a shared depot, so
// that a message allocated on one scheduler thread and freed on another
// costs neither a malloc nor a cross-thread free in the steady state.
#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

#include "plexus/detail/envelope.h"

namespace plexus::detail {
namespace {

constexpr size_t kClassSizes[] = {64, 128};
constexpr int kClasses = 2;
constexpr int kMagazineSize = 64;
// The depot keeps at most this many bytes of free blocks per size class; the
// rest goes back to malloc, so a burst does not pin memory for ever.
constexpr size_t kDepotBytes = size_t{64} << 20;

int class_of(size_t size) {
  for (int c = 0; c < kClasses; ++c) {
    if (size <= kClassSizes[c]) return c;
  }
  return -1;
}

struct Magazine {
  int count = 0;
  void* blocks[kMagazineSize];
};

// Free blocks shared by all threads, a magazine at a time.
class Depot {
 public:
  ~Depot() {
    for (auto& blocks : free_) {
      for (void* p : blocks) std::free(p);
    }
  }
  // Fills `out` (empty) with a magazine of class `c`; false if none is left.
  bool take(int c, Magazine& out) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<void*>& blocks = free_[c];
    if (blocks.size() < kMagazineSize) return false;
    std::copy(blocks.end() - kMagazineSize, blocks.end(), out.blocks);
    blocks.resize(blocks.size() - kMagazineSize);
    out.count = kMagazineSize;
    return true;
  }
  // Takes the blocks of a full magazine (frees them when the depot is full).
  void give(int c, Magazine& in) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::vector<void*>& blocks = free_[c];
      if (blocks.size() * kClassSizes[c] < kDepotBytes) {
        blocks.insert(blocks.end(), in.blocks, in.blocks + in.count);
        in.count = 0;
        return;
      }
    }
    for (int i = 0; i < in.count; ++i) std::free(in.blocks[i]);
    in.count = 0;
  }

 private:
  std::mutex mu_;
  std::vector<void*> free_[kClasses];
};

Depot& depot() {
  static Depot* d = new Depot;  // outlives every thread's cache
  return *d;
}

// A thread's two magazines per class: `loaded` serves allocations and takes
// frees while it has room (the warmest blocks are reused first); `spare`
// takes the overflow. Swapped by pointer.
struct ThreadCache {
  Magazine storage[kClasses][2];
  Magazine* loaded[kClasses];
  Magazine* spare[kClasses];
  ThreadCache() {
    for (int c = 0; c < kClasses; ++c) {
      loaded[c] = &storage[c][0];
      spare[c] = &storage[c][1];
    }
  }
  ~ThreadCache() {
    for (auto& pair : storage) {
      for (Magazine& m : pair) {
        for (int i = 0; i < m.count; ++i) std::free(m.blocks[i]);
        m.count = 0;
      }
    }
  }
};

thread_local ThreadCache cache;

}  // namespace

void* Envelope::operator new(size_t size) {
  int c = class_of(size);
  if (c < 0) return ::operator new(size);
  Magazine* m = cache.loaded[c];
  if (m->count == 0) {
    if (cache.spare[c]->count > 0) {
      std::swap(cache.loaded[c], cache.spare[c]);
      m = cache.loaded[c];
    } else if (!depot().take(c, *m)) {
      void* p = std::malloc(kClassSizes[c]);
      if (!p) throw std::bad_alloc();
      return p;
    }
  }
  return m->blocks[--m->count];
}

void Envelope::operator delete(void* p, size_t size) {
  int c = class_of(size);
  if (c < 0) {
    ::operator delete(p);
    return;
  }
  Magazine* m = cache.loaded[c];
  if (m->count == kMagazineSize) {
    Magazine* spare = cache.spare[c];
    if (spare->count == kMagazineSize) {
      depot().give(c, *spare);
    }
    std::swap(cache.loaded[c], cache.spare[c]);
    m = cache.loaded[c];
  }
  m->blocks[m->count++] = p;
}

}  // namespace plexus::detail
