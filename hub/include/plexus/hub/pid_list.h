// PidList: the pids a hub child runs as, the first its primary.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <vector>

#include "plexus/detail/indirect.h"
#include "plexus/pid.h"

namespace plexus::hub {

// Holds no null pid. The first is inline and the others out of line: most
// children run once, and a registry holds one list per child, so its size
// is the registry's (24 bytes where a std::vector and its block take 56).
class PidList {
 public:
  class Iterator {
   public:
    Iterator(const PidList* list, size_t at) : list_(list), at_(at) {}
    Pid operator*() const { return (*list_)[at_]; }
    Iterator& operator++() {
      ++at_;
      return *this;
    }
    bool operator==(const Iterator& other) const { return at_ == other.at_; }

   private:
    const PidList* list_;
    size_t at_;
  };

  PidList() = default;
  PidList(std::initializer_list<Pid> pids) : PidList(std::vector<Pid>(pids)) {}
  // Null pids in `pids` are left out.
  explicit PidList(const std::vector<Pid>& pids);

  size_t size() const { return first_ ? 1 + (rest_ ? rest_->size() : 0) : 0; }
  bool empty() const { return !first_; }
  // The primary, or the null pid if empty.
  Pid front() const { return first_; }
  Pid operator[](size_t i) const { return i == 0 ? first_ : (*rest_)[i - 1]; }
  Iterator begin() const { return Iterator(this, 0); }
  Iterator end() const { return Iterator(this, size()); }
  std::vector<Pid> to_vector() const;
  // True if `pid` is one of them.
  bool contains(Pid pid) const {
    for (Pid p : *this) {
      if (p == pid) return true;
    }
    return false;
  }

  friend bool operator==(const PidList& a, const PidList& b) {
    return a.to_vector() == b.to_vector();
  }

 private:
  Pid first_;
  plexus::detail::Indirect<std::vector<Pid>> rest_;
};

}  // namespace plexus::hub
