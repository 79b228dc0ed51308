#!/usr/bin/python3
"""Load test of a WebSocket echo server (a benchmark with a printed report, not a timed test).

    tools/load_test.py --server 'build/release/tools/wsframe-echo'            # starts and stops it
    tools/load_test.py --server '/usr/bin/python3 tests/interop/server.py'
    tools/load_test.py --server '/usr/bin/node tests/interop/server.js'
    tools/load_test.py ws://127.0.0.1:9000 --server-pid 1234                 # a running server

Opens --connections concurrent connections (all open at once before any message is sent), then
each sends --messages messages of mixed sizes and types one after the other and checks every echo
byte for byte. Reports messages/s and the server's memory: RSS when idle, with every connection
open, its peak (VmHWM from /proc/PID/status) and peak sampled during the run. Exits non-zero when
a message was lost or corrupted or a connection failed. Bounded by --deadline.

Runs on Debian's python3-websockets: use /usr/bin/python3. The client is Python, so with many
small messages it is often the bottleneck; --processes spreads the connections over processes.
"""
import argparse
import asyncio
import multiprocessing
import os
import random
import re
import resource
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time

import websockets

# Message sizes: (weight, smallest, largest) -- mostly small frames, some large ones.
SIZE_MIX = [(60, 0, 125), (25, 126, 4096), (12, 4097, 65536), (3, 65537, 262144)]
POOL_BYTES = 1 << 20


def raise_open_file_limit(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        soft = new
    return soft


def memory_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cpu_seconds(pid):
    """User + system CPU time the process has used, from /proc/PID/stat."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


class Sampler(threading.Thread):
    """Samples the server's VmRSS every 50 ms; keeps the maximum."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            rss = memory_kib(self.pid, "VmRSS")
            if rss:
                self.peak = max(self.peak, rss)
            self.stop.wait(0.05)


def pick_size(rng):
    weight = rng.randrange(sum(w for w, _, _ in SIZE_MIX))
    for w, lo, hi in SIZE_MIX:
        if weight < w:
            return rng.randint(lo, hi)
        weight -= w
    raise AssertionError


async def run_worker(uri, connections, messages, text_ratio, seed, open_barrier, start_event, deadline):
    rng = random.Random(seed)
    pool = rng.randbytes(POOL_BYTES)
    text_pool = "".join(rng.choice("abcdefghij κόσμε€𝄞") for _ in range(POOL_BYTES // 4))
    stats = dict(messages=0, bytes=0, failures=0, corrupted=0, latencies=[], first_error="")

    def note_failure(what):
        stats["failures"] += 1
        if not stats["first_error"]:
            stats["first_error"] = what

    opened = 0
    all_opened, go = asyncio.Event(), asyncio.Event()

    def count_open():
        nonlocal opened
        opened += 1
        if opened == connections:
            all_opened.set()

    async def coordinate():  # every connection of every worker is open, then all start at once
        await all_opened.wait()
        await asyncio.to_thread(open_barrier.wait)
        await asyncio.to_thread(start_event.wait)
        go.set()

    async def one(index):
        my_rng = random.Random(seed * 100003 + index)
        try:
            ws = await asyncio.wait_for(websockets.connect(uri, compression=None, max_size=None, ping_interval=None,
                                                           close_timeout=10, open_timeout=60), 60)
        except Exception as e:  # noqa: BLE001 -- counted and reported
            note_failure(f"connect: {type(e).__name__}: {e}")
            count_open()
            return
        count_open()
        await go.wait()
        try:
            for _ in range(messages):
                n = pick_size(my_rng)
                if my_rng.random() < text_ratio:
                    start = my_rng.randrange(len(text_pool) - n // 2)
                    message = text_pool[start:start + n // 2]  # ~n bytes of UTF-8
                else:
                    start = my_rng.randrange(POOL_BYTES - n)
                    message = pool[start:start + n]
                t0 = time.perf_counter()
                await asyncio.wait_for(ws.send(message), 60)
                echo = await asyncio.wait_for(ws.recv(), 60)
                stats["latencies"].append(time.perf_counter() - t0)
                if echo != message:
                    stats["corrupted"] += 1
                    note_failure(f"echo differs ({type(message).__name__} of {len(message)})")
                stats["messages"] += 1
                stats["bytes"] += len(message) if isinstance(message, bytes) else len(message.encode())
            await asyncio.wait_for(ws.close(), 30)
        except Exception as e:  # noqa: BLE001 -- counted and reported
            note_failure(f"{type(e).__name__}: {e}")
            ws.transport.abort()

    await asyncio.wait_for(asyncio.gather(coordinate(), *(one(i) for i in range(connections))), deadline)
    return stats


def worker_main(args):
    uri, connections, messages, text_ratio, seed, open_barrier, start_event, deadline = args
    raise_open_file_limit(connections + 64)
    try:
        return asyncio.run(run_worker(uri, connections, messages, text_ratio, seed, open_barrier, start_event,
                                      deadline))
    except asyncio.TimeoutError:
        return dict(messages=0, bytes=0, failures=connections, corrupted=0, latencies=[],
                    first_error=f"deadline of {deadline} s exceeded")


def start_server(command):
    server = subprocess.Popen(shlex.split(command), stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, NODE_PATH="/usr/share/nodejs"))
    line = server.stdout.readline()
    m = re.match(r"listening on (\S+):(\d+)", line)
    if not m:
        server.kill()
        sys.exit(f"the server did not print 'listening on HOST:PORT' (got {line!r})")
    threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
    return server, f"ws://{m.group(1)}:{m.group(2)}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("uri", nargs="?", help="ws://HOST:PORT of a running server")
    parser.add_argument("--server", help="command that starts an echo server printing 'listening on HOST:PORT'")
    parser.add_argument("--server-pid", type=int, help="PID of the running server, for its memory")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=50, help="messages per connection")
    parser.add_argument("--text-ratio", type=float, default=0.3)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--deadline", type=float, default=600, help="seconds for the whole run")
    parser.add_argument("--seed", type=int, default=6455)
    args = parser.parse_args()

    limit = raise_open_file_limit(args.connections + 256)  # also inherited by a server started here
    if limit < args.connections + 64:
        print(f"warning: open file limit {limit} is below {args.connections} connections", file=sys.stderr)

    server = None
    if args.server:
        server, uri = start_server(args.server)
        pid = server.pid
    elif args.uri:
        uri, pid = args.uri, args.server_pid
    else:
        parser.error("give a ws:// URI or --server")
    time.sleep(0.2)
    idle_rss = memory_kib(pid, "VmRSS") if pid else None

    processes = max(1, min(args.processes, args.connections))
    shares = [args.connections // processes + (i < args.connections % processes) for i in range(processes)]
    manager = multiprocessing.Manager()
    open_barrier = manager.Barrier(processes + 1)  # each worker once all its connections are open
    start_event = manager.Event()
    sampler = Sampler(pid) if pid else None

    with multiprocessing.Pool(processes) as workers:
        pending = workers.map_async(worker_main, [
            (uri, share, args.messages, args.text_ratio, args.seed + i, open_barrier, start_event, args.deadline)
            for i, share in enumerate(shares)])
        t_open = time.perf_counter()
        try:
            open_barrier.wait(timeout=args.deadline)
        except threading.BrokenBarrierError:
            sys.exit("not every connection opened in time")
        opened_in = time.perf_counter() - t_open
        time.sleep(0.2)
        open_rss = memory_kib(pid, "VmRSS") if pid else None
        if sampler:
            sampler.start()
        cpu_before = cpu_seconds(pid) if pid else None
        t0 = time.perf_counter()
        start_event.set()
        results = pending.get(timeout=args.deadline + 30)
        elapsed = time.perf_counter() - t0
        cpu_used = cpu_seconds(pid) - cpu_before if cpu_before is not None else None
    if sampler:
        sampler.stop.set()
        sampler.join()

    peak_hwm = memory_kib(pid, "VmHWM") if pid else None
    total = {k: sum(r[k] for r in results) for k in ("messages", "bytes", "failures", "corrupted")}
    latencies = sorted(x for r in results for x in r["latencies"])
    first_error = next((r["first_error"] for r in results if r["first_error"]), "")
    if server:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()

    expected = args.connections * args.messages
    print(f"server: {args.server or uri}")
    print(f"connections: {args.connections} open at once (opened in {opened_in:.1f} s), "
          f"{processes} client process(es)")
    print(f"messages: {total['messages']} of {expected} echoed and checked byte for byte, "
          f"{total['corrupted']} corrupted, {total['failures']} failures")
    print(f"throughput: {total['messages'] / elapsed:.0f} messages/s, {total['bytes'] / elapsed / 1e6:.1f} MB/s "
          f"each way ({elapsed:.1f} s)")
    if latencies:
        p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
        print(f"round trip: median {statistics.median(latencies) * 1000:.2f} ms, p99 {p(0.99):.2f} ms, "
              f"max {latencies[-1] * 1000:.2f} ms")
    if cpu_used is not None and total["messages"]:
        print(f"server CPU: {cpu_used:.2f} s during the messages, {cpu_used / total['messages'] * 1e6:.0f} us per "
              f"message (the Python client is usually the bottleneck; this is the server's own cost)")
    if pid:
        fmt = lambda kib: f"{kib / 1024:.1f} MiB" if kib else "n/a"  # noqa: E731
        print(f"server RSS: idle {fmt(idle_rss)}, {args.connections} connections open {fmt(open_rss)}, "
              f"peak sampled {fmt(sampler.peak)}, VmHWM {fmt(peak_hwm)}")
    if first_error:
        print(f"first error: {first_error}")
    ok = total["messages"] == expected and total["failures"] == 0
    print("result: " + ("ok" if ok else "FAILED"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
