"""A raw WebSocket test client (aiohttp) that records frames and maintains order books."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

from bot.bybit_v5.signing import sign_ws_auth


class RawWs:
    """One socket; ``recv`` returns parsed JSON frames, ``None`` once closed."""

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.session = session
        self.ws = ws

    @classmethod
    async def connect(cls, url: str) -> RawWs:
        session = aiohttp.ClientSession()
        try:
            ws = await session.ws_connect(url, autoping=True, heartbeat=None)
        except BaseException:
            await session.close()
            raise
        return cls(session, ws)

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.ws.send_str(message if isinstance(message, str) else json.dumps(message))

    async def recv(self, timeout_s: float = 5.0) -> dict[str, Any] | None:
        msg = await self.ws.receive(timeout=timeout_s)
        if msg.type is aiohttp.WSMsgType.TEXT:
            return json.loads(msg.data)
        return None

    async def until(self, predicate: Any, timeout_s: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no matching frame")
            try:
                frame = await self.recv(left)
            except TimeoutError:
                raise AssertionError("no matching frame") from None
            if frame is None:
                raise AssertionError("socket closed while waiting")
            if predicate(frame):
                return frame

    async def auth(self, key: str, secret: str, expires_ms: int | None = None) -> dict[str, Any]:
        expires = expires_ms or int(time.time() * 1000) + 10_000
        await self.send(
            {"req_id": "a1", "op": "auth", "args": [key, expires, sign_ws_auth(secret, expires)]}
        )
        return await self.until(lambda f: f.get("op") == "auth")

    async def close(self) -> None:
        await self.ws.close()
        await self.session.close()


class LocalBook:
    """Applies snapshot/delta frames exactly as docs/bybit-v5.md §7 says, strictly."""

    def __init__(self) -> None:
        self.bids: dict[str, str] = {}
        self.asks: dict[str, str] = {}
        self.u = 0

    def apply(self, frame: dict[str, Any]) -> None:
        data = frame["data"]
        if frame["type"] == "snapshot":
            self.bids = dict(data["b"])
            self.asks = dict(data["a"])
        else:
            assert data["u"] == self.u + 1, f"u jumped {self.u} -> {data['u']}"
            for side, levels in ((self.bids, data["b"]), (self.asks, data["a"])):
                for price, qty in levels:
                    if float(qty) == 0:
                        assert qty == "0", f"delete must be sent as '0', got {qty!r}"
                        assert price in side, f"delete of absent level {price}"
                        del side[price]
                    else:
                        side[price] = qty
        self.u = data["u"]

    def crossed(self) -> bool:
        return bool(self.bids and self.asks) and max(map(float, self.bids)) >= min(
            map(float, self.asks)
        )


def run(coro: Any, timeout_s: float = 60.0) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout_s))
