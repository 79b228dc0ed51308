#!/usr/bin/python3
"""Interop client: Python `websockets` (Debian python3-websockets 10.4) against an echo server.

    /usr/bin/python3 tests/interop/client.py ws://127.0.0.1:PORT [--only PREFIX] [--skip PREFIX]
                                             [--deflate [--deflate-expect PARAMS]]

Every case opens its own connection and prints `PASS <case>` or `FAIL <case>: <why>`; the exit
status is non-zero when any case fails. Every await has a deadline and the whole run has one.

Cases: echoes of text and binary messages of 0, 125, 126, 65535, 65536 and 16 MiB bytes, compared
byte for byte; fragmented messages (also a code point split across fragments, a ping between
fragments); pings; close with a code and reason; a pipelined burst; a declined compression offer;
then protocol errors written as raw frames beneath websockets' connection, after which the
server must close with the RFC 6455 7.4.1 code (websockets itself validates the close frame);
then malformed HTTP upgrade requests (cases `http_*`), which must get the status http_status() gives (400, 405, 426).

--deflate: every connection offers permessage-deflate (RFC 7692) and fails unless the server
accepts it; the echo cases then run compressed both ways (large compressible echoes must arrive
compressed), followed by the `deflate_*` cases: the agreement for each parameter variation
(no_context_takeover flags, window bits 8..15, two offers), context takeover over many messages,
and raw compressed frames (split into fragments, a BFINAL block, invalid data -> 1007, RSV1 on a
continuation or a ping -> 1002, decompression bombs -> 1009 with the server's peak memory shown).
--deflate-expect "server_max_window_bits=10;client_no_context_takeover": parameters every
agreement must carry (window bits at most the value): the server's wishes.
"""
import argparse
import asyncio
import os
import random
import signal
import struct
import sys
import time
import urllib.parse
import zlib

import websockets
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import OP_BINARY, OP_CONT, OP_TEXT

CASE_TIMEOUT = 60.0   # seconds per case (16 MiB echoes under ASan are the slowest)
STEP_TIMEOUT = 30.0   # seconds per await inside a case
RUN_TIMEOUT = 600     # seconds for the whole run
SIZES = [0, 125, 126, 65535, 65536, 16 * 1024 * 1024]

rng = random.Random(6455)

DEFLATE = False       # --deflate: every connection must agree on permessage-deflate
DEFLATE_EXPECT = {}   # --deflate-expect: parameter -> None (a flag) or the largest window bits
SERVER_MAX_MESSAGE = 16 << 20  # --max-message: the server's limit, for the bomb cases


def text_of_length(n):
    """A str whose UTF-8 form is exactly n bytes, mixing 1- to 4-byte code points."""
    unit = "κόσμε-€𝄞 abc "
    unit_bytes = unit.encode()
    s = unit * (n // len(unit_bytes))
    rest = n - len(s.encode())
    return s + "x" * rest


def binary_of_length(n):
    return rng.randbytes(n)


async def step(awaitable):
    return await asyncio.wait_for(awaitable, STEP_TIMEOUT)


async def connect(uri, offers=None, **options):
    """A connection; with --deflate it offers permessage-deflate (`offers`: the parameters of
    each offer, default one offer with websockets' defaults) and checks the agreement."""
    settings = dict(compression=None, max_size=None, ping_interval=None, close_timeout=10, open_timeout=10)
    if DEFLATE and offers is None:
        offers = [{}]
    if offers:
        settings["extensions"] = [ClientPerMessageDeflateFactory(**offer) for offer in offers]
    settings.update(options)
    ws = await step(websockets.connect(uri, **settings))
    if offers:
        check_agreement(ws, offers)
        record_received_frames(ws)
    return ws


def expect(condition, why):
    if not condition:
        raise AssertionError(why)


def describe(data):
    kind = "text" if isinstance(data, str) else "binary"
    size = len(data.encode()) if isinstance(data, str) else len(data)
    return f"{kind} of {size} bytes"


async def expect_echo(ws, sent):
    received = await step(ws.recv())
    expect_echoed(sent, received)


def expect_echoed(sent, received):
    expect(type(received) is type(sent), f"sent {describe(sent)}, received {describe(received)}")
    if received != sent:
        a = sent.encode() if isinstance(sent, str) else sent
        b = received.encode() if isinstance(received, str) else received
        first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
        raise AssertionError(f"echo differs: sent {len(a)} bytes, received {len(b)}, first difference at {first}")


async def close_normally(ws):
    await step(ws.close())
    expect(ws.close_code == 1000, f"close echo code {ws.close_code}, expected 1000")


# --- permessage-deflate: the agreement and what arrives compressed ----------------------------------

def agreement(ws):
    """The server's permessage-deflate answer as {parameter: value or None}."""
    header = ws.response_headers.get("Sec-WebSocket-Extensions", "")
    name, *params = [p.strip() for p in header.split(";")]
    expect(name == "permessage-deflate" and "," not in header, f"compression not agreed: extensions {header!r}")
    expect(len(ws.extensions) == 1, f"websockets agreed on {ws.extensions}")
    answer = {}
    for p in params:
        key, _, value = p.partition("=")
        answer[key.strip()] = value.strip().strip('"') or None
    return answer


def parse_parameters(spec):
    """"a;b=10" -> {"a": None, "b": 10}"""
    out = {}
    for p in filter(None, (p.strip() for p in spec.split(";"))):
        key, _, value = p.partition("=")
        out[key] = int(value) if value else None
    return out


def check_agreement(ws, offers):
    """RFC 7692 7.1: the answer honours one of our offers (websockets checks that too) and carries
    what --deflate-expect demands."""
    answer = agreement(ws)
    def honours(offer):
        if offer.get("server_no_context_takeover") and "server_no_context_takeover" not in answer:
            return False
        if offer.get("server_max_window_bits") and int(answer.get("server_max_window_bits") or 99) > offer["server_max_window_bits"]:
            return False
        client_bits = offer.get("client_max_window_bits", True)
        if client_bits is None and "client_max_window_bits" in answer:
            return False  # 7.1.2.2: not offered, so the server may not limit it
        return not isinstance(client_bits, int) or client_bits is True or \
            int(answer.get("client_max_window_bits") or client_bits) <= client_bits
    expect(any(honours(o) for o in offers), f"the answer {answer} honours none of the offers {offers}")
    for key, bits in DEFLATE_EXPECT.items():
        if key == "client_max_window_bits" and not any(o.get(key, True) for o in offers):
            continue  # the server can only limit a window the client offered to limit
        expect(key in answer, f"the answer {answer} lacks {key} (--deflate-expect)")
        expect(bits is None or int(answer[key]) <= bits, f"the answer has {key}={answer[key]}, expected <= {bits}")
    return answer


def record_received_frames(ws):
    """Notes for every data message received whether it was compressed (RSV1) and its size on
    the wire, in ws.received_messages, by wrapping the extension's decoder."""
    extension = ws.extensions[0]
    decode = extension.decode
    ws.received_messages = []
    def recording(frame, *, max_size=None):
        if frame.opcode in (OP_TEXT, OP_BINARY):
            ws.received_messages.append([frame.rsv1, 0])
        if frame.opcode in (OP_TEXT, OP_BINARY, OP_CONT) and ws.received_messages:
            ws.received_messages[-1][1] += len(frame.data)
        return decode(frame, max_size=max_size)
    extension.decode = recording


def expect_compressed(ws, size, ratio):
    """The last message received was compressed to at most size / ratio bytes on the wire."""
    compressed, wire = ws.received_messages[-1]
    expect(compressed, f"the echo of {size} compressible bytes arrived uncompressed")
    expect(wire * ratio <= size, f"the echo of {size} compressible bytes took {wire} bytes on the wire")
    return wire


# --- echo cases ------------------------------------------------------------------------------------

def echo_case(make, n):
    async def case(uri):
        ws = await connect(uri)
        message = make(n)
        await step(ws.send(message))
        await expect_echo(ws, message)
        # text_of_length repeats a short unit: any server compresses it (random binary it may not)
        if DEFLATE and isinstance(message, str) and n >= 1024:
            expect_compressed(ws, n, 10)
        await close_normally(ws)
    return case


async def fragmented_text(uri):
    ws = await connect(uri)
    parts = ["κό", "σμε", "", " – ", text_of_length(70000)]
    await step(ws.send(iter(parts)))  # websockets sends an iterable as one fragmented message
    await expect_echo(ws, "".join(parts))
    await close_normally(ws)


async def fragmented_binary(uri):
    ws = await connect(uri)
    parts = [binary_of_length(n) for n in (1, 0, 125, 126, 65536, 3)]
    await step(ws.send(iter(parts)))
    await expect_echo(ws, b"".join(parts))
    await close_normally(ws)


async def fragmented_many(uri):
    ws = await connect(uri)
    parts = [binary_of_length(100) for _ in range(1000)]
    await step(ws.send(iter(parts)))
    await expect_echo(ws, b"".join(parts))
    await close_normally(ws)


async def ping(uri):
    ws = await connect(uri)
    for payload in (b"", b"hello", binary_of_length(125)):
        waiter = await step(ws.ping(payload))
        await step(waiter)  # resolved by the pong carrying the same payload
    await close_normally(ws)


async def close_with_code_and_reason(uri):
    ws = await connect(uri)
    await step(ws.close(4000, "done here"))
    expect(ws.close_code == 4000, f"close echo code {ws.close_code}, expected 4000")


async def close_going_away(uri):
    ws = await connect(uri)
    await step(ws.close(1001, "going away"))
    expect(ws.close_code == 1001, f"close echo code {ws.close_code}, expected 1001")


async def exchange_pipelined(ws, messages):
    """Sends every message while reading the echoes (so neither side stalls the other)."""
    async def send_all():
        for m in messages:
            await ws.send(m)
    sender = asyncio.ensure_future(send_all())
    for m in messages:
        await expect_echo(ws, m)
    await step(sender)


async def burst(uri):
    ws = await connect(uri)
    messages = [text_of_length(rng.randrange(0, 3000)) if i % 2 else binary_of_length(rng.randrange(0, 70000))
                for i in range(500)]
    await exchange_pipelined(ws, messages)
    await close_normally(ws)


async def compression_offer_declined(uri):
    ws = await connect(uri, compression="deflate")  # offers permessage-deflate
    expect(not ws.extensions, f"server accepted extensions {ws.extensions}")
    await step(ws.send("compressible " * 100))
    await expect_echo(ws, "compressible " * 100)
    await close_normally(ws)


# --- raw frames beneath websockets' connection -----------------------------------------------------

def raw_frame(opcode, payload=b"", fin=True, rsv=0, masked=True, length=None):
    """A client frame with any header bits; length overrides the announced payload length."""
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    mask_bit = 0x80 if masked else 0
    if n < 126:
        head += bytes([mask_bit | n])
    elif n < 65536:
        head += bytes([mask_bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", n)
    if not masked:
        return head + payload
    key = rng.randbytes(4)
    keystream = (key * (len(payload) // 4 + 1))[:len(payload)]  # XOR as big integers: fast for MiBs
    return head + key + (int.from_bytes(payload, "big") ^ int.from_bytes(keystream, "big")).to_bytes(len(payload), "big")


async def fragmented_text_split_code_point(uri):
    ws = await connect(uri)
    word = "κόσμε".encode()
    ws.transport.write(raw_frame(0x1, word[:1], fin=False) + raw_frame(0x0, word[1:6], fin=False) +
                       raw_frame(0x0, word[6:]))
    await expect_echo(ws, "κόσμε")
    await close_normally(ws)


async def ping_between_fragments(uri):
    ws = await connect(uri)
    ws.transport.write(raw_frame(0x1, b"Hel", fin=False))
    waiter = await step(ws.ping(b"in the middle"))
    ws.transport.write(raw_frame(0x0, b"lo"))
    await step(waiter)
    await expect_echo(ws, "Hello")
    await close_normally(ws)


def server_rss_kib():
    """The echo server's resident set (pair.py passes its PID), or None."""
    pid = os.environ.get("WSFRAME_SERVER_PID")
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    except (OSError, TypeError, StopIteration):
        return None


async def backpressure(uri):
    """A client that sends but does not read: the server must stop reading from it (so our
    writes stall) instead of buffering without bound, and resume once we read the echoes."""
    ws = await connect(uri)
    chunk = rng.randbytes(64 * 1024)
    # All-zero masking key: the payload is sent as is (masking 64 KiB in Python is slow).
    frame = bytes([0x82, 0xFF]) + struct.pack("!Q", len(chunk)) + bytes(4) + chunk
    rss_before = server_rss_kib()
    ws.transport.pause_reading()  # we do not read: the server's echoes pile up
    sent, limit = 0, 512 << 20
    while sent < limit:
        ws.transport.write(frame)
        sent += len(chunk)
        if ws.transport.get_write_buffer_size() > (8 << 20):
            await asyncio.sleep(0.5)  # give the server time to read what it will
            if ws.transport.get_write_buffer_size() > (8 << 20):
                break  # stalled: the server stopped reading us
    expect(sent < limit, f"the server kept reading {sent >> 20} MiB without our reading any echo")
    rss_after = server_rss_kib()
    note = f"stalled after {sent >> 20} MiB"
    if rss_before is not None and rss_after is not None:
        grown = (rss_after - rss_before) >> 10
        expect(grown < 64, f"server RSS grew by {grown} MiB for one client that does not read")
        note += f", server RSS {rss_before >> 10} -> {rss_after >> 10} MiB"
    ws.transport.resume_reading()
    messages = sent // len(chunk)
    for _ in range(messages):
        echo = await step(ws.recv())
        expect(echo == chunk, "an echo differs after backpressure")
    await close_normally(ws)
    return note


async def expect_close(ws, code):
    try:
        message = await step(ws.recv())
        raise AssertionError(f"received a {describe(message)} instead of a close")
    except ConnectionClosed:
        pass
    await step(ws.wait_closed())
    expect(ws.close_code == code, f"server closed with {ws.close_code}, expected {code}")


def protocol_error_case(raw, code):
    async def case(uri):
        ws = await connect(uri)
        ws.transport.write(raw)
        await expect_close(ws, code)
    return case


def close_payload(code, reason=b""):
    return struct.pack("!H", code) + reason


PROTOCOL_ERRORS = [
    # name, raw bytes, close code (RFC 6455 7.4.1)
    ("rsv1_without_extension", raw_frame(0x1, b"x", rsv=4), 1002),
    ("rsv3_without_extension", raw_frame(0x2, b"x", rsv=1), 1002),
    ("reserved_data_opcode_3", raw_frame(0x3, b""), 1002),
    ("reserved_control_opcode_11", raw_frame(0xB, b""), 1002),
    ("ping_payload_126_bytes", raw_frame(0x9, b"p" * 126), 1002),
    ("fragmented_ping", raw_frame(0x9, b"p", fin=False), 1002),
    ("continuation_without_start", raw_frame(0x0, b"x"), 1002),
    ("new_message_inside_fragmented_one", raw_frame(0x1, b"a", fin=False) + raw_frame(0x1, b"b"), 1002),
    ("unmasked_client_frame", raw_frame(0x1, b"x", masked=False), 1002),
    ("length_with_top_bit_set", raw_frame(0x2, b"", length=1 << 63), 1002),
    ("message_of_one_tebibyte_announced", raw_frame(0x2, b"", length=1 << 40), 1009),
    ("invalid_utf8_text", raw_frame(0x1, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"), 1007),
    ("invalid_utf8_across_fragments", raw_frame(0x1, b"ok \xf4", fin=False) + raw_frame(0x0, b"\x90\x80\x80"), 1007),
    ("close_one_byte_payload", raw_frame(0x8, b"\x03"), 1002),
    ("close_code_999", raw_frame(0x8, close_payload(999)), 1002),
    ("close_reserved_code_1005", raw_frame(0x8, close_payload(1005)), 1002),
    ("close_reserved_code_1015", raw_frame(0x8, close_payload(1015)), 1002),
    ("close_code_5000", raw_frame(0x8, close_payload(5000)), 1002),
    ("close_invalid_utf8_reason", raw_frame(0x8, close_payload(1000, b"\xc0\xaf")), 1007),
]


# --- permessage-deflate cases (--deflate) -----------------------------------------------------------

def json_message(i):
    """A typical small trading message: similar to its neighbours, as context takeover likes."""
    return (f'{{"type":"trade","seq":{i},"symbol":"EURUSD","price":{1.0842 + i * 1e-4:.4f},'
            f'"qty":{(i * 37) % 1000},"side":"{"buy" if i % 2 else "sell"}"}}')


def deflate_variation_case(offers):
    """One agreement: echoes of every kind of message under it, pipelined, then a fragmented one."""
    async def case(uri):
        ws = await connect(uri, offers=offers)
        big_text = text_of_length(100_000)
        messages = ["", "a", big_text, binary_of_length(70_000), "".join(map(json_message, range(500))).encode(),
                    *map(json_message, range(100))]
        await exchange_pipelined(ws, messages)
        ws.received_messages[:] = ws.received_messages[2:3]  # the echo of big_text
        expect_compressed(ws, len(big_text.encode()), 10)
        parts = ["κό", "σμε", "", text_of_length(20_000)]
        await step(ws.send(iter(parts)))
        await expect_echo(ws, "".join(parts))
        await close_normally(ws)
        return "agreed " + ws.response_headers["Sec-WebSocket-Extensions"]
    return case


DEFLATE_VARIATIONS = [
    # name, offers (ClientPerMessageDeflateFactory parameters, in order of preference)
    ("client_max_window_bits_without_value", [{}]),
    ("client_max_window_bits_not_offered", [dict(client_max_window_bits=None)]),
    ("client_no_context_takeover", [dict(client_no_context_takeover=True)]),
    ("server_no_context_takeover", [dict(server_no_context_takeover=True)]),
    ("both_no_context_takeover", [dict(client_no_context_takeover=True, server_no_context_takeover=True)]),
    # 8 is left out: zlib (so websockets) cannot compress with a raw 8-bit window
    *[(f"client_max_window_bits_{b}", [dict(client_max_window_bits=b)]) for b in range(9, 16)],
    # 8: the server compresses with 9 bits (zlib's smallest) and keeps distances in 256 bytes
    *[(f"server_max_window_bits_{b}", [dict(server_max_window_bits=b)]) for b in range(8, 16)],
    ("smallest_windows_no_context_takeover", [dict(server_max_window_bits=9, client_max_window_bits=9,
                                                   server_no_context_takeover=True, client_no_context_takeover=True)]),
]


async def deflate_agreement(uri):
    ws = await connect(uri)
    note = "agreed " + ws.response_headers["Sec-WebSocket-Extensions"] + f"; websockets: {ws.extensions[0]!r}"
    await close_normally(ws)
    return note


async def deflate_two_offers_first_chosen(uri):
    first = dict(server_max_window_bits=10, client_max_window_bits=11, server_no_context_takeover=True)
    ws = await connect(uri, offers=[first, {}])
    answer = agreement(ws)
    expect("server_no_context_takeover" in answer and int(answer.get("server_max_window_bits", 15)) <= 10,
           f"the server answered {answer}, not the first offer")
    await exchange_pipelined(ws, [text_of_length(30_000), binary_of_length(30_000), *map(json_message, range(20))])
    await close_normally(ws)
    return "agreed " + ws.response_headers["Sec-WebSocket-Extensions"]


async def deflate_context_takeover_1000_messages(uri):
    """Many similar messages in a row: with context takeover each refers to the ones before."""
    ws = await connect(uri)
    messages = [json_message(i) for i in range(1000)]
    await exchange_pipelined(ws, messages)
    size = sum(len(m) for m in messages)
    wire = sum(w for _, w in ws.received_messages)
    compressed = sum(c for c, _ in ws.received_messages)
    takeover = "server_no_context_takeover" not in agreement(ws)
    if takeover:
        expect(compressed == len(messages), f"only {compressed} of {len(messages)} echoes arrived compressed")
        expect(wire * 2 < size, f"{size} bytes took {wire} on the wire despite context takeover")
    await close_normally(ws)
    return f"{compressed} echoes compressed, {size} bytes in {wire} on the wire ({'with' if takeover else 'without'} context takeover)"


def deflate_raw(data, level=6):
    """data as one raw DEFLATE message (RFC 7692 7.2.1: sync flush, 00 00 FF FF removed). A 9-bit
    window suits any agreement (zlib keeps its distances within 250 bytes at 9 bits, which even
    an 8-bit window holds)."""
    c = zlib.compressobj(level, wbits=-9)
    return (c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]


async def deflate_raw_fragments_ping_between(uri):
    ws = await connect(uri)
    text = text_of_length(3000)
    c = deflate_raw(text.encode())
    third = len(c) // 3
    ws.transport.write(raw_frame(0x1, c[:third], fin=False, rsv=4) + raw_frame(0x9, b"between") +
                       raw_frame(0x0, c[third:2 * third], fin=False) + raw_frame(0x0, b"", fin=False) +
                       raw_frame(0x0, c[2 * third:]))
    await expect_echo(ws, text)
    await close_normally(ws)


async def deflate_raw_rfc7692_examples(uri):
    """RFC 7692 7.2.3: "Hello" compressed, as a BFINAL block (7.2.3.4) and as a stored block (7.2.3.3),
    an uncompressed message between them, then the shared-window form (7.2.3.2) that refers to
    the previous message: echoed with client context takeover; without it (client_no_context_takeover
    agreed) the server MAY start each message from an empty window (7.2.2): an echo or 1007."""
    ws = await connect(uri)
    ws.transport.write(raw_frame(0x1, bytes.fromhex("f348cdc9c90700 00"), rsv=4) + raw_frame(0x1, b"plain") +
                       raw_frame(0x1, bytes.fromhex("0005 00 faff 48656c6c6f 00"), rsv=4) +
                       raw_frame(0x1, bytes.fromhex("f248cdc9c90700"), rsv=4))
    for text in ("Hello", "plain", "Hello", "Hello"):
        await expect_echo(ws, text)
    ws.transport.write(raw_frame(0x1, bytes.fromhex("f200110000"), rsv=4))  # "Hello" again, distance 5
    if "client_no_context_takeover" not in agreement(ws):
        await expect_echo(ws, "Hello")
        await close_normally(ws)
        return "with context takeover"
    try:
        received = await step(ws.recv())
    except ConnectionClosed:
        expect(ws.close_code == 1007, f"server closed with {ws.close_code}, expected 1007 or an echo")
        return "client_no_context_takeover: the server inflates each message afresh (1007)"
    expect_echoed("Hello", received)
    await close_normally(ws)
    return "client_no_context_takeover: the server keeps its window (echoed)"


def server_peak_rss():
    """Resets the server's peak RSS (clear_refs 5) and returns a function giving
    (its resident set before the reset, its peak since) in KiB, or None."""
    pid = os.environ.get("WSFRAME_SERVER_PID")
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except (OSError, TypeError):
        return None
    before = server_rss_kib()
    def peak():
        try:
            with open(f"/proc/{pid}/status") as f:
                return before, next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
        except (OSError, StopIteration):
            return None
    return peak


def bomb_case(send_bomb, inflated):
    """A compressed message that inflates to `inflated` bytes (a function of the server's limit):
    the server must close with 1009, as it counts inflated bytes against its limit, and its peak
    memory stay bounded by the limit however large the bomb: at most the reassembly buffer at the
    limit and the one it grew from (under 2x), plus the allocator's slack (16 MiB: under ASan its
    quarantine keeps the smaller buffers)."""
    async def case(uri):
        ws = await connect(uri)
        size = inflated(SERVER_MAX_MESSAGE)
        peak = server_peak_rss()
        await send_bomb(ws, size)
        await expect_close(ws, 1009)
        measured = peak() if peak else None
        note = f"{size >> 20} MiB bomb, server limit {SERVER_MAX_MESSAGE / (1 << 20):g} MiB"
        if measured is None or measured[0] is None:
            return note + "; server memory not measured"
        before, highest = measured
        grown = highest - before
        bound = (3 * SERVER_MAX_MESSAGE + (16 << 20)) >> 10
        expect(grown <= bound, f"the server's peak RSS grew by {grown >> 10} MiB ({note})")
        return note + f"; server RSS {before >> 10} MiB, peak {highest >> 10} MiB (+{grown / 1024:.1f} MiB)"
    return case


async def send_raw_bomb(ws, inflated):
    # 1 MiB of zeros ends on a sync flush, so the stream can restart it: repeated, it inflates to
    # as many MiB (compressing the whole would take Python half a minute for 1 GiB).
    c = zlib.compressobj(9, wbits=-9)
    mebibyte = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_SYNC_FLUSH)
    ws.transport.write(raw_frame(0x2, (mebibyte * (inflated >> 20))[:-4], rsv=4))


async def send_bomb_through_websockets(ws, inflated):
    await step(ws.send(bytes(inflated)))  # websockets compresses it: ~1000:1


DEFLATE_ERRORS = [
    # name, raw bytes, close code: under permessage-deflate (RFC 7692 6, 6.1, 7.2.2)
    ("invalid_compressed_data", raw_frame(0x2, b"\xff\xff\xff\xff", rsv=4), 1007),  # BTYPE 11 is reserved
    # A stored block (level 0) of 1000 bytes cut after 95: the appended tail cannot complete it.
    # (Cut inside a Huffman block, the tail's bits may decode as an end of block: valid DEFLATE.)
    ("compressed_data_cut_inside_a_block", raw_frame(0x2, deflate_raw(rng.randbytes(1000), level=0)[:100], rsv=4), 1007),
    ("compressed_text_invalid_utf8", raw_frame(0x1, deflate_raw(b"ok \xed\xa0\x80 a surrogate"), rsv=4), 1007),
    ("rsv1_on_a_continuation_frame", raw_frame(0x1, deflate_raw(b"Hello")[:2], fin=False, rsv=4) +
     raw_frame(0x0, deflate_raw(b"Hello")[2:], rsv=4), 1002),
    ("rsv1_on_a_ping", raw_frame(0x9, b"", rsv=4), 1002),
    ("rsv2_with_deflate", raw_frame(0x1, b"x", rsv=2), 1002),
]


def deflate_cases():
    cases = [("deflate_agreement", deflate_agreement)]
    cases += [(f"deflate_offer_{name}", deflate_variation_case(offers)) for name, offers in DEFLATE_VARIATIONS]
    cases += [
        ("deflate_two_offers_first_chosen", deflate_two_offers_first_chosen),
        ("deflate_context_takeover_1000_messages", deflate_context_takeover_1000_messages),
        ("deflate_raw_fragments_ping_between", deflate_raw_fragments_ping_between),
        ("deflate_raw_rfc7692_examples", deflate_raw_rfc7692_examples),
    ]
    cases += [(f"error_deflate_{name}", protocol_error_case(raw, code)) for name, raw, code in DEFLATE_ERRORS]
    cases += [
        # ~1000:1, so it stays under the limit on the wire (a larger one would be refused unread)
        ("error_deflate_bomb_raw_512x_limit_up_to_1_GiB", bomb_case(send_raw_bomb, lambda limit: min(512 * limit, 1 << 30))),
        ("error_deflate_bomb_from_websockets_4x_limit", bomb_case(send_bomb_through_websockets, lambda limit: 4 * limit)),
    ]
    return cases


# --- HTTP upgrade requests (raw TCP) ---------------------------------------------------------------

def upgrade_request(host, method="GET", version="HTTP/1.1", key="dGhlIHNhbXBsZSBub25jZQ==", ws_version="13",
                    extra=""):
    lines = [f"{method} / {version}", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade"]
    if key is not None:
        lines.append(f"Sec-WebSocket-Key: {key}")
    if ws_version is not None:
        lines.append(f"Sec-WebSocket-Version: {ws_version}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


def http_case(make_request, status, header=None):
    async def case(uri):
        parsed = urllib.parse.urlparse(uri)
        reader, writer = await step(asyncio.open_connection(parsed.hostname, parsed.port))
        try:
            writer.write(make_request(parsed.netloc))
            head = await step(reader.readuntil(b"\r\n\r\n"))
            status_line, *fields = head.decode("latin-1").split("\r\n")
            got = int(status_line.split()[1])
            allowed = status if isinstance(status, tuple) else (status,)
            expect(got in allowed, f"status line {status_line!r}, expected {' or '.join(map(str, allowed))}")
            if header:
                names = {f.split(":", 1)[0].strip().lower(): f.split(":", 1)[1].strip() for f in fields if ":" in f}
                expect(names.get(header[0].lower()) == header[1], f"missing header {header[0]}: {header[1]}")
            # The server closes the connection after a rejection (it sends Connection: close).
            await step(reader.read())
        finally:
            writer.close()
    return case


HTTP_CASES = [
    ("http_missing_key", lambda h: upgrade_request(h, key=None), 400, None),
    ("http_key_not_16_bytes", lambda h: upgrade_request(h, key="dGhlIHNhbXBsZQ=="), 400, None),
    ("http_version_8", lambda h: upgrade_request(h, ws_version="8"), 426, ("Sec-WebSocket-Version", "13")),
    ("http_post", lambda h: upgrade_request(h, method="POST"), 405, None),
    ("http_missing_upgrade", lambda h: upgrade_request(h).replace(b"Upgrade: websocket\r\n", b""), (400, 426), None),
]


def all_cases():
    cases = []
    for kind, make in (("text", text_of_length), ("binary", binary_of_length)):
        for n in SIZES:
            cases.append((f"echo_{kind}_{n}", echo_case(make, n)))
    cases += [
        ("fragmented_text", fragmented_text),
        ("fragmented_binary", fragmented_binary),
        ("fragmented_1000_pieces", fragmented_many),
        ("fragmented_text_split_code_point", fragmented_text_split_code_point),
        ("ping", ping),
        ("ping_between_fragments", ping_between_fragments),
        ("close_with_code_and_reason", close_with_code_and_reason),
        ("close_going_away", close_going_away),
        ("burst_of_500_pipelined", burst),
    ]
    if not DEFLATE:
        cases.append(("compression_offer_declined", compression_offer_declined))
    cases.append(("backpressure_client_that_does_not_read", backpressure))
    # Under permessage-deflate RSV1 is allowed (and "x" happens to inflate to an empty message).
    cases += [(f"error_{name}", protocol_error_case(raw, code)) for name, raw, code in PROTOCOL_ERRORS
              if not (DEFLATE and name == "rsv1_without_extension")]
    if DEFLATE:
        cases += deflate_cases()
    cases += [(name, http_case(make, status, header)) for name, make, status, header in HTTP_CASES]
    return cases


async def run(uri, only, skip):
    failures = 0
    for name, case in all_cases():
        if (only and not any(name.startswith(p) for p in only)) or any(name.startswith(p) for p in skip):
            continue
        start = time.monotonic()
        try:
            note = await asyncio.wait_for(case(uri), CASE_TIMEOUT)
            note = f"; {note}" if note else ""
            print(f"PASS {name} ({time.monotonic() - start:.2f} s{note})", flush=True)
        except Exception as e:  # noqa: BLE001 -- every failure is reported, then the next case runs
            failures += 1
            reason = str(e) or type(e).__name__
            print(f"FAIL {name}: {type(e).__name__}: {reason}", flush=True)
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("uri")
    parser.add_argument("--only", action="append", default=[], help="run only cases starting with this")
    parser.add_argument("--skip", action="append", default=[], help="skip cases starting with this")
    parser.add_argument("--deflate", action="store_true", help="offer permessage-deflate and require it")
    parser.add_argument("--deflate-expect", default="", metavar="PARAMS",
                        help='parameters every agreement must carry, e.g. "server_max_window_bits=10;client_no_context_takeover"')
    parser.add_argument("--max-message", type=int, default=16 << 20, metavar="BYTES",
                        help="the server's message size limit (the bombs are sized and judged by it)")
    args = parser.parse_args()
    global DEFLATE, DEFLATE_EXPECT, SERVER_MAX_MESSAGE
    DEFLATE, DEFLATE_EXPECT, SERVER_MAX_MESSAGE = args.deflate, parse_parameters(args.deflate_expect), args.max_message

    def deadline(*_):
        print(f"FAIL whole run: exceeded {RUN_TIMEOUT} s", flush=True)
        os._exit(2)
    signal.signal(signal.SIGALRM, deadline)
    signal.alarm(RUN_TIMEOUT)

    failures = asyncio.run(run(args.uri, args.only, args.skip))
    mode = " (permessage-deflate)" if DEFLATE else ""
    print(f"python websockets {websockets.__version__} client{mode}: {'all passed' if failures == 0 else f'{failures} failed'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
