#!/usr/bin/python3
"""Echo server on Python `websockets` (Debian python3-websockets 10.4), the reverse-direction peer.

    /usr/bin/python3 tests/interop/server.py [--host 127.0.0.1] [--port 0] [--max-message BYTES]

Prints `listening on HOST:PORT` once ready; echoes text as text and binary as binary; answers
pings and completes the close handshake (websockets does both); stops on SIGINT/SIGTERM.
"""
import argparse
import asyncio
import signal

import websockets


async def echo(ws, _path=None):
    try:
        async for message in ws:
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass


async def serve(host, port, max_message):
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with websockets.serve(echo, host, port, max_size=max_message, max_queue=16, compression=None,
                                ping_interval=None, close_timeout=5, backlog=4096) as server:
        bound = server.sockets[0].getsockname()
        print(f"listening on {bound[0]}:{bound[1]}", flush=True)
        await stop


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--max-message", type=int, default=64 * 1024 * 1024)
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port, args.max_message))


if __name__ == "__main__":
    main()
