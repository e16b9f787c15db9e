#include "scheduler.h"

#include <chrono>

namespace plexus::detail {

struct Scheduler::Worker {
  Scheduler* scheduler = nullptr;
  unsigned id = 0;
  RunQueue ring;
  Process* next = nullptr;
  int next_streak = 0;
  uint32_t tick = 0;
  uint32_t rng = 0;
  std::binary_semaphore wakeup{0};
  std::thread thread;
  // Written by the worker only (relaxed), read by load().
  std::atomic<uint64_t> busy_ns{0};
};

namespace {
thread_local Scheduler::Worker* tls_worker = nullptr;

// Runs from the `next` slot at most this many times in a row, so that two
// processes messaging each other cannot starve the ring.
constexpr int kMaxNextStreak = 16;
// Every this many turns a worker looks at the global queue first, so that
// processes woken from outside the workers wait at most this many turns.
constexpr uint32_t kGlobalCheckInterval = 8;
// Rounds of looking for work before a worker sleeps.
constexpr int kSpinRounds = 64;
}  // namespace

Scheduler::Scheduler(unsigned threads, RunTurn run_turn) : run_turn_(std::move(run_turn)) {
  for (unsigned i = 0; i < threads; ++i) {
    auto w = std::make_unique<Worker>();
    w->scheduler = this;
    w->id = i;
    w->rng = 0x9E3779B9u * (i + 1);
    workers_.push_back(std::move(w));
  }
}

Scheduler::~Scheduler() { stop(); }

void Scheduler::start() {
  for (auto& w : workers_) {
    Worker* worker = w.get();
    worker->thread = std::thread([this, worker] { worker_loop(worker); });
  }
}

void Scheduler::stop() {
  stopping_.store(true, std::memory_order_seq_cst);
  for (auto& w : workers_) w->wakeup.release();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

Scheduler::Worker* Scheduler::current_worker() const {
  Worker* w = tls_worker;
  return w && w->scheduler == this ? w : nullptr;
}

void Scheduler::wake(Process* p) {
  Worker* w = current_worker();
  if (!w) {
    push_global(p, p, 1);
    notify_one();
    return;
  }
  Process* previous = w->next;
  w->next = p;
  if (previous) push_local(w, previous);
}

void Scheduler::share_next_before_blocking() {
  Worker* w = tls_worker;
  if (!w || !w->next) return;
  w->scheduler->push_local(w, std::exchange(w->next, nullptr));
}

void Scheduler::enqueue(Process* p) {
  Worker* w = current_worker();
  if (!w) {
    push_global(p, p, 1);
    notify_one();
    return;
  }
  push_local(w, p);
}

void Scheduler::push_local(Worker* w, Process* p) {
  if (!w->ring.push(p)) {
    // Full: move half of the ring and `p` to the global queue in one batch.
    Process* first = p;
    Process* last = p;
    size_t n = 1;
    for (uint32_t i = 0; i < RunQueue::kCapacity / 2; ++i) {
      Process* q = w->ring.pop();
      if (!q) break;
      last->run_next = q;
      last = q;
      ++n;
    }
    push_global(first, last, n);
  }
  notify_one();
}

void Scheduler::push_global(Process* first, Process* last, size_t n) {
  last->run_next = nullptr;
  std::lock_guard<std::mutex> lock(global_mu_);
  if (global_tail_) {
    global_tail_->run_next = first;
  } else {
    global_head_ = first;
  }
  global_tail_ = last;
  global_size_.fetch_add(n, std::memory_order_release);
}

Process* Scheduler::pop_global() {
  if (global_size_.load(std::memory_order_acquire) == 0) return nullptr;
  std::lock_guard<std::mutex> lock(global_mu_);
  Process* p = global_head_;
  if (!p) return nullptr;
  global_head_ = p->run_next;
  if (!global_head_) global_tail_ = nullptr;
  p->run_next = nullptr;
  global_size_.fetch_sub(1, std::memory_order_release);
  return p;
}

Process* Scheduler::steal(Worker* w) {
  size_t n = workers_.size();
  if (n < 2) return nullptr;
  w->rng ^= w->rng << 13;
  w->rng ^= w->rng >> 17;
  w->rng ^= w->rng << 5;
  size_t start = w->rng % n;
  for (size_t i = 0; i < n; ++i) {
    Worker* victim = workers_[(start + i) % n].get();
    if (victim == w) continue;
    if (Process* p = victim->ring.pop()) return p;
  }
  return nullptr;
}

Process* Scheduler::find_work(Worker* w) {
  if (++w->tick % kGlobalCheckInterval == 0) {
    if (Process* p = pop_global()) return p;
  }
  if (w->next && w->next_streak < kMaxNextStreak) {
    ++w->next_streak;
    return std::exchange(w->next, nullptr);
  }
  w->next_streak = 0;
  if (Process* p = w->ring.pop()) return p;
  if (w->next) return std::exchange(w->next, nullptr);
  if (Process* p = pop_global()) return p;
  return steal(w);
}

bool Scheduler::has_visible_work() const {
  if (global_size_.load(std::memory_order_seq_cst) != 0) return true;
  for (const auto& w : workers_) {
    if (!w->ring.empty()) return true;
  }
  return false;
}

void Scheduler::notify_one() {
  // Pairs with the fence in park(): either the sleeper sees the new work, or
  // we see it in the idle list.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (idle_count_.load(std::memory_order_relaxed) == 0) return;
  Worker* sleeper = nullptr;
  {
    std::lock_guard<std::mutex> lock(idle_mu_);
    if (idle_.empty()) return;
    sleeper = idle_.back();
    idle_.pop_back();
    idle_count_.store(static_cast<int>(idle_.size()), std::memory_order_relaxed);
  }
  sleeper->wakeup.release();
}

void Scheduler::park(Worker* w) {
  {
    std::lock_guard<std::mutex> lock(idle_mu_);
    idle_.push_back(w);
    idle_count_.store(static_cast<int>(idle_.size()), std::memory_order_relaxed);
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (has_visible_work() || stopping_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(idle_mu_);
    for (size_t i = 0; i < idle_.size(); ++i) {
      if (idle_[i] == w) {
        idle_.erase(idle_.begin() + static_cast<ptrdiff_t>(i));
        idle_count_.store(static_cast<int>(idle_.size()), std::memory_order_relaxed);
        return;
      }
    }
    // A notifier already took us off the list and will release the semaphore:
    // consume that wakeup so it does not linger.
  }
  w->wakeup.acquire();
}

Scheduler::Load Scheduler::load() const {
  Load load;
  load.queued = global_size_.load(std::memory_order_relaxed);
  for (const auto& w : workers_) {
    load.queued += w->ring.size();
    load.busy_ns.push_back(w->busy_ns.load(std::memory_order_relaxed));
  }
  return load;
}

void Scheduler::worker_loop(Worker* w) {
  tls_worker = w;
  int idle_rounds = 0;
  // Busy time is read from the clock only when the worker goes from work to
  // idle or back, and every kBusyFlushTurns turns of a worker that never
  // idles, so a turn costs no clock read.
  constexpr uint32_t kBusyFlushTurns = 64;
  auto now_ns = [] {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  };
  uint64_t busy_since = now_ns();
  bool busy = true;
  uint32_t turns = 0;
  auto flush_busy = [&](uint64_t now) {
    w->busy_ns.store(w->busy_ns.load(std::memory_order_relaxed) + (now - busy_since),
                     std::memory_order_relaxed);
    busy_since = now;
  };
  while (!stopping_.load(std::memory_order_acquire)) {
    if (Process* p = find_work(w)) {
      idle_rounds = 0;
      if (!busy) {
        busy = true;
        busy_since = now_ns();
      } else if (++turns % kBusyFlushTurns == 0) {
        flush_busy(now_ns());
      }
      run_turn_(p);
      continue;
    }
    if (busy) {
      flush_busy(now_ns());
      busy = false;
    }
    if (++idle_rounds < kSpinRounds) {
      std::this_thread::yield();
      continue;
    }
    idle_rounds = 0;
    park(w);
  }
  tls_worker = nullptr;
}

}  // namespace plexus::detail
