#!/usr/bin/python3
"""Pub/sub relay on Python `websockets` (Debian python3-websockets 10.4): every message a client
sends goes to every connected client, the sender included, in the order received.

    /usr/bin/python3 tests/interop/relay.py [--host 127.0.0.1] [--port 0] [--echo | --broadcast]
                                            [--fault drop|corrupt --every N]

Prints `listening on HOST:PORT` once ready; stops on SIGINT/SIGTERM. A client is registered before
its first message is read, and each message is sent to the clients one after the other, awaiting
each send (websockets' flow control), so a slow subscriber slows the relay down rather than losing
messages. The peer for wsframe-load's broadcast mode.

--broadcast hands each message to websockets.broadcast() instead, which writes it to every open
connection without waiting for any (the library's own fan-out; a client that falls behind is
buffered, not waited for). --echo sends each message back to its sender only (an echo server). --fault makes it faulty, for
tests that the load generator notices: every N-th message it relays (counted over all clients) is
dropped, or has its last byte changed.
"""
import argparse
import asyncio

import websockets

from server import serve_until_stopped

clients = set()
relayed = 0


def faulty(message, fault, every):
    """The message as relayed: None when dropped."""
    global relayed
    relayed += 1
    if fault is None or relayed % every != 0:
        return message
    if fault == "drop":
        return None
    last = chr((ord(message[-1]) + 1) % 128) if isinstance(message, str) else bytes([(message[-1] + 1) % 256])
    return message[:-1] + last


async def relay(ws, echo, broadcast, fault, every):
    clients.add(ws)
    try:
        async for message in ws:
            message = faulty(message, fault, every)
            if message is None:
                continue
            if broadcast:
                websockets.broadcast(clients, message)
                continue
            for client in [ws] if echo else list(clients):
                try:
                    await client.send(message)
                except websockets.ConnectionClosed:
                    pass
    except websockets.ConnectionClosed:
        pass
    finally:
        clients.discard(ws)


async def serve(host, port, echo, broadcast, fault, every):
    await serve_until_stopped(lambda ws, _path=None: relay(ws, echo, broadcast, fault, every), host, port,
                              compression=None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--echo", action="store_true", help="send each message back to its sender only")
    parser.add_argument("--broadcast", action="store_true", help="fan out with websockets.broadcast()")
    parser.add_argument("--fault", choices=["drop", "corrupt"])
    parser.add_argument("--every", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port, args.echo, args.broadcast, args.fault, args.every))


if __name__ == "__main__":
    main()
