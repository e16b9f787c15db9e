// The process control block. Internal: public headers include it only because
// receive patterns are templates that scan the mailbox inline.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <memory>

#include "plexus/detail/envelope.h"
#include "plexus/exit_reason.h"
#include "plexus/pid.h"
#include "plexus/task.h"

namespace plexus {
class Runtime;
class Server;
namespace detail {

struct ProcessExtras;  // links, monitors, registered name: allocated on first use

// A receive that is waiting for a match; implemented by the receive awaiter.
class PendingReceive {
 public:
  // Scans the private queue for a match (or notices the timeout). True when
  // the receive is complete and the process can resume.
  virtual bool try_complete() = 0;
  // The timeout in milliseconds (< 0: none). Armed when the process parks.
  virtual int64_t timeout_ms() const = 0;

 protected:
  ~PendingReceive() = default;
};

enum class ProcessKind : uint8_t { kCoroutine, kServer, kInbox };

// The lock-free in-queue of a mailbox, and the process's run state, share one
// word (`head`): null means "running or runnable, nothing new", kWaiting means
// "parked: the next sender must schedule it", kClosed means "exited: sends fail".
// Any other value is the newest envelope of a LIFO chain of new arrivals.
inline Envelope* const kWaiting = reinterpret_cast<Envelope*>(uintptr_t{1});
inline Envelope* const kClosed = reinterpret_cast<Envelope*>(uintptr_t{2});

// Process objects are type-stable: they live in the process table's chunks for
// the runtime's lifetime and are reused for new incarnations (with a new
// serial), so a sender may always touch one it found through a stale pid.
struct Process {
  // ---- shared with other threads
  std::atomic<Envelope*> head{kClosed};
  std::atomic<uint32_t> serial{0};
  std::atomic<uint32_t> free_next{0};     // free-list link (index + 1; 0 = end)
  std::atomic<bool> kill_pending{false};  // exit(pid, kill) sent: alive() is false at once
  std::atomic<bool> registered{false};    // has a registered name (the registry holds it)
  std::atomic<bool> has_timers{false};    // send_after targeted it: its exit cancels them
  // Suspension by a transport whose peer is full (spi::suspend_current):
  // kNotSuspended, kSuspendAsked (during its turn; a resume cancels it), or
  // kSuspended (its turn ended and it is in no queue: resume enqueues it).
  std::atomic<uint8_t> suspend{0};

  // ---- owned by the process (touched only by the thread running it)
  uint32_t index = 0;
  ProcessKind kind = ProcessKind::kCoroutine;
  bool started = false;
  bool trap_exit = false;
  bool exit_pending = false;   // a signal decided that the process exits
  bool timeout_fired = false;  // the armed receive/idle timeout fired
  bool in_callback = false;    // a Server's callback runs (for ProcessInfo::status)
  int budget = 0;              // receives left in this turn
  // ---- written by the owner only, read by anyone (Runtime::process_loads):
  // the messages taken out of the private queue and put into it since the
  // process started (both wrapping; their difference is the queue's length).
  // One store per message received. A reader reads `taken` first (acquire)
  // and `put` after it, so it never sees more taken out than put in. They
  // fill holes in the layout: the process stays 208 bytes (240 cost BM_FanIn
  // 6-18%, bench/RESULTS.md), which the static_assert below the struct keeps.
  std::atomic<uint32_t> taken{0};
  Envelope* queue_head = nullptr;  // private queue: arrived, not yet received, in order
  Envelope* queue_tail = nullptr;
  Process* run_next = nullptr;  // link in the scheduler's global queue
  PendingReceive* receive = nullptr;
  std::coroutine_handle<> leaf;                   // innermost suspended coroutine
  std::coroutine_handle<TaskPromise<void>> root;  // the body's outermost coroutine
  Server* server = nullptr;
  ProcessExtras* extras = nullptr;
  uint64_t timeout_token = 0;  // identifies the armed receive/idle timeout
  uint64_t timer_id = 0;       // the armed timer (0: none)
  Ref pending_call;            // the call whose reply this process waits for
  // The process that started it (null: the outside world), set before it
  // runs. A Server that traps exits stops with its parent's exit reason.
  Pid parent;
  std::atomic<uint32_t> put{0};  // (with `taken` above)
  // A Server whose starter waits for its init(): the starter's monitor of
  // it, under which the InitAck goes back (null: nobody waits).
  Ref init_ack;
  ExitReason exit_reason;
  Runtime* runtime = nullptr;
  void* inbox = nullptr;  // the Inbox's waiter for kInbox processes

  Pid pid() const { return Pid{0, index, serial.load(std::memory_order_relaxed)}; }

  // Appends to the private queue.
  void enqueue_private(Envelope* env) {
    env->next = nullptr;
    if (queue_tail) {
      queue_tail->next = env;
    } else {
      queue_head = env;
    }
    queue_tail = env;
    add(put, 1);
  }
  // Appends the chain first..last of `count` envelopes (linked by `next`,
  // last->next null).
  void append_private(Envelope* first, Envelope* last, uint32_t count) {
    if (queue_tail) {
      queue_tail->next = first;
    } else {
      queue_head = first;
    }
    queue_tail = last;
    add(put, count);
  }
  // Removes `env` (whose predecessor is `prev`, or null if it is the head).
  void remove_private(Envelope* prev, Envelope* env) {
    if (prev) {
      prev->next = env->next;
    } else {
      queue_head = env->next;
    }
    if (queue_tail == env) queue_tail = prev;
    env->next = nullptr;
    add(taken, 1);
  }
  // Frees every envelope of the private queue, counting them as taken;
  // returns how many there were.
  size_t clear_private() {
    size_t n = 0;
    for (Envelope* env = queue_head; env; ++n) {
      Envelope* next = env->next;
      delete env;
      env = next;
    }
    queue_head = queue_tail = nullptr;
    add(taken, static_cast<uint32_t>(n));
    return n;
  }
  // The private queue's length (from any thread: as of its owner's last
  // change to it).
  uint32_t queue_len() const {
    uint32_t out = taken.load(std::memory_order_acquire);
    return put.load(std::memory_order_relaxed) - out;
  }

 private:
  // The owner is the only writer: a load and a store, no read-modify-write;
  // released, so that a reader who sees a `taken` sees the `put` before it.
  static void add(std::atomic<uint32_t>& counter, uint32_t n) {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_release);
  }
};

// On 64-bit targets. A field that does not fit a hole costs the message
// path (bench/RESULTS.md, "Mailbox loads"): measure before growing it.
static_assert(sizeof(void*) != 8 || sizeof(Process) == 208, "Process grew past 208 bytes");

enum : uint8_t { kNotSuspended = 0, kSuspendAsked = 1, kSuspended = 2 };

// Moves what arrived in the in-queue to the private queue, handling signals
// on the way. Defined in the runtime; called by the owner only.
void drain_mailbox(Process* p);

}  // namespace detail
}  // namespace plexus
