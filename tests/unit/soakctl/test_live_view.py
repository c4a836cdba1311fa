"""The live views show the leak estimate: the plain CI lines and the rich status text."""

from __future__ import annotations

import io

from soakctl.cli.live import PlainObserver, RichObserver, leak_text
from soakctl.observer import NullObserver

EST = {"series": "rss_bytes", "slope_mib_per_hour": 3624.5, "ci_mib_per_hour": [3611.6, 3636.8],
       "status": "leak"}


def test_leak_text() -> None:
    assert leak_text(EST) == "leak? 3624 MiB/h (CI 3612 to 3637) leak"
    assert leak_text({"slope_mib_per_hour": 1.234, "ci_mib_per_hour": [-0.5, 3.25],
                      "status": "no_leak"}) == "leak? 1.23 MiB/h (CI -0.5 to 3.25) no leak"
    assert "not enough data" in leak_text({"slope_mib_per_hour": None, "status": "inconclusive"})


def test_plain_view_prints_status_changes_and_carries_the_estimate() -> None:
    out = io.StringIO()
    view = PlainObserver(every_s=0.0, stream=out)
    view.on_start({"run_dir": "/r", "profile": "p", "command": ["x"], "duration_s": 60.0,
                   "interval_s": 1.0})
    view.on_leak_estimate(EST)
    view.on_leak_estimate(EST)  # same status: no new line
    view.on_sample({"elapsed_s": 5.0, "rss_bytes": 1 << 20})
    lines = out.getvalue().splitlines()
    assert lines.count("leak estimate: leak? 3624 MiB/h (CI 3612 to 3637) leak") == 1
    assert lines[-1].endswith("leak? 3624 MiB/h (CI 3612 to 3637) leak")


def test_rich_view_and_null_observer_accept_it() -> None:
    view = RichObserver()
    view.on_leak_estimate(EST)  # before start: kept for the next update
    assert "3624 MiB/h" in view._leak
    NullObserver().on_leak_estimate(EST)
