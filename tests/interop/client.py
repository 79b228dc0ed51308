#!/usr/bin/python3
"""Interop client: Python `websockets` (Debian python3-websockets 10.4) against an echo server.

    /usr/bin/python3 tests/interop/client.py ws://127.0.0.1:PORT [--only PREFIX] [--skip PREFIX]

Every case opens its own connection and prints `PASS <case>` or `FAIL <case>: <why>`; the exit
status is non-zero when any case fails. Every await has a deadline and the whole run has one.

Cases: echoes of text and binary messages of 0, 125, 126, 65535, 65536 and 16 MiB bytes, compared
byte for byte; fragmented messages (also a code point split across fragments, a ping between
fragments); pings; close with a code and reason; a pipelined burst; a declined compression offer;
then protocol errors written as raw frames beneath websockets' connection, after which the
server must close with the RFC 6455 7.4.1 code (websockets itself validates the close frame);
then malformed HTTP upgrade requests (cases `http_*`), which must get the DESIGN.md status.
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

import websockets
from websockets.exceptions import ConnectionClosed

CASE_TIMEOUT = 60.0   # seconds per case (16 MiB echoes under ASan are the slowest)
STEP_TIMEOUT = 30.0   # seconds per await inside a case
RUN_TIMEOUT = 600     # seconds for the whole run
SIZES = [0, 125, 126, 65535, 65536, 16 * 1024 * 1024]

rng = random.Random(6455)


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


async def connect(uri, **options):
    settings = dict(compression=None, max_size=None, ping_interval=None, close_timeout=10, open_timeout=10)
    settings.update(options)
    return await step(websockets.connect(uri, **settings))


def expect(condition, why):
    if not condition:
        raise AssertionError(why)


def describe(data):
    kind = "text" if isinstance(data, str) else "binary"
    size = len(data.encode()) if isinstance(data, str) else len(data)
    return f"{kind} of {size} bytes"


async def expect_echo(ws, sent):
    received = await step(ws.recv())
    expect(type(received) is type(sent), f"sent {describe(sent)}, received {describe(received)}")
    if received != sent:
        a = sent.encode() if isinstance(sent, str) else sent
        b = received.encode() if isinstance(received, str) else received
        first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
        raise AssertionError(f"echo differs: sent {len(a)} bytes, received {len(b)}, first difference at {first}")


async def close_normally(ws):
    await step(ws.close())
    expect(ws.close_code == 1000, f"close echo code {ws.close_code}, expected 1000")


# --- echo cases ------------------------------------------------------------------------------------

def echo_case(make, n):
    async def case(uri):
        ws = await connect(uri)
        message = make(n)
        await step(ws.send(message))
        await expect_echo(ws, message)
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


async def burst(uri):
    ws = await connect(uri)
    messages = [text_of_length(rng.randrange(0, 3000)) if i % 2 else binary_of_length(rng.randrange(0, 70000))
                for i in range(500)]
    async def send_all():
        for m in messages:
            await ws.send(m)
    sender = asyncio.ensure_future(send_all())
    for m in messages:
        await expect_echo(ws, m)
    await step(sender)
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
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


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


def protocol_error_case(raw, code):
    async def case(uri):
        ws = await connect(uri)
        ws.transport.write(raw)
        try:
            message = await step(ws.recv())
            raise AssertionError(f"received a {describe(message)} instead of a close")
        except ConnectionClosed:
            pass
        await step(ws.wait_closed())
        expect(ws.close_code == code, f"server closed with {ws.close_code}, expected {code}")
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
        ("compression_offer_declined", compression_offer_declined),
        ("backpressure_client_that_does_not_read", backpressure),
    ]
    cases += [(f"error_{name}", protocol_error_case(raw, code)) for name, raw, code in PROTOCOL_ERRORS]
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
    args = parser.parse_args()

    def deadline(*_):
        print(f"FAIL whole run: exceeded {RUN_TIMEOUT} s", flush=True)
        os._exit(2)
    signal.signal(signal.SIGALRM, deadline)
    signal.alarm(RUN_TIMEOUT)

    failures = asyncio.run(run(args.uri, args.only, args.skip))
    print(f"python websockets {websockets.__version__} client: {'all passed' if failures == 0 else f'{failures} failed'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
