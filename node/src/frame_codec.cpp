#include "frame_codec.h"

#include <google/protobuf/io/coded_stream.h>

#include <algorithm>
#include <cassert>
#include <cstring>

#include "plexus/node/exit_reason_proto.h"

namespace plexus::detail {

namespace {

using google::protobuf::io::CodedOutputStream;

constexpr uint32_t kVarint = 0;
constexpr uint32_t kFixed64 = 1;
constexpr uint32_t kLength = 2;

size_t varint_size(uint64_t v) { return CodedOutputStream::VarintSize64(v); }
size_t tag_size(int field) { return varint_size(static_cast<uint64_t>(field) << 3); }

// Two passes over one description of a message: SizeWriter measures,
// ByteWriter writes. Fields at their default value are left out, as proto3
// does; sub-messages are always written.
struct SizeWriter {
  size_t n = 0;
  void varint(int field, uint64_t v) {
    if (v != 0) n += tag_size(field) + varint_size(v);
  }
  void fixed64(int field, uint64_t v) {
    if (v != 0) n += tag_size(field) + 8;
  }
  void bytes(int field, std::string_view s) {
    if (!s.empty()) n += tag_size(field) + varint_size(s.size()) + s.size();
  }
  void payload(int field, const PayloadWriter& p) {
    if (p.size != 0) n += tag_size(field) + varint_size(p.size) + p.size;
  }
  template <class F>
  void message(int field, F&& body) {
    SizeWriter sub;
    body(sub);
    n += tag_size(field) + varint_size(sub.n) + sub.n;
  }
};

struct ByteWriter {
  uint8_t* p;
  void tag(int field, uint32_t wire_type) {
    p = CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(field) << 3 | wire_type, p);
  }
  void varint(int field, uint64_t v) {
    if (v == 0) return;
    tag(field, kVarint);
    p = CodedOutputStream::WriteVarint64ToArray(v, p);
  }
  void fixed64(int field, uint64_t v) {
    if (v == 0) return;
    tag(field, kFixed64);
    p = CodedOutputStream::WriteLittleEndian64ToArray(v, p);
  }
  void bytes(int field, std::string_view s) {
    if (s.empty()) return;
    tag(field, kLength);
    p = CodedOutputStream::WriteVarint64ToArray(s.size(), p);
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  }
  void payload(int field, const PayloadWriter& w) {
    if (w.size == 0) return;
    tag(field, kLength);
    p = CodedOutputStream::WriteVarint64ToArray(w.size, p);
    uint8_t* end = w.write(w.state, p);
    assert(end == p + w.size);
    p = end;
  }
  template <class F>
  void message(int field, F&& body) {
    SizeWriter size;
    body(size);
    tag(field, kLength);
    p = CodedOutputStream::WriteVarint64ToArray(size.n, p);
    body(*this);
  }
};

template <class W>
void put_node(W& w, int field, const WireNode& node) {
  if (node.side != wire::OTHER) return;
  w.message(field, [&](auto& sub) {
    sub.bytes(1, *node.name);
    sub.fixed64(2, node.creation);
  });
}

template <class W>
void put_pid(W& w, int field, const WirePid& pid) {
  w.message(field, [&](auto& sub) {
    sub.varint(1, pid.index);
    sub.varint(2, pid.serial);
    sub.varint(3, static_cast<uint64_t>(pid.node.side));
    put_node(sub, 4, pid.node);
  });
}

template <class W>
void put_ref(W& w, int field, const WireRef& ref) {
  w.message(field, [&](auto& sub) {
    sub.varint(1, ref.id);
    sub.varint(2, static_cast<uint64_t>(ref.node.side));
    put_node(sub, 3, ref.node);
  });
}

// Appends a frame described by `body(writer)` to `out`.
template <class F>
void append_frame_with(std::string* out, F&& body) {
  SizeWriter size;
  body(size);
  size_t start = out->size();
  out->resize(start + kFrameHeaderSize + size.n);
  auto* p = reinterpret_cast<uint8_t*>(out->data()) + start;
  uint32_t n = static_cast<uint32_t>(size.n);
  p[0] = static_cast<uint8_t>(n >> 24);
  p[1] = static_cast<uint8_t>(n >> 16);
  p[2] = static_cast<uint8_t>(n >> 8);
  p[3] = static_cast<uint8_t>(n);
  ByteWriter w{p + kFrameHeaderSize};
  body(w);
  assert(w.p == reinterpret_cast<uint8_t*>(out->data()) + out->size());
}

}  // namespace

void append_frame(const wire::Frame& frame, std::string* out) {
  size_t n = frame.ByteSizeLong();
  size_t start = out->size();
  out->resize(start + kFrameHeaderSize + n);
  auto* p = reinterpret_cast<uint8_t*>(out->data()) + start;
  p[0] = static_cast<uint8_t>(n >> 24);
  p[1] = static_cast<uint8_t>(n >> 16);
  p[2] = static_cast<uint8_t>(n >> 8);
  p[3] = static_cast<uint8_t>(n);
  frame.SerializeWithCachedSizesToArray(p + kFrameHeaderSize);
}

void append_send(const SendFields& send, std::string* out) {
  append_frame_with(out, [&](auto& w) {
    w.message(wire::Frame::kSendFieldNumber, [&](auto& s) {
      s.varint(1, static_cast<uint64_t>(send.kind));
      if (send.to) put_pid(s, 2, *send.to);
      s.bytes(3, send.to_name);
      if (send.from) put_pid(s, 4, *send.from);
      if (send.ref) put_ref(s, 5, *send.ref);
      s.varint(6, send.type);
      s.bytes(7, send.type_name);
      s.payload(8, send.payload);
    });
  });
}

void append_signal(const SignalFields& signal, std::string* out) {
  // A term is serialized once, by protobuf, and written as the bytes of
  // field 4: the same bytes protobuf would write for the whole Reason. (A
  // serialized Term is never empty: its oneof field is always written.) A term
  // too deep to send goes as to_proto() sends it.
  const ExitReason* reason = signal.reason;
  ExitReason undecodable;
  std::string term;
  if (reason && reason->term()) {
    wire::Term t;
    if (to_proto(*reason->term(), &t)) {
      t.SerializeToString(&term);
    } else {
      undecodable = ExitReason::error(kUndecodableReason);
      reason = &undecodable;
    }
  }
  append_frame_with(out, [&](auto& w) {
    w.message(wire::Frame::kSignalFieldNumber, [&](auto& s) {
      s.varint(1, static_cast<uint64_t>(signal.kind));
      if (signal.to_name.empty()) put_pid(s, 2, signal.to);
      if (signal.from) put_pid(s, 3, *signal.from);
      if (signal.ref) put_ref(s, 4, *signal.ref);
      if (signal.reason) {
        s.message(5, [&](auto& m) {
          m.varint(1, static_cast<uint64_t>(reason->kind()));
          m.varint(2, reason->has_detail() ? 1 : 0);
          m.bytes(3, reason->detail());
          m.bytes(4, term);
        });
      }
      if (!signal.to_name.empty()) s.bytes(6, signal.to_name);
    });
  });
}

void to_wire(const ExitReason& reason, wire::Reason* out) { to_proto(reason, out); }

ExitReason from_wire(const wire::Reason& reason) { return from_proto(reason); }

uint8_t* FrameReader::space(size_t min, size_t* available) {
  if (begin_ == end_) {
    begin_ = end_ = 0;
    // Give back what one large frame took.
    if (buf_.size() > (size_t{4} << 20)) std::vector<uint8_t>().swap(buf_);
  }
  if (buf_.size() - end_ < min) {
    // Move what is left of a partial frame to the front, then grow.
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    // Geometric growth: a buffer is never more than twice what arrived.
    if (buf_.size() - end_ < min) buf_.resize(std::max(end_ + min, buf_.size() * 2));
  }
  *available = buf_.size() - end_;
  return buf_.data() + end_;
}

FrameReader::Next FrameReader::next(std::string_view* frame) {
  size_t have = end_ - begin_;
  if (have < kFrameHeaderSize) return Next::kNeedMore;
  const uint8_t* p = buf_.data() + begin_;
  size_t n = size_t{p[0]} << 24 | size_t{p[1]} << 16 | size_t{p[2]} << 8 | size_t{p[3]};
  if (n > max_frame_size_) {
    announced_ = n;
    return Next::kTooLarge;
  }
  if (have < kFrameHeaderSize + n) return Next::kNeedMore;
  *frame = std::string_view(reinterpret_cast<const char*>(p + kFrameHeaderSize), n);
  begin_ += kFrameHeaderSize + n;
  return Next::kFrame;
}

}  // namespace plexus::detail
