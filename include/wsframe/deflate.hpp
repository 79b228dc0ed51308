// wsframe — permessage-deflate (RFC 7692): the negotiated parameters and the compressor's tuning.
//
// Off unless the embedding code enables it:
//
//   // server
//   wsframe::ServerHandshake hs({.deflate = wsframe::DeflateParameters{}});   // accept offers
//   if (hs.feed(bytes).status != wsframe::HandshakeStatus::accept) return;  // or feed more
//   wsframe::Connection conn(wsframe::Role::server, limits, {.deflate = hs.deflate()});
//
//   // client
//   const wsframe::DeflateParameters offers[] = {{.client_max_window_bits = 12}, {}};
//   wsframe::ClientHandshake hs({.host = "example.com", .deflate_offers = offers});
//   if (hs.feed(bytes).status != wsframe::HandshakeStatus::accept) return;  // or feed more
//   wsframe::Connection conn(wsframe::Role::client, limits, {.deflate = hs.deflate()});
//
// The handshake settles the four parameters of RFC 7692 section 7.1; ConnectionOptions::deflate
// takes the result (nullopt: no compression, and RSV1 stays a protocol error) and
// ConnectionOptions::compression the local tuning. A compressed message has RSV1 on its first
// frame; it is inflated as its frames arrive, under Limits::max_message_size counted in inflated
// bytes (a decompression bomb ends in a 1009 close after at most that many bytes, never in a
// larger allocation), and a text message's inflated bytes are UTF-8 checked as they come out.
// max_frame_size and max_message_size also bound the compressed bytes on the wire (incompressible
// data grows by about 0.03%). Control frames are never compressed (RFC 7692 section 6.1).
//
// Memory for a reassembled compressed message is bounded like any reassembled message: the
// buffer at most max_message_size, plus, while it grows, the smaller one it is copied from (at
// worst about 2x the limit for a limit just above a power of two, 1.5x at a power of two). With
// ConnectionOptions::deliver_fragments it is 16 KiB whatever the message.
//
// Memory per connection, when used: zlib's compressor needs about 2^(window_bits+2) +
// 2^(mem_level+9) bytes (256 KiB at 15 and 8) and its decompressor 39 KiB (a 32 KiB window
// whatever the peer's agreed window bits: zlib can check a smaller window only across its calls,
// which would make a peer's overstepping accepted or not depending on how its bytes were cut;
// a peer that oversteps is therefore not detected). Each is created when the first compressed
// message is sent or received. Our window bits and mem_level are the way to trade ratio for
// the compressor's memory on servers with many connections.
//
// Prepared messages (connection.hpp) and compression: a server whose agreement has
// server_no_context_takeover resets its compressor after each message (7.1.1.1), so its bytes for
// a message depend only on the compressor's settings (server_max_window_bits as agreed, and
// CompressionOptions::level and mem_level; the threshold only decides whether it compresses).
// Such connections share one compressed frame per prepared message and settings, made by the
// first of them to send it (with its own compressor: no extra zlib state), for up to
// PreparedMessage::max_compressed_variants distinct settings per message; beyond that, and with
// context takeover, each connection compresses the message itself, exactly as send_text would.
// Where many connections receive the same messages, server_no_context_takeover makes the
// compression cost per message rather than per recipient, and only the connections that ever
// compress hold a compressor.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wsframe {

// The extension parameters of RFC 7692 section 7.1: in an offer, an answer, or the agreement
// both handshakes end with. Window bits are 8..15 (the base-2 log of the LZ77 window).
struct DeflateParameters {
  // The server starts each message it compresses with an empty window (7.1.1.1).
  bool server_no_context_takeover = false;
  // The client does (7.1.1.2).
  bool client_no_context_takeover = false;
  // The largest window the server compresses with (7.1.2.1).
  std::uint8_t server_max_window_bits = 15;
  // The largest window the client compresses with (7.1.2.2).
  std::uint8_t client_max_window_bits = 15;

  friend bool operator==(const DeflateParameters&, const DeflateParameters&) = default;
};

// What each field means where DeflateParameters is an input:
//  - ServerOptions::deflate (what the server accepts): no_context_takeover flags are demanded in
//    the answer; server_max_window_bits caps the server's own window (the answer carries the
//    smaller of it and the client's request); client_max_window_bits caps the client's window
//    when the client's offer allows it (a client that did not offer client_max_window_bits
//    keeps 15, RFC 7692 7.1.2.2). Every valid offer is acceptable: an offer is declined only
//    when it is malformed (section 5: unknown or duplicate parameter, invalid value).
//  - ClientOptions::deflate_offers (what the client offers, in order of preference): the flags
//    and server_max_window_bits < 15 are requested; client_max_window_bits is always offered
//    (we honour a server's limit) and carries its value when < 15. The server's answer must
//    match one offer (section 5 and 7.1), else the handshake fails with
//    Error::handshake_invalid_deflate_response.

// Tuning of this endpoint's compressor; nothing here is negotiated.
struct CompressionOptions {
  int level = 6;               // zlib level: 0 (stored blocks, no compression) .. 9 (smallest)
  int mem_level = 8;           // zlib memLevel 1..9: compressor memory against speed and ratio
  std::size_t threshold = 32;  // send_text/send_binary under this many bytes go uncompressed
};

// True when the library was built with zlib. Without it, handshakes decline every
// permessage-deflate offer and ClientHandshake offers none, so compression is never agreed.
bool deflate_available() noexcept;

}  // namespace wsframe
