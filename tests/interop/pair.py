#!/usr/bin/python3
"""Runs one interop pair: starts a server, waits for `listening on HOST:PORT`, runs a client
against ws://HOST:PORT, then stops the server with SIGTERM. Bounded: the server must be ready
in 20 s, the client must finish within --timeout, the server must exit within 10 s of SIGTERM.

    pair.py [--timeout S] [--server-must-exit-cleanly] --server 'CMD ...' --client 'CMD ... {uri}'

In the client command, {server_pid} stands for the server's process id. --client-must-fail-with
REGEX inverts the verdict for a client run against a faulty server: the pair passes when the client
exits non-zero and its output (stdout and stderr) matches REGEX.

Exit status: the client's, or 1 when the server misbehaved (did not start, or did not stop
cleanly when --server-must-exit-cleanly is given). The server's stderr is shown on failure.
"""
import argparse
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time

NODE_ENV = {"NODE_PATH": "/usr/share/nodejs"}


def run_client(command, env, timeout, must_fail_with):
    """The client's exit status, or with must_fail_with 0 exactly when it failed as expected."""
    if must_fail_with is None:
        return subprocess.run(command, env=env, timeout=timeout).returncode
    run = subprocess.run(command, env=env, timeout=timeout, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(run.stdout, end="", flush=True)
    if run.returncode == 0:
        print("FAIL the client succeeded against a faulty server", flush=True)
        return 1
    if not re.search(must_fail_with, run.stdout):
        print(f"FAIL the client's output does not match {must_fail_with!r}", flush=True)
        return 1
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--client", required=True)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--server-must-exit-cleanly", action="store_true")
    parser.add_argument("--client-must-fail-with", metavar="REGEX")
    args = parser.parse_args()
    env = dict(os.environ, **NODE_ENV)

    server_err = tempfile.TemporaryFile()
    server = subprocess.Popen(shlex.split(args.server), stdout=subprocess.PIPE, stderr=server_err, env=env, text=True)
    address = []
    ready = threading.Event()

    def read_banner():
        for line in server.stdout:
            m = re.match(r"listening on (\S+):(\d+)", line)
            if m and not address:
                address.append((m.group(1), m.group(2)))
                ready.set()
            # keep draining so the server never blocks on a full pipe
        ready.set()  # the server exited without a banner
    threading.Thread(target=read_banner, daemon=True).start()
    ready.wait(20)

    def show_server_stderr():
        server_err.seek(0)
        text = server_err.read().decode(errors="replace")
        if text:
            print("--- server stderr\n" + text[-4000:], flush=True)

    if not address:
        print(f"FAIL server did not print 'listening on HOST:PORT' within 20 s: {args.server}", flush=True)
        server.kill()
        server.wait()
        show_server_stderr()
        return 1
    host, port = address[0]
    uri = f"ws://{host}:{port}"
    print(f"server: {args.server} -> {uri}", flush=True)

    status = 0
    client = shlex.split(args.client.replace("{uri}", uri).replace("{server_pid}", str(server.pid)))
    try:
        status = run_client(client, dict(env, WSFRAME_SERVER_PID=str(server.pid)), args.timeout,
                            args.client_must_fail_with)
    except subprocess.TimeoutExpired:
        print(f"FAIL client exceeded {args.timeout} s", flush=True)
        status = 1
    except OSError as e:
        print(f"FAIL cannot run the client: {e}", flush=True)
        status = 1

    server.send_signal(signal.SIGTERM)
    try:
        server_status = server.wait(10)
    except subprocess.TimeoutExpired:
        print("FAIL server did not exit within 10 s of SIGTERM", flush=True)
        server.kill()
        server_status = server.wait()
    if args.server_must_exit_cleanly and server_status != 0:
        print(f"FAIL server exit status {server_status} after SIGTERM, expected 0", flush=True)
        status = status or 1
    if status != 0:
        show_server_stderr()
    return status


if __name__ == "__main__":
    sys.exit(main())
