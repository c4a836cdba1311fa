"""``/debug/tracemalloc`` on the bot's metrics server: a real aiohttp server on 127.0.0.1,
off (404) unless tracing, and the top site of a deliberate allocation named by file:line."""

from __future__ import annotations

import asyncio
import json
import tracemalloc
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bot.metrics import BotMetrics, MetricsServer, _is_loopback


def _get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


async def _serve_and_get(path: str) -> tuple[int, dict[str, Any]]:
    server = MetricsServer(BotMetrics(), lambda: (True, "quoting"), "127.0.0.1", 0)
    url = await server.start()
    try:
        return await asyncio.to_thread(_get, url + path)
    finally:
        await server.stop()


def _allocate() -> list[bytes]:
    return [bytes(100_000) for _ in range(50)]  # THE ALLOCATION


def test_off_unless_tracing() -> None:
    if tracemalloc.is_tracing():
        pytest.skip("tracemalloc already on in this interpreter")
    status, body = asyncio.run(_serve_and_get("/debug/tracemalloc"))
    assert status == 404 and "tracemalloc is off" in body["error"]


def test_snapshot_names_the_allocating_line() -> None:
    tracemalloc.start(1)
    try:
        hoard = _allocate()
        status, body = asyncio.run(_serve_and_get("/debug/tracemalloc?limit=5"))
    finally:
        tracemalloc.stop()
    assert status == 200 and len(body["stats"]) <= 5
    top = body["stats"][0]
    source = Path(__file__).read_text().splitlines()
    line = next(i for i, text in enumerate(source, 1) if text.endswith("# THE ALLOCATION"))
    assert top["file"].endswith("test_tracemalloc_endpoint.py") and top["line"] == line
    assert top["size"] >= 50 * 100_000 and top["count"] >= 50
    assert len(hoard) == 50


def test_loopback_only() -> None:
    assert _is_loopback("127.0.0.1") and _is_loopback("::1")
    assert not _is_loopback("10.0.0.5") and not _is_loopback(None) and not _is_loopback("x")
