// Envelope memory: per-thread magazines of free blocks and a shared depot, so
// that a message allocated on one scheduler thread and freed on another
// costs neither a malloc nor a cross-thread free in the steady state.
//
// Blocks are carved from slabs: aligned runs of cache-line-aligned blocks.
// A producer's envelopes therefore sit next to each other in memory, and a
// receiver on another core walking them meets one cache line per envelope in
// an order the hardware prefetcher follows (malloc'd blocks straddle lines
// and are scattered; with slabs BM_FanIn went from 12-16 to 16-19 M/s).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

#include "plexus/detail/envelope.h"
#include "plexus/message.h"

namespace plexus::detail {
namespace {

constexpr size_t kClassSizes[] = {64, 128};
constexpr int kClasses = 2;
constexpr int kMagazineSize = 64;
// A slab is 128 blocks, aligned to its size so that a block finds its slab by
// masking its address. Its first block holds the header; the other 127 serve.
constexpr size_t kBlocksPerSlab = 128;
constexpr size_t slab_bytes(int c) { return kClassSizes[c] * kBlocksPerSlab; }
// The depot keeps at most this many bytes of free blocks per size class; the
// rest is retired, and a slab whose blocks are all retired goes back to
// malloc, so a burst does not pin memory for ever.
constexpr size_t kDepotBytes = size_t{64} << 20;

struct SlabHeader {
  // Blocks of this slab not yet retired. Touched only when a slab is made
  // and when the depot overflows, never on the allocation fast path.
  std::atomic<uint32_t> unretired;
};

// The signals every link and monitor ends with come from the pool; one a
// word larger goes to malloc, which costs BM_MonitorDown a tenth of its rate.
static_assert(sizeof(TypedEnvelope<Exit>) <= kClassSizes[kClasses - 1]);
static_assert(sizeof(TypedEnvelope<Down>) <= kClassSizes[kClasses - 1]);

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

// Hands a block back for good: its slab is freed with its last block.
void retire(int c, void* block) {
  auto* header = reinterpret_cast<SlabHeader*>(reinterpret_cast<uintptr_t>(block) &
                                               ~(uintptr_t{slab_bytes(c)} - 1));
  if (header->unretired.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    header->~SlabHeader();
    std::free(header);
  }
}

// Free blocks shared by all threads, a magazine at a time.
class Depot {
 public:
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
  // Takes the blocks of `in` (retires them when the depot is full).
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
    for (int i = 0; i < in.count; ++i) retire(c, in.blocks[i]);
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
    for (int c = 0; c < kClasses; ++c) {
      for (Magazine& m : storage[c]) depot().give(c, m);
    }
  }
};

thread_local ThreadCache cache;

// Puts the `n` blocks of `size` bytes from `first` on in `m` (empty), so
// that allocation, which pops from the end, hands them out in address order.
void fill(Magazine& m, char* first, int n, size_t size) {
  for (int i = 0; i < n; ++i) m.blocks[n - 1 - i] = first + size * i;
  m.count = n;
}

// Carves a new slab into the thread's two (empty) magazines of class `c`:
// `loaded` gets the lowest addresses, `spare` the rest.
void refill_from_new_slab(int c) {
  void* memory = std::aligned_alloc(slab_bytes(c), slab_bytes(c));
  if (!memory) throw std::bad_alloc();
  new (memory) SlabHeader{kBlocksPerSlab - 1};
  size_t size = kClassSizes[c];
  char* first = static_cast<char*>(memory) + size;
  fill(*cache.loaded[c], first, kMagazineSize, size);
  fill(*cache.spare[c], first + size * kMagazineSize,
       static_cast<int>(kBlocksPerSlab - 1) - kMagazineSize, size);
}

// The loaded magazine of class `c` is empty: returns it refilled from the
// spare, the depot or a new slab. Kept out of line, so the fast paths stay small.
[[gnu::noinline]] Magazine* reload(int c) {
  if (cache.spare[c]->count > 0) {
    std::swap(cache.loaded[c], cache.spare[c]);
  } else if (!depot().take(c, *cache.loaded[c])) {
    refill_from_new_slab(c);
  }
  return cache.loaded[c];
}

// The loaded magazine of class `c` is full: returns one with room, giving a
// full spare to the depot.
[[gnu::noinline]] Magazine* make_room(int c) {
  if (cache.spare[c]->count == kMagazineSize) depot().give(c, *cache.spare[c]);
  std::swap(cache.loaded[c], cache.spare[c]);
  return cache.loaded[c];
}

}  // namespace

void* Envelope::operator new(size_t size) {
  int c = class_of(size);
  if (c < 0) return ::operator new(size);
  Magazine* m = cache.loaded[c];
  if (m->count == 0) [[unlikely]]
    m = reload(c);
  return m->blocks[--m->count];
}

void Envelope::operator delete(void* p, size_t size) {
  int c = class_of(size);
  if (c < 0) {
    ::operator delete(p);
    return;
  }
  Magazine* m = cache.loaded[c];
  if (m->count == kMagazineSize) [[unlikely]]
    m = make_room(c);
  m->blocks[m->count++] = p;
}

}  // namespace plexus::detail
