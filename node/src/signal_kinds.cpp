#include "signal_kinds.h"

#include <iterator>

namespace plexus::detail {

namespace {

constexpr SignalKind kSignals[] = {
    // envelope                  wire                     effect                 payload
    {EnvelopeKind::kLink, wire::Signal::LINK, TieEffect::kLink, SignalPayload::kNone, true, false},
    {EnvelopeKind::kUnlink, wire::Signal::UNLINK, TieEffect::kUnlink, SignalPayload::kNone, true,
     false},
    {EnvelopeKind::kLinkExit, wire::Signal::LINK_EXIT, TieEffect::kUnlink, SignalPayload::kExit,
     true, false},
    {EnvelopeKind::kExit, wire::Signal::EXIT, TieEffect::kNone, SignalPayload::kExit, false, false},
    {EnvelopeKind::kMonitor, wire::Signal::MONITOR, TieEffect::kWatch, SignalPayload::kNone, true,
     true},
    {EnvelopeKind::kDemonitor, wire::Signal::DEMONITOR, TieEffect::kUnwatch, SignalPayload::kNone,
     true, true},
    // A DOWN has no sender when a monitor by name found no process.
    {EnvelopeKind::kDown, wire::Signal::DOWN, TieEffect::kWatchEnded, SignalPayload::kDown, false,
     true},
};

struct SendKind {
  EnvelopeKind envelope;
  wire::Send::Kind wire;
};
constexpr SendKind kSends[] = {
    {EnvelopeKind::kMessage, wire::Send::MESSAGE},
    {EnvelopeKind::kCall, wire::Send::CALL},
    {EnvelopeKind::kReply, wire::Send::REPLY},
    {EnvelopeKind::kCast, wire::Send::CAST},
};

}  // namespace

wire::Send::Kind send_kind(EnvelopeKind kind) {
  for (const SendKind& k : kSends) {
    if (k.envelope == kind) return k.wire;
  }
  return wire::Send::MESSAGE;
}

EnvelopeKind envelope_kind(wire::Send::Kind kind) {
  for (const SendKind& k : kSends) {
    if (k.wire == kind) return k.envelope;
  }
  return EnvelopeKind::kMessage;
}

const SignalKind* signal_kind(EnvelopeKind kind) {
  for (const SignalKind& k : kSignals) {
    if (k.envelope == kind) return &k;
  }
  return nullptr;
}

const SignalKind* signal_kind(wire::Signal::Kind kind) {
  for (const SignalKind& k : kSignals) {
    if (k.wire == kind) return &k;
  }
  return nullptr;
}

}  // namespace plexus::detail
