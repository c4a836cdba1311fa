"""report.html in a real headless Chromium: no console errors, and the charts are drawn.

Chromium (Debian ``chromium``; ``.ci/run`` installs it) is driven over the DevTools protocol
with the ``websockets`` package: console errors and uncaught exceptions are collected while the
page loads, then a 1280×2000 screenshot is taken, kept under ``test-artifacts/`` and decoded
with zlib to count its distinct colours (a blank or unstyled page has a handful). A page that
throws on purpose checks that the harness really sees errors.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import signal
import struct
import subprocess
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from soakctl.analyze import analyze_path

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
MIB = 1 << 20
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--remote-debugging-address=127.0.0.1",
    "--window-size=1280,2000",
]


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) for an 8-bit RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, []
    width = height = bpp = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6), (depth, color)
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    prior = bytearray(stride)
    rows = []
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        _unfilter(kind, line, prior, bpp)
        rows.append(bytes(line))
        prior = line
    return width, height, rows


def _unfilter(kind: int, line: bytearray, prior: bytearray, bpp: int) -> None:
    n = len(line)
    if kind == 1:
        for i in range(bpp, n):
            line[i] = (line[i] + line[i - bpp]) & 0xFF
    elif kind == 2:
        line[:] = bytes((a + b) & 0xFF for a, b in zip(line, prior, strict=True))
    elif kind == 3:
        for i in range(n):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + prior[i]) >> 1)) & 0xFF
    elif kind == 4:
        for i in range(n):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prior[i], prior[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[i] = (line[i] + pred) & 0xFF
    else:
        assert kind == 0, kind


class Chromium:
    """A headless Chromium with a fresh profile; ``close()`` kills its whole process group."""

    def __init__(self, profile: Path) -> None:
        assert CHROMIUM is not None
        self.profile = profile
        self.log = (profile.parent / "chromium.log").open("wb")
        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )

    def ws_url(self, timeout_s: float = 60.0) -> str:
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"chromium exited with {self.proc.returncode}")
            lines = port_file.read_text().split() if port_file.exists() else []
            if len(lines) == 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            time.sleep(0.1)
        raise AssertionError("chromium did not open its DevTools port in time")

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.log.close()


async def load_page(ws_url: str, url: str) -> tuple[list[str], bytes]:
    """Open ``url`` at 1280×2000; return (console errors and exceptions, PNG screenshot)."""
    from websockets.asyncio.client import connect

    ids = itertools.count(1)
    errors: list[str] = []
    async with connect(ws_url, max_size=64 * MIB) as ws:
        pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        loaded = asyncio.Event()

        async def reader() -> None:
            async for raw in ws:
                msg = json.loads(raw)
                if "id" in msg and msg["id"] in pending:
                    pending.pop(msg["id"]).set_result(msg)
                    continue
                method, params = msg.get("method"), msg.get("params", {})
                if method == "Runtime.exceptionThrown":
                    details = params["exceptionDetails"]
                    text = details.get("exception", {}).get("description") or details["text"]
                    errors.append(f"exception: {text[:300]}")
                elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                    errors.append(f"console.{params['type']}: {json.dumps(params['args'])[:300]}")
                elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                    errors.append(params["entry"]["text"][:300])
                elif method == "Page.loadEventFired":
                    loaded.set()

        async def call(method: str, session: str | None = None, **params: Any) -> Any:
            msg_id = next(ids)
            fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            pending[msg_id] = fut
            payload: dict[str, Any] = {"id": msg_id, "method": method, "params": params}
            if session:
                payload["sessionId"] = session
            await ws.send(json.dumps(payload))
            reply = await asyncio.wait_for(fut, 60)
            assert "error" not in reply, reply
            return reply["result"]

        task = asyncio.create_task(reader())
        try:
            target = await call("Target.createTarget", url="about:blank")
            session = (
                await call("Target.attachToTarget", targetId=target["targetId"], flatten=True)
            )["sessionId"]
            for domain in ("Runtime", "Log", "Page"):
                await call(f"{domain}.enable", session)
            await call(
                "Emulation.setDeviceMetricsOverride",
                session,
                width=1280,
                height=2000,
                deviceScaleFactor=1,
                mobile=False,
            )
            loaded.clear()
            await call("Page.navigate", session, url=url)
            await asyncio.wait_for(loaded.wait(), 60)
            deadline = time.monotonic() + 60
            while True:  # the load event of about:blank may arrive late: wait for *our* page
                state = await call(
                    "Runtime.evaluate",
                    session,
                    returnByValue=True,
                    expression="[location.href, document.readyState]",
                )
                if state["result"]["value"] == [url, "complete"]:
                    break
                assert time.monotonic() < deadline, state
                await asyncio.sleep(0.1)
            shot = await call("Page.captureScreenshot", session, format="png")
            await call("Target.closeTarget", targetId=target["targetId"])
        finally:
            task.cancel()
    return errors, base64.b64decode(shot["data"])


def _colours(png: bytes) -> tuple[int, int, int]:
    width, height, rows = decode_png(png)
    bpp = len(rows[0]) // width
    colours = {row[i : i + 3] for row in rows[::2] for i in range(0, len(row), bpp * 2)}
    return width, height, len(colours)


@pytest.fixture
def browser(tmp_path: Path):  # type: ignore[no-untyped-def]
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium; .ci/run does it)")
    chrome = Chromium(tmp_path / "chromium-profile")
    try:
        yield chrome
    finally:
        chrome.close()


def _trace(path: Path) -> Path:
    """A 2 h run at 1 Hz: warm-up, GC sawtooth, a leak, a restart, fds/threads, CPU."""
    import numpy as np
    import orjson

    gen = np.random.default_rng(9)
    el = np.arange(0.0, 7200.0)
    restarts = (el >= 5000).astype(int)
    since = np.where(el >= 5000, el - 5000, el)
    rss = (
        150 * MIB
        + 120 * MIB * (1 - np.exp(-since / 300))
        + 40 * MIB * (since % 240) / 240
        + 30 * MIB * since / 3600
        + gen.normal(0, MIB, el.size)
    )
    with path.open("wb") as fh:
        for i in range(el.size):
            fh.write(
                orjson.dumps(
                    {
                        "ts": 1_780_000_000.0 + float(el[i]),
                        "rss_bytes": int(rss[i]),
                        "cpu_percent": float(abs(20 + gen.normal(0, 5))),
                        "num_threads": 9,
                        "num_fds": 30 + int(since[i] // 300),
                        "num_procs": 2,
                        "zombies": 0,
                        "restarts": int(restarts[i]),
                        "metrics": {"mmbot_open_orders": int(i % 5)},
                    }
                )
                + b"\n"
            )
    return path


def test_report_renders_without_errors_and_draws_charts(tmp_path: Path, browser: Chromium) -> None:
    samples = _trace(tmp_path / "resources.jsonl")
    result = analyze_path(samples)
    assert result.leak.status == "leak"
    report = tmp_path / "report.html"
    errors, png = asyncio.run(load_page(browser.ws_url(), report.as_uri()))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report-screenshot.png").write_bytes(png)
    assert errors == []
    width, height, colours = _colours(png)
    assert (width, height) == (1280, 2000)
    assert colours > 40, f"screenshot looks blank: {colours} colours"


def test_harness_sees_console_errors(tmp_path: Path, browser: Chromium) -> None:
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><body><p>x</p><script>console.error('bad');"
        "throw new Error('boom')</script></body></html>"
    )
    errors, png = asyncio.run(load_page(browser.ws_url(), page.as_uri()))
    assert any("boom" in e for e in errors)
    assert any("bad" in e for e in errors)
    assert _colours(png)[2] < 40  # a near-blank page is recognised as such


def _run_dir(path: Path, seconds: int, interval_s: float = 1.0, *,
             aborted_at_s: float | None = None, restart_at_s: float | None = None) -> Path:
    """A run directory: samples (RSS with a warm-up and a leak, constant threads, counters),
    events where they happened (a restart mid-run, the stop after the last sample) and run.json
    (``exit_reason: aborted`` with its reason and time when ``aborted_at_s``)."""
    import numpy as np
    import orjson

    gen = np.random.default_rng(11)
    el = np.arange(0.0, seconds, interval_s)
    t0 = 1_780_000_000.0
    restarts = (el >= restart_at_s).astype(int) if restart_at_s else np.zeros(el.size, int)
    rss = (150 * MIB + 40 * MIB * (1 - np.exp(-el / 60)) + 300 * MIB * el / 3600
           + gen.normal(0, MIB, el.size))
    path.mkdir(parents=True)
    with (path / "resources.jsonl").open("wb") as fh:
        fh.write(b"".join(orjson.dumps({
            "ts": t0 + e, "elapsed_s": e, "rss_bytes": int(r), "cpu_percent": 10.0 + (i % 7),
            "num_threads": 9, "num_fds": 30 + int(e // 600), "num_procs": 2, "zombies": 0,
            "io_write_bytes": int(e) * 4096, "log_bytes": int(e) * 100,
            "restarts": int(restarts[i]),
            "metrics": {"mmbot_orders_total": int(e) * 3, "mmbot_queue_depth": int(i % 9),
                        "mmbot_position": 0.0},
        }) + b"\n" for i, (e, r) in enumerate(zip(el.tolist(), rss.tolist(), strict=True))))
    end = t0 + float(el[-1])
    events = [{"ts": t0, "event": "start", "name": "target", "pid": 10}]
    if restart_at_s:
        events += [{"ts": t0 + restart_at_s - 1, "event": "exit", "name": "target",
                    "returncode": 1, "expected": False},
                   {"ts": t0 + restart_at_s - 1, "event": "restart", "name": "target"}]
    events += [{"ts": end + 0.5, "event": "stop", "name": "target", "reason": "duration"},
               {"ts": end + 1.0, "event": "exit", "name": "target", "returncode": -15,
                "expected": True}]
    (path / "events.jsonl").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    run: dict[str, Any] = {"schema": 1, "run_id": path.name, "profile": "bot-sim",
                           "start_ts": t0, "end_ts": end + 1, "exit_reason": "duration_reached",
                           "unexpected_exit": False, "restarts": int(restarts[-1])}
    if aborted_at_s is not None:
        run.update(exit_reason="aborted", abort_reason="RSS leak confirmed twice (99 %)",
                   aborted_at=t0 + aborted_at_s)
    (path / "run.json").write_bytes(orjson.dumps(run))
    return path


def _markers_x(report: str) -> list[float]:
    import re

    return [float(x) for x in re.findall(r'<line x1="([0-9.]+)" x2="\1" y1="\d+" y2="\d+" '
                                         r'stroke="#(?:dc2626|111827)"', report)]


@pytest.mark.parametrize(("name", "seconds", "interval_s", "unit"), [
    ("short", 240, 1.0, " s<"), ("day", 86_400, 1.0, " h<")])
def test_report_for_a_short_and_a_24h_run(tmp_path: Path, browser: Chromium, name: str,
                                          seconds: int, interval_s: float, unit: str) -> None:
    run = _run_dir(tmp_path / name, seconds, interval_s, restart_at_s=seconds * 0.6)
    analyze_path(run)
    report = (run / "report.html").read_text()
    assert unit in report  # the time axis speaks the run's scale
    assert "Constant throughout the run" in report and ">threads<" in report
    assert "mmbot_orders_total /s" in report  # a counter drawn as a rate
    # The restart marker sits at 60 % of the plot width, not stacked at the right edge.
    xs = _markers_x(report)
    assert xs and all(70 + 0.55 * 914 < x < 70 + 0.65 * 914 for x in xs), xs
    errors, png = asyncio.run(load_page(browser.ws_url(), (run / "report.html").as_uri()))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"report-{name}.png").write_bytes(png)
    assert errors == []
    assert _colours(png)[2] > 40


def test_report_of_an_aborted_run_marks_the_abort(tmp_path: Path, browser: Chromium) -> None:
    run = _run_dir(tmp_path / "aborted", 900, aborted_at_s=720)
    analyze_path(run)
    report = (run / "report.html").read_text()
    assert "Aborted</b> after 12m" in report
    assert "RSS leak confirmed twice" in report
    xs = _markers_x(report)
    assert xs and all(70 + 0.75 * 914 < x < 70 + 0.85 * 914 for x in xs), xs
    errors, png = asyncio.run(load_page(browser.ws_url(), (run / "report.html").as_uri()))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report-aborted.png").write_bytes(png)
    assert errors == []
    assert _colours(png)[2] > 40
