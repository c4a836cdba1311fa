"""How progress leaves the core: a small observer protocol (no rich here).

The CLI passes a terminal view, a plain CI-log view or a silent one; tests pass a recorder.
"""

from __future__ import annotations

from typing import Any, Protocol

from soakctl.contracts import Sample


class RunObserver(Protocol):
    def on_start(self, info: dict[str, Any]) -> None:
        """The run directory exists and the target is about to start."""

    def on_sample(self, sample: Sample) -> None:
        """A sample was written."""

    def on_event(self, event: dict[str, Any]) -> None:
        """An event was written (start, exit, restart, ...)."""

    def on_leak_estimate(self, estimate: dict[str, Any]) -> None:
        """The live leak estimate so far (``soakctl.live_eval``), at its cadence.

        Keys: ``series`` (``rss_bytes``), ``slope_mib_per_hour`` and ``ci_mib_per_hour``
        (``[lo, hi]``; None while the data cannot say), ``status`` (``leak``, ``no_leak``,
        ``inconclusive``), plus ``window``, ``confident``, ``elapsed_s`` and ``reason``.
        """

    def on_finish(self, summary: dict[str, Any]) -> None:
        """Everything is stopped and ``run.json`` is final."""


class FanOut:
    """Several observers as one (the live view plus ``--metrics-listen``'s exporter).

    Optional methods (``on_leak_estimate``) reach only the observers that define them.
    """

    def __init__(self, *observers: RunObserver) -> None:
        self.observers = observers

    def on_start(self, info: dict[str, Any]) -> None:
        for o in self.observers:
            o.on_start(info)

    def on_sample(self, sample: Sample) -> None:
        for o in self.observers:
            o.on_sample(sample)

    def on_event(self, event: dict[str, Any]) -> None:
        for o in self.observers:
            o.on_event(event)

    def on_leak_estimate(self, estimate: dict[str, Any]) -> None:
        for o in self.observers:
            notify_leak_estimate(o, estimate)

    def on_finish(self, summary: dict[str, Any]) -> None:
        for o in self.observers:
            o.on_finish(summary)


def notify_leak_estimate(observer: object, estimate: dict[str, Any]) -> None:
    """Call ``observer.on_leak_estimate(estimate)`` when the observer has it (it is optional)."""
    method = getattr(observer, "on_leak_estimate", None)
    if callable(method):
        method(estimate)


class NullObserver:
    def on_start(self, info: dict[str, Any]) -> None:
        pass

    def on_sample(self, sample: Sample) -> None:
        pass

    def on_event(self, event: dict[str, Any]) -> None:
        pass

    def on_leak_estimate(self, estimate: dict[str, Any]) -> None:
        pass

    def on_finish(self, summary: dict[str, Any]) -> None:
        pass
