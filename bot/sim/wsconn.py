"""One WebSocket connection to the simulator: its outbound queue, latency, stall and drop.

Every frame to a client goes through :meth:`WsConnection.send`, which only appends to a deque
(callable from synchronous engine callbacks); one writer task per connection sends frames once
they are due (``ws_latency_ms`` models the network, and keeps acks from overtaking pybit's own
bookkeeping, docs/bybit-v5.md §1). Frames are pre-serialised bytes, so a push fanned out to many
clients is serialised once, and every frame due at once goes out in a single transport write
(framed here per RFC 6455; the socket never negotiates compression). A client that falls
``ws_max_queue`` frames behind is cut, as exchanges cut slow consumers. ``abort`` drops the TCP
connection without a close frame, which clients report as close code 1006.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque

from aiohttp import web

logger = logging.getLogger(__name__)

BATCH_FRAMES = 256
HIGH_WATER_BYTES = 1 << 20


def text_frame(payload: bytes) -> bytes:
    """An unmasked, unfragmented server-to-client text frame (RFC 6455 §5.2)."""
    length = len(payload)
    if length < 126:
        header = bytes((0x81, length))
    elif length < 1 << 16:
        header = bytes((0x81, 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + length.to_bytes(8, "big")
    return header + payload


class WsConnection:
    """Outbound side and per-connection state (topics, auth, activity) of one socket."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        request: web.Request,
        *,
        channel: str,
        conn_id: str,
        latency_s: float,
        max_queue: int,
        idle_timeout_s: float,
    ) -> None:
        self.ws = ws
        self.request = request
        self.channel = channel  # "linear" | "spot" | "private"
        self.conn_id = conn_id
        self.latency_s = latency_s
        self.max_queue = max_queue
        self.idle_timeout_s = idle_timeout_s
        self.topics: set[str] = set()
        self.api_key: str | None = None
        self.last_rx = time.monotonic()
        self.stalled_until = 0.0
        self.closed = False
        self.frames_sent = 0
        self._queue: deque[tuple[float, bytes]] = deque()
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._yielded = False

    def start(self) -> asyncio.Task[None]:
        self._writer = asyncio.create_task(self._write_loop(), name=f"sim-ws-writer-{self.conn_id}")
        return self._writer

    def send(self, data: bytes) -> None:
        """Queue a text frame for delivery after the modelled latency."""
        if self.closed:
            return
        now = time.monotonic()
        if now < self.stalled_until:
            return  # a stalled socket sends nothing, not even later
        if len(self._queue) >= self.max_queue:
            logger.warning(
                "ws %s: slow consumer (%d frames queued), closing", self.conn_id, len(self._queue)
            )
            self.abort()
            return
        self._queue.append((now + self.latency_s, data))
        if not self._wake.is_set():
            self._wake.set()

    def stall(self, duration_s: float) -> None:
        self.stalled_until = time.monotonic() + duration_s
        self._queue.clear()

    @property
    def stalled(self) -> bool:
        return time.monotonic() < self.stalled_until

    async def _write_loop(self) -> None:
        queue = self._queue
        try:
            while not self.closed:
                if not queue:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                now = time.monotonic()
                delay = queue[0][0] - now
                if delay > 0:
                    await asyncio.sleep(delay)
                    continue
                if len(queue) < BATCH_FRAMES and not self._yielded:
                    # Let the other publishers of this loop turn queue theirs first: one write
                    # (one syscall) then carries them all.
                    self._yielded = True
                    await asyncio.sleep(0)
                    continue
                self._yielded = False
                batch: list[bytes] = []
                while queue and queue[0][0] <= now and len(batch) < BATCH_FRAMES:
                    batch.append(text_frame(queue.popleft()[1]))
                await self._write(b"".join(batch))
                self.frames_sent += len(batch)
        except (ConnectionError, RuntimeError):  # peer went away mid-send
            self.abort()

    async def _write(self, data: bytes) -> None:
        """All due frames in one transport write (one syscall instead of one per frame)."""
        transport = self.request.transport
        if transport is None or transport.is_closing() or self.ws.closed:
            raise ConnectionResetError("transport closed")
        transport.write(data)
        while transport.get_write_buffer_size() > HIGH_WATER_BYTES:
            if transport.is_closing():
                raise ConnectionResetError("transport closed")
            await asyncio.sleep(0.005)  # the peer reads slowly: let the kernel drain

    def abort(self) -> None:
        """Drop the connection without a close frame (the client sees 1006)."""
        self.closed = True
        self._queue.clear()
        self._wake.set()
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def close(self) -> None:
        """Close normally (idle timeout, shutdown); falls back to abort if the peer is stuck."""
        self.closed = True
        self._wake.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), timeout=1.0)
        if not self.ws.closed:
            self.abort()

    async def stop_writer(self) -> None:
        self.closed = True
        self._wake.set()
        if self._writer is not None and not self._writer.done():
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._writer
