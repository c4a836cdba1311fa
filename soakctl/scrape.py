"""Scraping the target's Prometheus endpoint into each sample's ``metrics``.

A background thread fetches ``metrics_url`` once per interval (bounded timeout) and keeps the
latest values; the sampler takes whatever is fresh, so a slow or dead endpoint never delays a
sample. Families are flattened to ``{sample_name: value}`` summed over label sets (buckets and
``_created`` series dropped) — ``ws_reconnect_attempts_total`` over every ``ws_type``, say —
which keeps each line small and the criteria language simple (``metrics.NAME.last``).
"""

from __future__ import annotations

import logging
import math
import threading
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from soakctl.clock import Clock, SystemClock

logger = logging.getLogger(__name__)


def parse_metrics(text: str) -> dict[str, float]:
    """Flatten Prometheus text exposition into ``{name: sum over label sets}``."""
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name = sample.name
            if name.endswith(("_bucket", "_created")) or "quantile" in sample.labels:
                continue
            value = float(sample.value)
            if math.isfinite(value):
                values[name] = values.get(name, 0.0) + value
    return values


class MetricsScraper(threading.Thread):
    def __init__(self, url: str, interval_s: float, *, timeout_s: float = 2.0,
                 clock: Clock | None = None) -> None:
        super().__init__(name="metrics-scraper", daemon=True)
        self.url = url
        self.interval_s = interval_s
        self.timeout_s = min(timeout_s, max(0.2, interval_s))
        self._clock = clock or SystemClock()
        self._stop = threading.Event()
        self._latest: dict[str, float] | None = None
        self._latest_mono = 0.0
        self.errors = 0

    def latest(self) -> dict[str, float] | None:
        """The last scrape if it is at most three intervals old, else None."""
        if self._latest is None:
            return None
        if self._clock.monotonic() - self._latest_mono > 3 * self.interval_s + self.timeout_s:
            return None
        return self._latest

    def scrape_once(self) -> None:
        try:
            with urllib.request.urlopen(self.url, timeout=self.timeout_s) as resp:  # noqa: S310
                text = resp.read(8 << 20).decode("utf-8", "replace")
            self._latest = parse_metrics(text)
            self._latest_mono = self._clock.monotonic()
        except (OSError, ValueError) as exc:
            self.errors += 1
            logger.debug("scrape of %s failed: %s", self.url, exc)

    def run(self) -> None:
        while not self._stop.is_set():
            started = self._clock.monotonic()
            self.scrape_once()
            self._clock.wait(self._stop, self.interval_s - (self._clock.monotonic() - started))

    def stop(self) -> None:
        self._stop.set()
