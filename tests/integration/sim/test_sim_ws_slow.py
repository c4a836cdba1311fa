"""A WebSocket client that stops reading is cut (as Bybit cuts slow consumers) while the other
subscribers of the same topics keep receiving: one slow socket never holds up the fan-out."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
from typing import Any

from simtools import SimThread
from wsclient import RawWs, run

SHARED = "orderbook.50.BTCUSDT"
FLOOD = ["orderbook.1.BTCUSDT", "orderbook.1.ETHUSDT", SHARED]  # ~20,000 frames/s at this cadence


def stuck_client(port: int) -> socket.socket:
    """A real WebSocket handshake and subscribe over a tiny receive window, then no reads."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            "GET /v5/public/linear HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, "handshake refused"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    payload = json.dumps({"op": "subscribe", "args": FLOOD}).encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    assert len(payload) < 126
    sock.sendall(bytes((0x81, 0x80 | len(payload))) + mask + masked)
    return sock


def test_a_client_that_stops_reading_is_cut_and_others_keep_receiving(sim_factory: Any) -> None:
    server: SimThread = sim_factory(
        cadence_scale=0.01, level1_repush_s=0.0001, ws_latency_ms=0.0, ws_max_queue=10
    )

    def open_sockets() -> int:
        assert server.sim is not None
        return len(server.sim.hub.conns)

    async def scenario() -> None:
        fast = await RawWs.connect(server.ws_url("/v5/public/linear"))
        received = 0

        async def drain() -> None:
            nonlocal received
            while await fast.recv(10) is not None:
                received += 1

        # The reader shares a topic with the stuck client, at a rate this process keeps up with.
        await fast.send({"op": "subscribe", "args": [SHARED]})
        reader = asyncio.create_task(drain())
        stuck = await asyncio.to_thread(stuck_client, server.port)
        try:
            deadline = time.monotonic() + 40  # generous: the kernel buffers fill first
            while await asyncio.to_thread(server.call, open_sockets) != 1:
                assert time.monotonic() < deadline, "the stuck client was never cut"
                assert not reader.done(), "the reading client was cut too"
                await asyncio.sleep(0.1)
            before = received
            deadline = time.monotonic() + 10
            while received == before:  # the reading client is still served, by book moves
                assert time.monotonic() < deadline and not reader.done()
                await asyncio.sleep(0.05)
        finally:
            stuck.close()
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            await fast.close()

    run(scenario())
