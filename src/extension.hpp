// The interface of a WebSocket extension (RFC 6455 9), in two parts.
//
// The handshake part, ExtensionNegotiation: the client's offer, the server's acceptance of an
// offer and its answer, and the client's check of the answer. Each handshake holds one object
// per extension it knows (handshake.cpp lists them) and asks each in turn.
//
// The connection part, Extension: the RSV bits it defines, and its transforms of a message's
// payload, inbound and outbound. A message takes the transforms when its first frame carries
// the extension's bits (inbound) or when the extension asks for it (outbound); every other
// message never reaches the extension, so the plain receive and send paths make no virtual
// call.
//
// permessage-deflate (RFC 7692) is the one implementation of both: DeflateNegotiation
// (deflate_negotiation.hpp) and PerMessageDeflate (permessage_deflate.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "byte_buffer.hpp"

#include "wsframe/error.hpp"

namespace wsframe {
class FieldList;
}

namespace wsframe::detail {

// Where a client's offer elements go: the Sec-WebSocket-Extensions list of the request being
// written.
class ElementSink {
 public:
  virtual void add(std::string_view element) = 0;

 protected:
  ~ElementSink() = default;
};

// One extension's part in one handshake (RFC 6455 4.1 item 5, 4.2.2 item 5, 9.1). It is made
// from that side's options and keeps what was agreed, which the handshake then reports.
class ExtensionNegotiation {
 public:
  virtual ~ExtensionNegotiation() = default;

  // The registered name its elements begin with (RFC 6455 11.4).
  virtual std::string_view name() const noexcept = 0;

  // ---- client ----
  // Its options are valid beside the elements the client sends as given (`other_elements`);
  // false makes the handshake fail with Error::handshake_invalid_option.
  virtual bool options_valid(std::span<const std::string_view> other_elements) const noexcept = 0;
  // Adds its offers, in the client's order of preference (none: nothing to offer).
  virtual void offer(ElementSink& sink) const = 0;
  // Checks the server's answer, the response's elements (every one the server accepted, all
  // offered by us): Error::ok when it answered none of ours, or one it may give (then agreed).
  virtual Error check(const FieldList& answers) noexcept = 0;

  // ---- server ----
  // Accepts one of the client's offers (true) or declines them all; it forgets any earlier
  // agreement either way.
  virtual bool accept(const FieldList& offers) noexcept = 0;
  // Writes the answer to the accepted offer at `out`, which has room for the implementation's
  // max_answer_size; returns the end.
  virtual char* answer(char* out) const noexcept = 0;
};

// What one inbound call did.
struct InboundStep {
  std::size_t consumed = 0;   // input bytes taken
  std::size_t produced = 0;   // output bytes written
  bool at_boundary = true;    // the output so far may end the message (nothing half-decoded)
  Error error = Error::ok;    // the input cannot be decoded (its close code is sent)
};

class Extension {
 public:
  virtual ~Extension() = default;

  // The RSV bits (frame.hpp's rsv1..rsv3) this extension defines on a data message's first
  // frame; never on a continuation or control frame.
  virtual std::uint8_t rsv_bits() const noexcept = 0;

  // ---- inbound: one message at a time, its payload in pieces as its frames arrive ----
  virtual Error begin_inbound() noexcept = 0;
  // The message has no payload bytes at all: nothing is to be decoded.
  virtual void inbound_is_empty() noexcept = 0;
  // Decodes from `in` (may be empty) into out[0, room); `message_ends`: the message's last
  // payload byte is the last of `in`. Called again while there is input or inbound_pending().
  virtual InboundStep inbound(std::span<const std::byte> in, bool message_ends, std::byte* out,
                              std::size_t room) noexcept = 0;
  // Output it can still produce without more input (with message_ends: its end included).
  virtual bool inbound_pending(bool message_ends) const noexcept = 0;
  // The whole message was decoded; `at_boundary` from the last step. Error::ok or why the
  // message is malformed.
  virtual Error finish_inbound(bool at_boundary) const noexcept = 0;

  // ---- outbound ----
  // Whether a message that starts with `size` bytes (the whole message when `whole`) is
  // transformed; all its frames are then.
  virtual bool transforms_outbound(std::size_t size, bool whole) const noexcept = 0;
  // The most bytes outbound() writes for n input bytes; 0 when it cannot start (memory).
  virtual std::size_t outbound_bound(std::size_t n) noexcept = 0;
  // Transforms one frame's data (`ends`: the message's last) into `out`, at least
  // outbound_bound(in.size()) bytes; sets `size` to the bytes written. Error::ok or
  // Error::compression_failed (its state, and the peer's, are then unknown).
  virtual Error outbound(std::span<const std::byte> in, bool ends, std::span<std::byte> out,
                         std::size_t& size) noexcept = 0;

  // Nonzero when what outbound() writes for a whole message depends on nothing but the message
  // and this value: no state is carried from one message to the next, and connections with
  // equal values write equal bytes, so one compressed frame can serve them all (a prepared
  // message's shared variant). 0 when the output depends on earlier messages.
  virtual std::uint32_t stateless_outbound_config() const noexcept = 0;

  // Kept here, so that a connection without an extension does not carry them: the buffer for a
  // message part transformed before it is framed, and the bytes decoded of the message being
  // received (counted against Limits::max_message_size).
  ByteBuffer outbound_buffer;
  std::uint64_t inbound_decoded = 0;
};

}  // namespace wsframe::detail
