// How the runtime walks what arrives in a mailbox's in-queue: a LIFO chain
// of envelopes and runs (RunEnvelope), taken in arrival order.
#pragma once

#include "runtime_impl.h"

namespace plexus::detail {

// Reverses a LIFO chain of arrivals into arrival order.
inline Envelope* reverse(Envelope* list) {
  Envelope* out = nullptr;
  while (list) {
    Envelope* next = list->next;
    list->next = out;
    out = list;
    list = next;
  }
  return out;
}

// A message drain may queue without looking at it again: not a signal, and
// not a reply (whose call may have given up).
inline bool is_plain_message(const Envelope* env) {
  return !is_signal(env->kind) && env->kind != EnvelopeKind::kReply;
}

// Calls f on each envelope of `run`, in send order (f may relink them).
template <class F>
void for_each_in_run(RunEnvelope* run, F&& f) {
  for (Envelope* env = run->first; env != nullptr;) {
    Envelope* next = env->next;
    f(env);
    env = next;
  }
}

// Calls f on each envelope of an in-queue chain (newest first, as taken from
// Process::head), in arrival order, opening runs (whose nodes it frees);
// take_run(run) may take a run's envelopes whole instead (it returns true).
template <class TakeRun, class F>
void for_each_arrival(Envelope* chain, TakeRun&& take_run, F&& f) {
  for (Envelope* node = reverse(chain); node != nullptr;) {
    Envelope* next = node->next;
    if (node->kind == EnvelopeKind::kRun) {
      auto* run = static_cast<RunEnvelope*>(node);
      if (!take_run(run)) for_each_in_run(run, f);
      delete run;
    } else {
      f(node);
    }
    node = next;
  }
}
template <class F>
void for_each_arrival(Envelope* chain, F&& f) {
  for_each_arrival(
      chain, [](RunEnvelope*) { return false; }, f);
}

}  // namespace plexus::detail
