// Indirect<T>: an owned T on the heap, or nothing, in one word.
#pragma once

#include <cstddef>
#include <utility>

namespace plexus::detail {

// Owns an immutable T, or nothing, and copies it when copied (as C++26's
// std::indirect). One word, where std::shared_ptr takes two: a Down must fit
// the envelope pool's 128-byte blocks, and most Downs carry nothing here.
template <class T>
class Indirect {
 public:
  Indirect() = default;
  Indirect(std::nullptr_t) {}  // NOLINT: as a null pointer
  explicit Indirect(T value) : p_(new T(std::move(value))) {}
  Indirect(const Indirect& other) : p_(other.p_ ? new T(*other.p_) : nullptr) {}
  Indirect(Indirect&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  Indirect& operator=(Indirect other) noexcept {
    std::swap(p_, other.p_);
    return *this;
  }
  ~Indirect() { delete p_; }

  explicit operator bool() const { return p_ != nullptr; }
  const T& operator*() const { return *p_; }
  const T* operator->() const { return p_; }

 private:
  const T* p_ = nullptr;
};

}  // namespace plexus::detail
