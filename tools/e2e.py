#!/usr/bin/python3
"""End-to-end benchmark: wsframe-echo and peer WebSocket servers, driven by wsframe-load.

    tools/e2e.py BUILD_DIR OUT_JSON [--duration SECONDS] [--rounds N] [--only NAME,NAME] [--quick] [--no-idle] [--check]

Each server runs pinned to one CPU (the last), the load generator on another (CPU 0), and the
generator reports the server's CPU share over each measured interval, so a cell where the server
was not busy shows it. Every byte the generator receives is checked; a cell with any error is
recorded as failed, never as a rate. The grid:
  - echo: 100, 500 and 1000 connections x 20 B, 512 B and 16 KiB binary messages, one message in
    flight per connection (each connection sends, waits for the whole echo, sends the next);
  - broadcast: one publisher and 100 or 1000 subscribers x 100 B and 1 KiB; the server relays every
    message to all its clients (its pub/sub mode); the publisher keeps 8 messages in flight;
    deliveries per second and send-to-receipt latency;
  - idle memory: the server's resident memory growth with 5,000 idle connections (handshake done,
    nothing sent), per connection.
Every server of a grid runs at once (idle but for the one being driven), and each cell is measured
in rounds: every round runs the cell once on each server, in an order that rotates from round to
round, so that a slow moment of a shared machine falls on all of them alike and within seconds of
each other. A cell shows its median round (the whole of that run: rate, CPU share, latencies) and
the rates of every round. Servers that are not built (or whose interpreter is missing) are
skipped and listed as such.
--quick runs one cell of each grid, --no-idle leaves out the memory measurement, and --check exits
with status 1 when any cell failed (the interop test of the peers and the pub/sub modes).
"""
import argparse
import datetime
import json
import os
import platform
import re
import select
import shutil
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"
NODE = shutil.which("node") or shutil.which("nodejs") or "/usr/bin/node"
ECHO_GRID = [(c, s) for c in (100, 500, 1000) for s in (20, 512, 16384)]
BROADCAST_GRID = [(c, s) for c in (100, 1000) for s in (100, 1024)]
IDLE_CONNECTIONS = 5000
# Echo: one message outstanding per connection, as uWebSockets' load_test does. Broadcast: the
# publisher keeps several messages not yet delivered to everyone, so the relay, not the round trip,
# sets the rate.
IN_FLIGHT = {"echo": 1, "broadcast": 8}


def servers(build):
    """name -> (echo command, pub/sub command, extra environment); commands take --port P after them."""
    e2e = os.path.join(build, "bench", "e2e")
    interop = os.path.join(ROOT, "tests", "interop")
    node_env = {"NODE_PATH": "/usr/share/nodejs"}
    echo = os.path.join(build, "tools", "wsframe-echo")
    return {
        "wsframe": ([echo, "--quiet"], [echo, "--quiet", "--pubsub"], {}),
        "beast": ([os.path.join(e2e, "bench-beast-echo")], [os.path.join(e2e, "bench-beast-echo"), "--pubsub"], {}),
        "websocketpp": ([os.path.join(e2e, "bench-websocketpp-echo")],
                        [os.path.join(e2e, "bench-websocketpp-echo"), "--pubsub"], {}),
        "libwebsockets": ([os.path.join(e2e, "bench-lws-echo")], [os.path.join(e2e, "bench-lws-echo"), "--pubsub"], {}),
        "node_ws": ([NODE, os.path.join(interop, "server.js")], [NODE, os.path.join(interop, "server.js"), "--pubsub"],
                    node_env),
        "python_websockets": ([PYTHON, os.path.join(interop, "server.py")],
                              [PYTHON, os.path.join(interop, "relay.py"), "--broadcast"], {}),
    }


def cpus():
    """(server CPU, generator CPU): the last CPU for the server (CPU 0 takes most interrupts)."""
    n = os.cpu_count() or 1
    return (n - 1, 0) if n > 1 else (0, 0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process pinned to one CPU, started and waited for until it accepts connections."""

    def __init__(self, command, env, cpu):
        self.port = free_port()
        full = ["taskset", "-c", str(cpu)] + command + ["--port", str(self.port)]
        self.process = subprocess.Popen(full, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{command[0]} did not start listening on port {self.port}")

    def rss_bytes(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1)) * 1024

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_load(load, server, cpu, mode, connections, size, duration):
    """One cell: wsframe-load's JSON line, or a dict with 'failed' saying why."""
    command = ["taskset", "-c", str(cpu), load, f"ws://127.0.0.1:{server.port}/", "--mode", mode,
               "--connections", str(connections), "--size", str(size), "--duration", str(duration),
               "--in-flight", str(IN_FLIGHT[mode]),
               "--timeout", "20", "--server-pid", str(server.process.pid), "--json"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 90)
    except subprocess.TimeoutExpired:
        return {"failed": "the load generator did not finish"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    result = json.loads(lines[-1]) if lines else {}
    if done.returncode != 0 or not result or result.get("errors", 1) != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        return {"failed": f"exit {done.returncode}: " + " / ".join(tail)}
    return result


def handshake_request(port):
    return (f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()


def open_idle(port, count, batch=100):
    """count connections with the handshake done (101 received), nothing else sent."""
    sockets = []
    for start in range(0, count, batch):
        group = []
        for _ in range(min(batch, count - start)):
            s = socket.create_connection(("127.0.0.1", port), timeout=20)
            s.sendall(handshake_request(port))
            group.append(s)
        for s in group:
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = s.recv(4096)
                if not chunk:
                    raise RuntimeError("the server closed an idle connection during its handshake")
                answer += chunk
            if not answer.startswith(b"HTTP/1.1 101"):
                raise RuntimeError(f"handshake refused: {answer[:40]!r}")
        sockets += group
    return sockets


def idle_memory(command, env, cpu):
    """Resident memory growth per idle connection, measured after a warm-up set was opened and closed."""
    server = Server(command, env, cpu)
    try:
        for s in open_idle(server.port, 100):  # the allocator's and the runtime's first growth
            s.close()
        time.sleep(0.5)
        before = server.rss_bytes()
        idle = open_idle(server.port, IDLE_CONNECTIONS)
        time.sleep(1.0)
        poller = select.poll()
        for s in idle:
            poller.register(s, select.POLLIN)
        if poller.poll(0):
            raise RuntimeError("the server sent something on an idle connection")
        after = server.rss_bytes()
        for s in idle:
            s.close()
        return {"connections": IDLE_CONNECTIONS, "bytes_per_connection": (after - before) / IDLE_CONNECTIONS}
    except (OSError, RuntimeError) as e:
        return {"failed": str(e)}
    finally:
        server.stop()


def start_servers(commands, cpu, mode):
    """name -> Server, or a failure reason for the servers that did not start."""
    started, failures = {}, {}
    for name, (command, env) in commands.items():
        try:
            started[name] = Server(command, env, cpu)
        except RuntimeError as e:
            print(f"  {name} {mode}: failed ({e})", file=sys.stderr)
            failures[name] = str(e)
    return started, failures


def grid(load, commands, cpus_, mode, cells, duration, rounds):
    """name -> the cells' results (each its median round) for every server in `commands`."""
    server_cpu, load_cpu = cpus_
    started, failures = start_servers(commands, server_cpu, mode)
    names = list(commands)
    results = {name: [] for name in names}
    try:
        for connections, size in cells:
            runs = {name: [] for name in names}
            for number in range(rounds):
                for name in names[number % len(names):] + names[:number % len(names)]:
                    server = started.get(name)
                    if server is None or server.process.poll() is not None:
                        runs[name].append({"failed": failures.get(name, "the server exited")})
                        continue
                    r = run_load(load, server, load_cpu, mode, connections, size, duration)
                    print(f"  {name:17} {mode:9} {connections:5} x {size:5} (round {number + 1} of {rounds}): " +
                          (f"failed ({r['failed']})" if "failed" in r else
                           f"{r['messages_per_s']:10.0f} msg/s, server CPU {r.get('server_cpu_share', 0):.0%}"),
                          file=sys.stderr)
                    runs[name].append(r)
            for name in names:
                cell = median_round(runs[name])
                cell.update(mode=mode, connections=connections, size=size)
                results[name].append(cell)
    finally:
        for server in started.values():
            server.stop()
    return results


def median_round(runs):
    """One cell's result over the rounds: failed if any round failed (every byte counts), else the
    round with the median rate, with every round's rate beside it."""
    failed = [r for r in runs if "failed" in r]
    if failed:
        return failed[0]
    ordered = sorted(runs, key=lambda r: r["messages_per_s"])
    middle = dict(ordered[(len(ordered) - 1) // 2])
    middle["rounds_messages_per_s"] = [r["messages_per_s"] for r in runs]
    return middle


def available(command):
    return os.access(command[0], os.X_OK)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build")
    parser.add_argument("out")
    parser.add_argument("--duration", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each cell on every server, interleaved")
    parser.add_argument("--only", default="", help="comma-separated server names")
    parser.add_argument("--quick", action="store_true", help="one echo cell and one broadcast cell per server")
    parser.add_argument("--no-idle", action="store_true", help="leave out the idle-memory measurement")
    parser.add_argument("--check", action="store_true", help="exit 1 when any cell failed")
    args = parser.parse_args()
    load = os.path.join(args.build, "tools", "wsframe-load")
    if not available([load]):
        sys.exit(f"e2e.py: {load} is not built")
    echo_cells, broadcast_cells = (ECHO_GRID[:1], BROADCAST_GRID[:1]) if args.quick else (ECHO_GRID, BROADCAST_GRID)
    cpus_ = cpus()
    report = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "cpu": cpu_model(), "cores": os.cpu_count(), "server_cpu": cpus_[0], "generator_cpu": cpus_[1],
              "duration_s": args.duration, "servers": {}}
    only = set(filter(None, args.only.split(",")))
    chosen = {}
    for name, (echo, pubsub, env) in servers(args.build).items():
        if only and name not in only:
            continue
        if not available(echo):
            report["servers"][name] = {"skipped": f"{echo[0]} is not available"}
            print(f"{name}: skipped ({echo[0]} is not available)", file=sys.stderr)
            continue
        chosen[name] = (echo, pubsub, env)
    echo_results = grid(load, {name: (echo, env) for name, (echo, _, env) in chosen.items()}, cpus_, "echo",
                        echo_cells, args.duration, args.rounds)
    broadcast_results = grid(load, {name: (pubsub, env) for name, (_, pubsub, env) in chosen.items()}, cpus_,
                             "broadcast", broadcast_cells, args.duration, args.rounds)
    report["rounds"] = args.rounds
    for name, (echo, pubsub, env) in chosen.items():
        report["servers"][name] = {"cells": echo_results[name] + broadcast_results[name]}
        if not args.no_idle:
            report["servers"][name]["idle"] = idle = idle_memory(echo, env, cpus_[0])
            print(f"  {name} idle: {idle}", file=sys.stderr)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
    failed = [f"{name} {c['mode']} {c['connections']} x {c['size']}" for name, r in report["servers"].items()
              for c in r.get("cells", []) if "failed" in c]
    failed += [f"{name} idle" for name, r in report["servers"].items() if "failed" in r.get("idle", {})]
    if args.check and failed:
        sys.exit("e2e.py: failed: " + ", ".join(failed))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return re.search(r"model name\s*:\s*(.*)", f.read()).group(1)
    except (OSError, AttributeError):
        return platform.processor()


if __name__ == "__main__":
    main()
