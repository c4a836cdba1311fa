"""One WebSocket connection to the simulator: its outbound queue, latency, stall and drop.

Every frame to a client goes through :meth:`WsConnection.send`, which only appends to a deque
(callable from synchronous engine callbacks) and, on the first frame of a burst, schedules one
flush callback on the event loop: no task, no event and no ``await drain`` per frame or per
connection. The flush writes every frame that is due (``ws_latency_ms`` models the network, and
keeps acks from overtaking pybit's own bookkeeping, docs/bybit-v5.md §1) in a single transport
write, framed here per RFC 6455 (the socket never negotiates compression). Frames are
pre-serialised bytes, so a push fanned out to many clients is serialised once and the same
object is queued to every subscriber.

Slow consumers: while the transport holds more than ``HIGH_WATER_BYTES`` unsent, the flush
writes nothing more and re-checks every ``BLOCKED_RETRY_S``; frames wait in the queue, and a
client that falls ``ws_max_queue`` frames behind is cut (as exchanges cut slow consumers), so
one slow client never holds up the others and its memory stays bounded. ``abort`` drops the TCP
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

BATCH_FRAMES = 256  # frames per transport write at most
HIGH_WATER_BYTES = 1 << 20  # unsent bytes in the transport before a socket counts as blocked
BLOCKED_RETRY_S = 0.005
# A socket is written at most this often: frames due meanwhile go out together in one write
# (one syscall for many frames under a fast stream; at most this much added delay).
FLUSH_MIN_S = 0.0005
_SHORT_HEADERS = [bytes((0x81, n)) for n in range(126)]


def frame_header(length: int) -> bytes:
    """The header of an unmasked, unfragmented server-to-client text frame (RFC 6455 §5.2)."""
    if length < 126:
        return _SHORT_HEADERS[length]
    if length < 1 << 16:
        return bytes((0x81, 126)) + length.to_bytes(2, "big")
    return bytes((0x81, 127)) + length.to_bytes(8, "big")


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
        self._loop = asyncio.get_running_loop()
        self._flush_handle: asyncio.Handle | None = None  # a flush is scheduled
        self._last_flush = 0.0

    def send(self, data: bytes) -> None:
        """Queue a text frame for delivery after the modelled latency."""
        if self.closed:
            return
        now = time.monotonic()
        if now < self.stalled_until:
            return  # a stalled socket sends nothing, not even later
        queue = self._queue
        if len(queue) >= self.max_queue:
            logger.warning(
                "ws %s: slow consumer (%d frames queued), closing", self.conn_id, len(queue)
            )
            self.abort()
            return
        queue.append((now + self.latency_s, data))
        if self._flush_handle is None:
            self._schedule(now)

    def stall(self, duration_s: float) -> None:
        self.stalled_until = time.monotonic() + duration_s
        self._queue.clear()

    @property
    def stalled(self) -> bool:
        return time.monotonic() < self.stalled_until

    def _schedule(self, now: float) -> None:
        """Flush once the head frame is due, and at most once every ``FLUSH_MIN_S``."""
        at = max(self._queue[0][0], self._last_flush + FLUSH_MIN_S)
        if at > now:
            self._flush_handle = self._loop.call_later(at - now, self._flush)
        else:
            self._flush_handle = self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        """Write every due frame (event-loop callback); reschedule for frames not yet due."""
        self._flush_handle = None
        queue = self._queue
        if self.closed or not queue:
            return
        transport = self.request.transport
        if transport is None or transport.is_closing() or self.ws.closed:
            self.abort()  # the peer went away
            return
        now = time.monotonic()
        self._last_flush = now
        try:
            while queue and queue[0][0] <= now:
                if transport.get_write_buffer_size() > HIGH_WATER_BYTES:
                    # The peer reads slowly: leave the rest queued and look again shortly.
                    self._flush_handle = self._loop.call_later(BLOCKED_RETRY_S, self._flush)
                    return
                parts: list[bytes] = []
                count = 0
                while queue and queue[0][0] <= now and count < BATCH_FRAMES:
                    payload = queue.popleft()[1]
                    parts.append(frame_header(len(payload)))
                    parts.append(payload)
                    count += 1
                transport.write(b"".join(parts))
                self.frames_sent += count
        except (ConnectionError, RuntimeError):  # peer went away mid-send
            self.abort()
            return
        if queue:  # the rest is not due yet
            self._schedule(now)

    def _cancel_flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None

    def abort(self) -> None:
        """Drop the connection without a close frame (the client sees 1006)."""
        self.closed = True
        self._queue.clear()
        self._cancel_flush()
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def close(self) -> None:
        """Close normally (idle timeout, shutdown); falls back to abort if the peer is stuck."""
        self.closed = True
        self._cancel_flush()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), timeout=1.0)
        if not self.ws.closed:
            self.abort()

    def stop(self) -> None:
        """The socket is done: queue nothing more, send nothing more."""
        self.closed = True
        self._queue.clear()
        self._cancel_flush()
