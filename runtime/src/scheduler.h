// The scheduler: worker threads with local run queues, work stealing, and
// sleeping when idle.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <semaphore>
#include <thread>
#include <vector>

#include "plexus/detail/process.h"
#include "run_queue.h"

namespace plexus::detail {

// Each runnable process is in exactly one queue: a worker's `next` slot (the
// process just woken by a message from the running one, run soon to keep
// message pairs on one core and cache-warm; not stealable), a worker's ring,
// or the global queue (overflow, wakes from outside the workers, and the only
// queue of a deterministic runtime).
class Scheduler {
 public:
  using RunTurn = std::function<void(Process*)>;

  // threads == 0: no workers; the caller pops with pop_global().
  Scheduler(unsigned threads, RunTurn run_turn);
  ~Scheduler();

  void start();
  void stop();  // finishes running turns and joins the workers

  // A parked process received a message: run it soon.
  void wake(Process* p);
  // A new or yielding process: run it after what is queued.
  void enqueue(Process* p);

  Process* pop_global();

  // What a metrics scrape reads, from any thread.
  struct Load {
    uint64_t queued = 0;  // runnable processes waiting in the rings and the global queue
    // Per worker: nanoseconds spent finding and running turns (not spinning
    // idle or asleep), as of its last 64 turns or its last idle moment.
    std::vector<uint64_t> busy_ns;
  };
  Load load() const;

  // The calling thread, a worker of some scheduler, is about to block inside
  // a turn: its `next` process moves to its ring, where others may steal it.
  static void share_next_before_blocking();

  struct Worker;  // defined in scheduler.cpp

 private:
  void worker_loop(Worker* w);
  Process* find_work(Worker* w);
  Process* steal(Worker* w);
  void push_local(Worker* w, Process* p);
  void push_global(Process* first, Process* last, size_t n);
  bool has_visible_work() const;
  void notify_one();
  void park(Worker* w);
  Worker* current_worker() const;

  RunTurn run_turn_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> stopping_{false};

  std::mutex global_mu_;
  Process* global_head_ = nullptr;
  Process* global_tail_ = nullptr;
  std::atomic<size_t> global_size_{0};

  std::mutex idle_mu_;
  std::vector<Worker*> idle_;
  std::atomic<int> idle_count_{0};
};

}  // namespace plexus::detail
