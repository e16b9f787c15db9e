// Mutex, MutexLock, CondVar and SharedMutex: std::mutex, std::condition_variable and
// std::shared_mutex with the annotations of clang's thread-safety analysis (-Wthread-safety), so
// that "guarded by" is checked by the compiler instead of stated in a comment. Internal to Plexus's
// layers; not for applications.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#if defined(__clang__)
#define PLEXUS_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define PLEXUS_THREAD_ANNOTATION(x)
#endif

// On a class: it is a lock.
#define PLEXUS_CAPABILITY(name) PLEXUS_THREAD_ANNOTATION(capability(name))
// On a class: an RAII holder of a lock.
#define PLEXUS_SCOPED_CAPABILITY PLEXUS_THREAD_ANNOTATION(scoped_lockable)
// On a member: read and written only with `mu` held.
#define PLEXUS_GUARDED_BY(mu) PLEXUS_THREAD_ANNOTATION(guarded_by(mu))
// On a pointer member: what it points to is guarded by `mu`.
#define PLEXUS_PT_GUARDED_BY(mu) PLEXUS_THREAD_ANNOTATION(pt_guarded_by(mu))
// On a function: the caller holds these locks.
#define PLEXUS_REQUIRES(...) PLEXUS_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
// On a function: the caller must not hold these locks (it takes them).
#define PLEXUS_EXCLUDES(...) PLEXUS_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define PLEXUS_ACQUIRE(...) PLEXUS_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define PLEXUS_RELEASE(...) PLEXUS_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define PLEXUS_ACQUIRE_SHARED(...) PLEXUS_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define PLEXUS_RELEASE_SHARED(...) PLEXUS_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
// On a function: the caller holds these locks, at least shared.
#define PLEXUS_REQUIRES_SHARED(...) \
  PLEXUS_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
// On a function: returns a reference to this lock.
#define PLEXUS_RETURN_CAPABILITY(x) PLEXUS_THREAD_ANNOTATION(lock_returned(x))
// On a function the analysis cannot follow (say why at each use).
#define PLEXUS_NO_THREAD_SAFETY_ANALYSIS PLEXUS_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace plexus::detail {

class PLEXUS_CAPABILITY("mutex") Mutex {
 public:
  void lock() PLEXUS_ACQUIRE() { mu_.lock(); }
  void unlock() PLEXUS_RELEASE() { mu_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds a Mutex for its scope; unlock() and lock() let the holder step out
// for a moment (to call out) and come back.
class PLEXUS_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) PLEXUS_ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~MutexLock() PLEXUS_RELEASE() {
    if (held_) mu_.unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void unlock() PLEXUS_RELEASE() {
    held_ = false;
    mu_.unlock();
  }
  void lock() PLEXUS_ACQUIRE() {
    mu_.lock();
    held_ = true;
  }

 private:
  Mutex& mu_;
  bool held_ = true;
};

// A condition variable waited on with its Mutex held; the mutex is held again
// when a wait returns. Waits take no predicate: the caller loops on its
// condition, where the analysis sees the mutex held.
class CondVar {
 public:
  void notify_one() { cv_.notify_one(); }
  void notify_all() { cv_.notify_all(); }

  void wait(Mutex& mu) PLEXUS_REQUIRES(mu) {
    std::unique_lock<std::mutex> inner(mu.mu_, std::adopt_lock);
    cv_.wait(inner);
    inner.release();
  }
  // False once `deadline` has passed (the caller checks its condition again).
  template <class Clock, class Duration>
  bool wait_until(Mutex& mu, std::chrono::time_point<Clock, Duration> deadline)
      PLEXUS_REQUIRES(mu) {
    std::unique_lock<std::mutex> inner(mu.mu_, std::adopt_lock);
    bool in_time = cv_.wait_until(inner, deadline) == std::cv_status::no_timeout;
    inner.release();
    return in_time;
  }

 private:
  std::condition_variable cv_;
};

// A reader-writer lock: many holders in shared mode, or one exclusive.
class PLEXUS_CAPABILITY("shared mutex") SharedMutex {
 public:
  void lock() PLEXUS_ACQUIRE() { mu_.lock(); }
  void unlock() PLEXUS_RELEASE() { mu_.unlock(); }
  void lock_shared() PLEXUS_ACQUIRE_SHARED() { mu_.lock_shared(); }
  void unlock_shared() PLEXUS_RELEASE_SHARED() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
};

// Holds a SharedMutex exclusively for its scope.
class PLEXUS_SCOPED_CAPABILITY WriterLock {
 public:
  explicit WriterLock(SharedMutex& mu) PLEXUS_ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~WriterLock() PLEXUS_RELEASE() { mu_.unlock(); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  SharedMutex& mu_;
};

// Holds a SharedMutex shared for its scope.
class PLEXUS_SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(SharedMutex& mu) PLEXUS_ACQUIRE_SHARED(mu) : mu_(mu) { mu_.lock_shared(); }
  ~ReaderLock() PLEXUS_RELEASE() { mu_.unlock_shared(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  SharedMutex& mu_;
};

}  // namespace plexus::detail
