#!/usr/bin/env python3
"""Writes the seed corpus of one fuzz target into a folder (deterministic; files named by hash).

    tools/fuzz/seeds.py <target> <folder>

The seeds are the shapes the unit tests use: lengths around vector widths for the kernels, the
RFC 6455 examples and typical browser handshakes for the protocol targets. A target without
seeds here starts from an empty corpus.
"""
import base64
import hashlib
import os
import random
import struct
import sys

rng = random.Random(0x5EED)

# Lengths around every vector width and 4x-unrolled body (16, 32, 64 bytes; 64..256).
EDGE_LENGTHS = sorted({n + d for n in (0, 4, 8, 16, 32, 64, 128, 256, 512, 1024) for d in (-1, 0, 1, 3)
                       if n + d >= 0} | {4093})


def random_bytes(n):
    return bytes(rng.getrandbits(8) for _ in range(n))


def header(opcode, n, fin=True, mask=None, rsv=0, length_form=None):
    """The header of one RFC 6455 frame with an n-byte payload; length_form forces 7/16/64 bits."""
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    form = length_form or (7 if n < 126 else 16 if n < 65536 else 64)
    mask_bit = 0x80 if mask else 0
    if form == 7:
        head = bytes([first, mask_bit | n])
    elif form == 16:
        head = bytes([first, mask_bit | 126]) + struct.pack(">H", n)
    else:
        head = bytes([first, mask_bit | 127]) + struct.pack(">Q", n)
    return head + (mask or b"")


def frame(opcode, payload, fin=True, mask=None, rsv=0, length_form=None):
    """One whole frame; mask is 4 bytes (the payload is masked with it) or None."""
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header(opcode, len(payload), fin, mask, rsv, length_form) + payload


def frame_streams(masked):
    key = (lambda: random_bytes(4)) if masked else (lambda: None)
    close = struct.pack(">H", 1000) + b"bye"
    yield frame(0x1, b"Hello", mask=key())                                   # RFC 6455 5.7
    yield frame(0x1, b"Hel", fin=False, mask=key()) + frame(0x0, b"lo", mask=key())
    yield frame(0x9, b"Hello", mask=key()) + frame(0xA, b"", mask=key())
    yield frame(0x2, random_bytes(256), mask=key()) + frame(0x2, random_bytes(300), mask=key())
    yield frame(0x2, random_bytes(70000), mask=key())
    yield frame(0x1, "κόσμε".encode(), mask=key()) + frame(0x8, close, mask=key())
    yield frame(0x1, b"\xce\xba\xe1", fin=False, mask=key()) + frame(0x9, b"", mask=key()) + \
        frame(0x0, b"\xbd\x83\xce\xbc\xce\xb5", mask=key())
    yield frame(0x2, b"abc", mask=key(), length_form=64)                      # non-minimal length
    yield frame(0x2, b"abc", mask=key(), rsv=1)                               # RSV without extension
    yield frame(0x3, b"", mask=key())                                         # reserved opcode
    yield frame(0x0, b"x", mask=key())                                        # continuation first
    yield frame(0x8, b"\x03", mask=key())                                     # 1-byte close
    yield frame(0x8, struct.pack(">H", 1005), mask=key())                     # reserved close code
    yield frame(0x9, b"x" * 126, mask=key(), length_form=16)                  # oversized control
    yield frame(0x1, b"\xed\xa0\x80", mask=key())                             # surrogate
    yield frame(0x2, b"", mask=None if masked else random_bytes(4))           # wrong masking
    yield bytes([0x82, 0xFF]) + b"\x80" + b"\0" * 7                           # 64-bit top bit set



def compressed_streams(masked):
    """permessage-deflate streams (RFC 7692 7.2.3 and zlib output); run with a seed that turns it on."""
    import zlib
    key = (lambda: random_bytes(4)) if masked else (lambda: None)
    hello = bytes([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])
    yield frame(0x1, hello, mask=key(), rsv=4) + frame(0x1, bytes([0xf2, 0x00, 0x11, 0x00, 0x00]), mask=key(), rsv=4)
    yield frame(0x1, hello[:3], fin=False, mask=key(), rsv=4) + frame(0x0, hello[3:], mask=key())
    yield frame(0x1, bytes([0x00, 0x05, 0x00, 0xfa, 0xff]) + b"Hello\x00", mask=key(), rsv=4)
    yield frame(0x1, bytes([0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]), mask=key(), rsv=4)
    texts = [(0x1, b"a" * 5000), (0x1, "κόσμε €".encode() * 40), (0x1, b"\xc0\xaf" + b"x" * 300),
             (0x2, random_bytes(600))]
    for opcode, text in texts:
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        data = c.compress(text) + c.flush(zlib.Z_SYNC_FLUSH)
        yield frame(opcode, data[:-4], mask=key(), rsv=4)
    yield frame(0x2, bytes([0xff, 0xff]), mask=key(), rsv=4)                  # not DEFLATE


REQUEST = (b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           b"Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n"
           b"Sec-WebSocket-Version: 13\r\n\r\n")


def server_handshakes():
    yield REQUEST                                                            # RFC 6455 1.3
    yield REQUEST + frame(0x1, b"pipelined", mask=b"\x01\x02\x03\x04")
    yield REQUEST.replace(b"Connection: Upgrade", b"connection: keep-alive, Upgrade")
    yield REQUEST.replace(b"Upgrade: websocket", b"UPGRADE: WebSocket")
    yield REQUEST.replace(b"GET", b"POST")
    yield REQUEST.replace(b"HTTP/1.1", b"HTTP/1.0")
    yield REQUEST.replace(b"Sec-WebSocket-Version: 13", b"Sec-WebSocket-Version: 8")
    yield REQUEST.replace(b"dGhlIHNhbXBsZSBub25jZQ==", b"dGhlIHNhbXBsZSBub25jZQ")
    yield REQUEST.replace(b"Host: server.example.com\r\n", b"")
    yield REQUEST.replace(b"\r\n\r\n", b"\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n\r\n")
    yield REQUEST.replace(b"/chat", b"/" + b"a" * 3000)
    yield REQUEST.replace(b"\r\n", b"\n")
    # permessage-deflate offers (RFC 7692): a browser's, then a malformed one before a full one
    yield REQUEST.replace(b"\r\n\r\n", b"\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")
    yield REQUEST.replace(b"\r\n\r\n", b"\r\nSec-WebSocket-Extensions: x-foo, permessage-deflate; server_max_window_bits=16, "
                          b"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                          b"server_max_window_bits=\"9\"; client_max_window_bits=11\r\n\r\n")
    # message framing and Host (RFC 9112 3.2, 6.3), and an absolute-form target
    yield REQUEST.replace(b"\r\n\r\n", b"\r\nContent-Length: 0\r\n\r\n")
    yield REQUEST.replace(b"\r\n\r\n", b"\r\nContent-Length: 5\r\n\r\nhello")
    yield REQUEST.replace(b"\r\n\r\n", b"\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    yield REQUEST.replace(b"server.example.com", b"[2001:db8::1]:8080")
    yield REQUEST.replace(b"server.example.com", b"user@server.example.com:65536")
    yield REQUEST.replace(b"GET /chat", b"GET ws://a.example:9001/chat?x=1")
    yield b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" \
          b"Sec-WebSocket-Key: " + base64.b64encode(random_bytes(16)) + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"


RESPONSE = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            b"Sec-WebSocket-Protocol: chat\r\n\r\n")


def client_handshakes():
    # The fuzz target's request uses the RFC 6455 1.3 sample key, so these accept keys match.
    yield RESPONSE
    yield RESPONSE + frame(0x1, b"early", mask=None)
    yield RESPONSE.replace(b"Sec-WebSocket-Protocol: chat\r\n", b"")
    yield RESPONSE.replace(b"101 Switching Protocols", b"200 OK")
    yield RESPONSE.replace(b"HTTP/1.1", b"HTTP/1.0")
    yield RESPONSE.replace(b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", b"s3pPLMBiTxaQ9kYGzzhZRbK+xOA=")
    yield RESPONSE.replace(b"\r\n\r\n", b"\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n")
    yield RESPONSE.replace(b"\r\n\r\n", b"\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
                           b"server_max_window_bits=10; client_max_window_bits=9\r\n\r\n")
    yield RESPONSE.replace(b"\r\n\r\n", b"\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=12\r\n\r\n")
    yield RESPONSE.replace(b"Connection: Upgrade", b"Connection: keep-alive")
    yield b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"


def headers():
    for opcode in (0x0, 0x1, 0x2, 0x8, 0x9, 0xA, 0x3, 0xF):
        for n in (0, 125, 126, 65535, 65536):
            for mask in (None, b"\x37\xfa\x21\x3d"):
                yield header(opcode, n, mask=mask)
    for form in (7, 16, 64):
        yield header(0x2, 5, length_form=form)                                # non-minimal lengths
    yield header(0x2, 5, fin=False, rsv=7)
    yield bytes([0x82, 0x7E, 0x00])                                           # truncated length
    yield bytes([0x82, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])  # top bit set


def utf8():
    samples = ["", "a", "κόσμε", "€", "𐍈", "\U0010FFFF", "\uFFFD", "hello, world" * 20,
               "ascii then é" + "x" * 100 + "𝄞" * 30]
    for s in samples:
        yield s.encode()
    for bad in (b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\xff", b"\x80",
                b"a" * 63 + b"\xe2\x82\xac", b"a" * 31 + b"\xf0\x9d\x84"):
        yield bad
    for n in EDGE_LENGTHS:
        yield bytes(rng.choice(b"abcdefgh ") for _ in range(n))
    yield from block_texts()


# Lengths at every block multiple of the UTF-8 kernels (16, 32, 64 bytes, two 64-byte blocks, and
# the 4x-unrolled bodies) and one byte around them: where the last block is handled apart.
BLOCK_LENGTHS = sorted({m + d for m in (16, 32, 64, 128, 256) for d in (-1, 0, 1)})

# Endings put at the very end of a text: valid ones, sequences left open, and impossible bytes.
ENDINGS = (b"", "é".encode(), "€".encode(), "😀".encode(), b"\xc2", b"\xe2\x82", b"\xf0\x9f\x98", b"\xff", b"\xc0",
           b"\xed\xa0", b"\x80")


def block_texts():
    """Texts of every BLOCK_LENGTHS length, ASCII and mixed, each with every ending at the end."""
    mixed = "aé€😀".encode() * 80
    for n in BLOCK_LENGTHS:
        for ending in ENDINGS:
            if len(ending) > n:
                continue
            yield b"a" * (n - len(ending)) + ending
            body = mixed[:n - len(ending)]
            while body and body.decode("utf-8", "ignore").encode() != body:
                body = body[:-1]
            yield body + b"b" * (n - len(ending) - len(body)) + ending


def unmask_utf8_inputs():
    for i, text in enumerate(block_texts()):
        yield (b"\x37\xfa\x21\x3d" if i % 2 else b"\x00\x00\x00\x00") + text


def single_frames():
    # flags: bit 0 server (masked frames), bit 1 deliver_fragments, bit 2 binary
    for i, text in enumerate(block_texts()):
        yield bytes([1 | (2 if i % 3 == 0 else 0)]) + b"\x37\xfa\x21\x3d" + text
        if i % 4 == 0:
            yield bytes([0]) + b"\0\0\0\0" + text


def base64_inputs():
    for n in EDGE_LENGTHS:
        raw = random_bytes(n)
        yield raw
        yield base64.b64encode(raw)
    yield b"dGhlIHNhbXBsZSBub25jZQ=="
    yield b"dGhlIHNhbXBsZSBub25jZR=="                                         # non-canonical bits
    yield b"====" + b"AAA=" + b"A\nAA"


def mask_inputs():
    for n in EDGE_LENGTHS:
        # FuzzedDataProvider takes the parameters from the end and the payload from the front.
        yield random_bytes(n) + random_bytes(16)


GENERATORS = {
    "fuzz_mask": mask_inputs,
    "fuzz_utf8": utf8,
    "fuzz_base64": base64_inputs,
    "fuzz_header": headers,
    "fuzz_handshake_server": server_handshakes,
    "fuzz_handshake_client": client_handshakes,
    "fuzz_connection_server": lambda: frame_streams(masked=True),
    "fuzz_connection_client": lambda: frame_streams(masked=False),
    "fuzz_unmask_utf8": unmask_utf8_inputs,
    "fuzz_single_frame": single_frames,
}


# Targets whose first two input bytes seed the cut points of the stream that follows.
SPLIT_TARGETS = {"fuzz_handshake_server", "fuzz_handshake_client", "fuzz_connection_server", "fuzz_connection_client"}


def main():
    target, folder = sys.argv[1], sys.argv[2]
    os.makedirs(folder, exist_ok=True)
    seeds = list(GENERATORS.get(target, lambda: ())())
    if target in SPLIT_TARGETS:
        seeds = [prefix + s for s in seeds for prefix in (b"\0\0", b"\x01\x7f")]
    if target.startswith("fuzz_connection_"):  # the seed's top bit turns permessage-deflate on
        seeds += [prefix + s for s in compressed_streams(target.endswith("server"))
                  for prefix in (b"\0\xf0", b"\x05\x80")]
    for seed in seeds:
        name = hashlib.sha1(seed).hexdigest()
        with open(os.path.join(folder, name), "wb") as f:
            f.write(seed)


if __name__ == "__main__":
    main()
