#!/usr/bin/python3
"""wsframe-echo under hostile clients: the fd limit, the deadlines, and memory held by stalled bombs.

    echo_limits.py fd-limit --server PATH
    echo_limits.py deadlines --server PATH
    echo_limits.py bomb-memory --server PATH
    echo_limits.py idle-memory --server PATH [--connections 5000] [--max-bytes 1024]
    echo_limits.py slow-subscriber-close|slow-subscriber-drop --server PATH

Each scenario starts its own wsframe-echo on 127.0.0.1, port 0, talks to it with raw sockets
(the standard library only: frames are built and parsed here), prints the figures it measured and
exits non-zero with the reasons when a check fails. Every wait is bounded; the server is stopped
with SIGTERM (killed if it does not exit) whatever happens.
"""
import argparse
import base64
import concurrent.futures
import os
import re
import resource
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

HOST = "127.0.0.1"
CLOSE, PING, PONG, TEXT, BINARY, CONTINUATION = 0x8, 0x9, 0xA, 0x1, 0x2, 0x0


class Failure(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Failure(what)


# --- the server ---------------------------------------------------------------------------------

class Server:
    """wsframe-echo with its stderr in a file, optionally under `ulimit -n`."""

    def __init__(self, path, args, fd_limit=None):
        self.log = tempfile.TemporaryFile(mode="w+")
        command = [path, *args]
        if fd_limit is not None:
            command = ["/bin/sh", "-c", f'ulimit -n {fd_limit} && exec "$@"', "sh", *command]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.process.stdout.readline()  # the server prints it once listening
        match = re.match(r"listening on [0-9.]+:(\d+)", line)
        if not match:
            self.stop()
            raise Failure(f"the server did not start: {line!r} {self.log_text()!r}")
        self.port = int(match.group(1))

    @property
    def pid(self):
        return self.process.pid

    def cpu_seconds(self):
        """utime + stime of the server (/proc/PID/stat fields 14 and 15)."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise Failure("no VmRSS")

    def rss_mib(self):
        return self.rss_kib() / 1024

    def log_text(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# --- a WebSocket client on a raw socket ---------------------------------------------------------

def frame(opcode, payload=b"", fin=True, rsv1=False, mask=b"\x11\x22\x33\x44"):
    """A masked client frame (RFC 6455 5.2)."""
    head = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    key = (mask * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big") if n else b""
    return head + mask + masked


class Client:
    def __init__(self, port, deflate=False, timeout=5.0):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.buffer = b""
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET / HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n")
        if deflate:
            request += "Sec-WebSocket-Extensions: permessage-deflate\r\n"
        self.sock.sendall((request + "\r\n").encode())
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            check(chunk, "the server closed during the handshake")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        check(head.startswith(b"HTTP/1.1 101 "), f"handshake answered {head[:40]!r}")
        check(not deflate or b"permessage-deflate" in head, "permessage-deflate was not accepted")

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, n, deadline):
        while len(self.buffer) < n:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise EOFError
            self.buffer += chunk
        return True

    def read_frame(self, timeout):
        """(opcode, payload) of the next server frame; None if none in `timeout` s; EOFError at EOF."""
        deadline = time.monotonic() + timeout
        if not self._fill(2, deadline):
            return None
        n = self.buffer[1] & 0x7F
        size = 2 + {126: 2, 127: 8}.get(n, 0)
        if not self._fill(size, deadline):
            return None
        if n == 126:
            n = struct.unpack("!H", self.buffer[2:4])[0]
        elif n == 127:
            n = struct.unpack("!Q", self.buffer[2:10])[0]
        if not self._fill(size + n, deadline):
            return None
        opcode, payload = self.buffer[0] & 0x0F, self.buffer[size:size + n]
        self.buffer = self.buffer[size + n:]
        return opcode, payload

    def expect_eof(self, timeout):
        """True when the server ends the connection within `timeout` s (frames before it skipped)."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.read_frame(deadline - time.monotonic())
        except EOFError:
            return True
        return False

    def close(self):
        self.sock.close()


def close_code(payload):
    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None


def echo_works(port, timeout=10.0):
    """A fresh connection is served: handshake, an echo, the close handshake. Retried until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            c = Client(port, timeout=2.0)
            c.send(frame(TEXT, b"served again"))
            check(c.read_frame(2.0) == (TEXT, b"served again"), "no echo")
            c.send(frame(CLOSE, struct.pack("!H", 1000)))
            reply = c.read_frame(2.0)
            check(reply is not None and reply[0] == CLOSE, "no Close answer")
            c.close()
            return True
        except (OSError, EOFError, Failure):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)


# --- scenarios ----------------------------------------------------------------------------------

def fd_limit(server_path):
    """ulimit -n 32 and 60 connections: the server must idle, log little, and serve once they close."""
    measure_s = 3.0
    with Server(server_path, [], fd_limit=32) as server:
        conns = [socket.create_connection((HOST, server.port), timeout=5) for _ in range(60)]
        time.sleep(0.5)  # the server has met the limit
        cpu_before = server.cpu_seconds()
        time.sleep(measure_s)
        cpu = server.cpu_seconds() - cpu_before
        for c in conns:
            c.close()
        served = echo_works(server.port)
        status = server.stop()
        log = server.log_text()
    accept_lines = [line for line in log.splitlines() if "accept" in line]
    print(f"fd limit: {cpu:.2f} s of CPU in {measure_s:.0f} s; {len(log.splitlines())} log lines "
          f"({len(accept_lines)} about accept); served again: {served}")
    check(cpu < 0.3, f"the server used {cpu:.2f} s of CPU in {measure_s} s at the fd limit (spinning)")
    check(1 <= len(accept_lines) <= 2, f"{len(accept_lines)} accept failure lines: {accept_lines[:3]}")
    check(len(log) < 4096, f"the log grew to {len(log)} bytes")
    check(served, "no connection was served after the others closed")
    check(status == 0, f"the server exited with {status}")


def deadlines(server_path):
    """--idle-timeout 1: which clients are pinged, closed (1001) and dropped, and which stay."""
    timeout = 1.0
    # Bounds, generous for a loaded machine: a deadline T fires between T and T + one sweep
    # (T/4) late; nothing may fire before it.
    early, late = 0.9 * timeout, 2.5 * timeout

    def idle(port):
        c = Client(port)
        start = time.monotonic()
        ping = c.read_frame(late)
        ping_at = time.monotonic() - start
        check(ping is not None and ping[0] == PING, f"idle: expected a ping, got {ping}")
        check(early <= ping_at <= late, f"idle: the ping came after {ping_at:.2f} s")
        close = c.read_frame(late)
        close_at = time.monotonic() - start - ping_at
        check(close is not None and close[0] == CLOSE and close_code(close[1]) == 1001,
              f"idle: expected Close 1001 after the unanswered ping, got {close}")
        check(early <= close_at <= late, f"idle: the Close came {close_at:.2f} s after the ping")
        check(c.expect_eof(late), "idle: the connection was not dropped after the unanswered Close")
        return f"idle: ping after {ping_at:.2f} s, Close 1001 {close_at:.2f} s later, then EOF"

    def half_frame(port):
        c = Client(port)
        whole = frame(TEXT, b"x" * 100)
        c.send(whole[:40])
        start = time.monotonic()
        got = c.read_frame(late)
        at = time.monotonic() - start
        check(got is not None and got[0] == CLOSE and close_code(got[1]) == 1001,
              f"half frame: expected Close 1001 (and no ping), got {got}")
        check(early <= at <= late, f"half frame: closed after {at:.2f} s")
        check(c.expect_eof(late), "half frame: not dropped after the Close")
        return f"half a frame: Close 1001 after {at:.2f} s, then EOF"

    def trickle(port):
        # A frame whose bytes keep coming, too slowly: traffic does not extend its deadline.
        c = Client(port)
        whole = frame(BINARY, b"y" * 1000)
        start = time.monotonic()
        for i in range(len(whole)):
            c.send(whole[i:i + 1])
            got = c.read_frame(0.2)
            if got is not None:
                at = time.monotonic() - start
                check(got[0] == CLOSE and close_code(got[1]) == 1001, f"trickle: got {got}")
                check(early <= at <= late, f"trickle: closed after {at:.2f} s")
                return f"a frame trickling in: Close 1001 after {at:.2f} s"
            check(time.monotonic() - start < late, "trickle: never closed")
        raise Failure("trickle: the whole frame went through")

    def stalled_message(port):
        # A fragmented message that never ends, from a client that answers every ping.
        c = Client(port)
        c.send(frame(TEXT, b"first part", fin=False))
        start = time.monotonic()
        while time.monotonic() - start < late:
            got = c.read_frame(late)
            check(got is not None, "stalled message: nothing received")
            if got[0] == PING:
                c.send(frame(PONG, got[1]))
                continue
            if got[0] == TEXT or got[0] == CONTINUATION:  # the fragment's echo
                continue
            at = time.monotonic() - start
            check(got[0] == CLOSE and close_code(got[1]) == 1001, f"stalled message: got {got}")
            check(early <= at <= late, f"stalled message: closed after {at:.2f} s")
            return f"a message that never ends (pings answered): Close 1001 after {at:.2f} s"
        raise Failure("stalled message: never closed")

    def answers_pings(port):
        c = Client(port)
        stay = 3.5 * timeout
        start, pings = time.monotonic(), 0
        while time.monotonic() - start < stay:
            got = c.read_frame(stay - (time.monotonic() - start))
            if got is None:
                break
            check(got[0] == PING, f"pinged client: got {got}")
            pings += 1
            c.send(frame(PONG, got[1]))
        check(pings >= 2, f"pinged client: {pings} pings in {stay} s")
        c.send(frame(TEXT, b"still here"))
        check(c.read_frame(late) == (TEXT, b"still here"), "pinged client: no echo after the pings")
        c.send(frame(CLOSE, struct.pack("!H", 1000)))
        reply = c.read_frame(late)
        check(reply is not None and reply[0] == CLOSE and close_code(reply[1]) == 1000, f"pinged client: {reply}")
        check(c.expect_eof(late), "pinged client: no EOF after the close handshake")
        return f"a client answering pings: {pings} pings in {stay:.1f} s, still served"

    def slow_handshake(port):
        sock = socket.create_connection((HOST, port), timeout=5)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n")
        start = time.monotonic()
        sock.settimeout(late)
        try:
            data = sock.recv(4096)
        except socket.timeout:
            raise Failure("slow handshake: not dropped")
        except ConnectionResetError:
            data = b""
        at = time.monotonic() - start
        check(data == b"", f"slow handshake: got {data[:40]!r}")
        check(early <= at <= late, f"slow handshake: dropped after {at:.2f} s")
        return f"a handshake that never ends: dropped after {at:.2f} s"

    scenarios = [idle, half_frame, trickle, stalled_message, answers_pings, slow_handshake]
    with Server(server_path, ["--idle-timeout", str(timeout), "--whole-messages"]) as server:
        with concurrent.futures.ThreadPoolExecutor(len(scenarios)) as pool:
            futures = {pool.submit(s, server.port): s.__name__ for s in scenarios}
            failures = []
            for f, name in futures.items():
                try:
                    print(f.result(timeout=30))
                except (Failure, OSError, EOFError) as e:
                    failures.append(f"{name}: {type(e).__name__}: {e}")
        status = server.stop()
    check(not failures, "; ".join(failures))
    check(status == 0, f"the server exited with {status}")


def bomb_memory(server_path):
    """Ten 16 KiB messages inflating to 16 MiB each, with --whole-messages --deflate, then silence.

    Complete bombs are echoed: each reassembly buffer must be given back as soon as its echo is
    queued, so the RSS is back near the baseline within one idle timeout of the last echo.
    Stalled bombs (the same frame without FIN) hold their buffers until the frame deadline
    (the idle timeout), then get Close 1001 and their Connections end: the RSS must be back by
    then, plus a sweep and a second of slack.
    "Back" means within `bound` of the RSS before any bomb: less than one bomb's buffer."""
    timeout, clients, inflated = 2.0, 10, 16 << 20
    bound = 16  # MiB
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = compressor.compress(bytes(inflated)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    check(bomb.endswith(b"\x00\x00\xff\xff"), "no sync flush marker")
    bomb = bomb[:-4]  # RFC 7692 7.2.1
    with Server(server_path, ["--idle-timeout", str(timeout), "--whole-messages", "--deflate"]) as server:
        baseline = server.rss_mib()

        def wait_for_rss(condition, limit):
            """(seconds until condition(RSS) held or None, the highest RSS seen meanwhile)."""
            start, peak = time.monotonic(), 0.0
            while time.monotonic() - start < limit:
                rss = server.rss_mib()
                peak = max(peak, rss)
                if condition(rss):
                    return time.monotonic() - start, peak
                time.sleep(0.05)
            return None, peak

        for fin in (True, False):
            kind = "complete" if fin else "stalled"
            conns = [Client(server.port, deflate=True) for _ in range(clients)]
            for c in conns:
                c.send(frame(BINARY, bomb, fin=fin, rsv1=True))
            if fin:
                # The echoes (compressed, small) prove each bomb was inflated whole; the server
                # inflates and recompresses them one after another.
                for c in conns:
                    got = c.read_frame(30.0)
                    check(got is not None and got[0] == BINARY, f"bomb not echoed: {got and got[0]}")
                give_back, peak = timeout, server.rss_mib()
            else:
                held = baseline + clients * inflated / (1 << 20) * 0.9
                full_at, peak = wait_for_rss(lambda rss: rss >= held, 30.0)
                check(full_at is not None, f"stalled bombs: RSS peaked at {peak:.1f} MiB, below {held:.0f} MiB")
                give_back = timeout + timeout / 4 + 1.0
            back_at, _ = wait_for_rss(lambda rss: rss <= baseline + bound, give_back + 5.0)
            print(f"{kind} bombs: baseline {baseline:.1f} MiB, peak {peak:.1f} MiB, back within {bound} MiB "
                  f"{'never' if back_at is None else f'{back_at:.2f} s'} after the "
                  f"{'last echo' if fin else 'last bomb was inflated'} (allowed {give_back:.2f} s)")
            check(back_at is not None and back_at <= give_back,
                  f"{kind} bombs: RSS {server.rss_mib():.1f} MiB, not back to {baseline:.1f} + {bound} MiB in time")
            if not fin:
                for c in conns:
                    check(c.expect_eof(give_back), "stalled bombs: a connection was not dropped")
            for c in conns:
                c.close()
        check(echo_works(server.port), "no echo after the bombs")
        status = server.stop()
    check(status == 0, f"the server exited with {status}")


def idle_memory(server_path, connections, max_bytes):
    """The server's RSS growth per idle connection, `connections` of them (after a warm-up of 100,
    which touches the read buffer): just after the handshake, and again once each has had a 20-byte
    message echoed. Each must stay within `max_bytes` per connection; the kernel's socket memory is
    not in the RSS."""
    def rss_growth_per_connection(conns, baseline):
        time.sleep(0.5)  # the server has handled every byte sent
        return (server.rss_kib() - baseline) * 1024 / len(conns)

    # Each connection takes a descriptor here and one in the server (which inherits the limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = connections + 200
    check(hard == resource.RLIM_INFINITY or hard >= needed, f"{connections} connections need ulimit -n {needed}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, needed), hard))
    with Server(server_path, ["--quiet"]) as server:
        warm_up = [Client(server.port) for _ in range(100)]
        for c in warm_up:
            c.send(frame(BINARY, b"w" * 20))
            check(c.read_frame(5.0) == (BINARY, b"w" * 20), "no echo while warming up")
        time.sleep(0.5)
        baseline = server.rss_kib()
        conns = [Client(server.port) for _ in range(connections)]
        opened = rss_growth_per_connection(conns, baseline)
        for c in conns:
            c.send(frame(BINARY, b"x" * 20))
        for c in conns:
            check(c.read_frame(5.0) == (BINARY, b"x" * 20), "no echo")
        echoed = rss_growth_per_connection(conns, baseline)
        print(f"{connections} idle connections: RSS +{opened:.0f} B per connection after the handshake, "
              f"+{echoed:.0f} B after an echo each")
        check(opened <= max_bytes, f"{opened:.0f} B per idle connection, above {max_bytes}")
        check(echoed <= max_bytes, f"{echoed:.0f} B per idle connection after an echo, above {max_bytes}")
        for c in warm_up + conns:
            c.close()
        status = server.stop()
    check(status == 0, f"the server exited with {status}")


def slow_subscriber(server_path, policy):
    """--pubsub with a subscriber that never reads: the publisher gets every one of its messages
    back, in order, while the stalled subscriber's unsent output passes --max-output; then (close)
    the stalled subscriber is failed: reading at last, it gets what the kernel held, then the end of
    the connection; or (drop) it stays connected but misses messages."""
    count, size = 400, 64 * 1024  # 25 MiB: more than the kernel's socket buffers hold
    args = ["--quiet", "--pubsub", "--max-output", str(256 * 1024), "--on-output-full", policy]
    with Server(server_path, args) as server:
        stalled = Client(server.port)
        publisher = Client(server.port)
        time.sleep(0.2)  # both are subscribed before the first message
        for i in range(count):
            message = struct.pack("!I", i) + bytes(size - 4)
            publisher.send(frame(BINARY, message))
            check(publisher.read_frame(10.0) == (BINARY, message), f"message {i} did not come back to its publisher")
        received, ended = [], False
        try:
            while (f := stalled.read_frame(2.0)) is not None:
                if f[0] == BINARY:
                    received.append(struct.unpack("!I", f[1][:4])[0])
        except EOFError:
            ended = True
        print(f"{policy}: the stalled subscriber got {len(received)} of {count} messages, "
              f"{'then the end of the connection' if ended else 'and is still connected'}")
        check(received == sorted(received), "the stalled subscriber got messages out of order")
        check(len(received) < count, "the stalled subscriber got every message: it never stalled")
        check(ended == (policy == "close"), f"--on-output-full {policy}: the connection {'stayed' if not ended else 'ended'}")
        check(echo_works(server.port), "no echo after the stalled subscriber")
        stalled.close()
        publisher.close()
        status = server.stop()
    check(status == 0, f"the server exited with {status}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scenario", choices=["fd-limit", "deadlines", "bomb-memory", "idle-memory",
                                             "slow-subscriber-close", "slow-subscriber-drop"])
    parser.add_argument("--server", required=True, help="the wsframe-echo binary")
    parser.add_argument("--connections", type=int, default=5000, help="idle-memory: how many")
    parser.add_argument("--max-bytes", type=int, default=1024, help="idle-memory: the bound per connection")
    args = parser.parse_args()
    run = {"fd-limit": fd_limit, "deadlines": deadlines, "bomb-memory": bomb_memory,
           "idle-memory": lambda path: idle_memory(path, args.connections, args.max_bytes),
           "slow-subscriber-close": lambda path: slow_subscriber(path, "close"),
           "slow-subscriber-drop": lambda path: slow_subscriber(path, "drop")}[args.scenario]
    try:
        run(args.server)
    except Failure as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
