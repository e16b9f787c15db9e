// Frames on a node connection: a 4-byte big-endian length, then a serialized
// plexus.wire.Frame (proto/plexus/wire.proto).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/exit_reason.h"
#include "plexus/wire.pb.h"

namespace plexus::detail {

constexpr size_t kFrameHeaderSize = 4;

// Appends `frame`, length prefix first, to `out`.
void append_frame(const wire::Frame& frame, std::string* out);

// A pid or ref as it goes on the wire: relative to the connection, or naming
// a third node in full.
struct WireNode {
  wire::Side side = wire::SENDER;
  const std::string* name = nullptr;  // side OTHER only
  uint64_t creation = 0;              // side OTHER only
};
struct WirePid {
  uint32_t index = 0;
  uint32_t serial = 0;
  WireNode node;
};
struct WireRef {
  uint64_t id = 0;
  WireNode node;
};

// A payload written straight into the output buffer: `size` bytes produced by
// `write(to)`, which returns the end.
struct PayloadWriter {
  size_t size = 0;
  uint8_t* (*write)(const void* state, uint8_t* to) = nullptr;
  const void* state = nullptr;
};

// The fields of a Send frame. Encoded by hand (still a valid Frame) so that
// the payload is serialized once, directly into the connection's buffer.
struct SendFields {
  wire::Send::Kind kind = wire::Send::MESSAGE;
  const WirePid* to = nullptr;  // or to_name
  std::string_view to_name;
  const WirePid* from = nullptr;  // optional
  const WireRef* ref = nullptr;   // optional
  uint32_t type = 0;
  std::string_view type_name;  // the first time `type` is used on the connection
  PayloadWriter payload;
};
void append_send(const SendFields& send, std::string* out);

struct SignalFields {
  wire::Signal::Kind kind = wire::Signal::LINK;
  WirePid to;                          // unless to_name is set
  std::string_view to_name;            // a monitor or demonitor by name
  const WirePid* from = nullptr;       // optional (exit from outside a process)
  const WireRef* ref = nullptr;        // monitors
  const ExitReason* reason = nullptr;  // exits and downs
};
void append_signal(const SignalFields& signal, std::string* out);

// plexus::to_proto and from_proto (plexus/node/exit_reason_proto.h), by the
// names the rest of the codec uses.
void to_wire(const ExitReason& reason, wire::Reason* out);
ExitReason from_wire(const wire::Reason& reason);

// Splits a byte stream into frames. The connection reads straight into
// space(); complete frames are then taken in place, without a copy. The
// buffer grows with the bytes that arrive, not with the length a frame
// announces: four bytes from a stranger allocate nothing.
class FrameReader {
 public:
  explicit FrameReader(size_t max_frame_size) : max_frame_size_(max_frame_size) {}

  // Frames above `max` are refused from now on (a connection raises its limit
  // once its handshake is done).
  void set_max_frame_size(size_t max) { max_frame_size_ = max; }
  size_t max_frame_size() const { return max_frame_size_; }

  // Room for at least `min` more bytes at the end of what was read.
  uint8_t* space(size_t min, size_t* available);
  void commit(size_t n) { end_ += n; }

  enum class Next { kFrame, kNeedMore, kTooLarge };
  // The next complete frame's bytes (without the length prefix), valid until
  // the next call to space().
  Next next(std::string_view* frame);
  // The length the last kTooLarge frame announced.
  size_t announced() const { return announced_; }

 private:
  size_t max_frame_size_;
  std::vector<uint8_t> buf_;
  size_t begin_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // one past the last byte read
  size_t announced_ = 0;
};

}  // namespace plexus::detail
