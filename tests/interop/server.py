#!/usr/bin/python3
"""Echo server on Python `websockets` (Debian python3-websockets 10.4), the reverse-direction peer.

    /usr/bin/python3 tests/interop/server.py [--host 127.0.0.1] [--port 0] [--max-message BYTES]
                                             [--deflate [--deflate-params PARAMS]]

Prints `listening on HOST:PORT` once ready; echoes text as text and binary as binary; answers
pings and completes the close handshake (websockets does both); stops on SIGINT/SIGTERM.
--deflate accepts permessage-deflate offers with websockets' defaults (it asks for 12-bit windows
both ways); --deflate-params "server_no_context_takeover;server_max_window_bits=10" replaces them
by the server's wishes (ServerPerMessageDeflateFactory's parameters).
"""
import argparse
import asyncio
import signal

import websockets
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory


async def echo(ws, _path=None):
    try:
        async for message in ws:
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass


def deflate_options(deflate, params):
    """websockets.serve's compression settings: none, its defaults, or the given wishes."""
    if not deflate:
        return dict(compression=None)
    if not params:
        return dict(compression="deflate")
    wishes = {}
    for p in filter(None, (p.strip() for p in params.split(";"))):
        key, _, value = p.partition("=")
        wishes[key] = int(value) if value else True
    return dict(compression=None, extensions=[ServerPerMessageDeflateFactory(**wishes, compress_settings={"memLevel": 5})])


async def serve_until_stopped(handler, host, port, **options):
    """Serves `handler` on host:port, prints the banner pair.py waits for, returns on SIGINT/SIGTERM."""
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with websockets.serve(handler, host, port, max_queue=16, ping_interval=None, close_timeout=5, backlog=4096,
                                **options) as server:
        bound = server.sockets[0].getsockname()
        print(f"listening on {bound[0]}:{bound[1]}", flush=True)
        await stop


async def serve(host, port, max_message, compression):
    await serve_until_stopped(echo, host, port, max_size=max_message, **compression)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--max-message", type=int, default=64 * 1024 * 1024)
    parser.add_argument("--deflate", action="store_true", help="accept permessage-deflate offers")
    parser.add_argument("--deflate-params", default="", metavar="PARAMS", help="the server's wishes (with --deflate)")
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port, args.max_message, deflate_options(args.deflate, args.deflate_params)))


if __name__ == "__main__":
    main()
