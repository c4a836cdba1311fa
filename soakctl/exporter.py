"""``soakctl run --metrics-listen``: the latest sample of each supervised process, for Prometheus.

:class:`MetricsExporter` is a run observer (:mod:`soakctl.observer`): ``on_sample`` keeps the
latest sample per process ``name`` (one reference assignment, nothing else on the sampling
path) and ``on_leak_estimate`` the latest live leak estimate per series. A custom
``prometheus_client`` Collector (on ``MetricsExporter.registry``) describes them as metric
families; the page served says the same, written straight from the same data
(:class:`_DirectText`, tested equal) and cached until the next sample arrives, so a scrape
every second costs one small HTTP exchange and at most one cheap rendering.
Series (labels ``run_id``, ``profile``, ``name``):

    soakctl_rss_bytes, soakctl_cpu_percent, soakctl_num_fds, soakctl_num_threads,
    soakctl_num_procs, soakctl_zombies, soakctl_restarts_total (counter),
    soakctl_sample_timestamp_seconds,
    soakctl_leak_slope_mib_per_hour{series}, soakctl_leak_ci_low/high_mib_per_hour{series},
    soakctl_leak_status{series, status}  (1 for the current status, 0 for the others)

Where it listens (``HOST:PORT``, ``[V6]:PORT``, ``:PORT`` or ``PORT``): a bare port binds
127.0.0.1. Any other address is served only when written out as the host, e.g.
``0.0.0.0:9108``: that is the explicit opt-in, and a warning says the page is reachable from
other machines (it carries process sizes and the profile name, never command lines or
environment). Nothing else is served: only ``/metrics``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import math
import selectors
import socket
import socketserver
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from soakctl.contracts import Sample
from soakctl.errors import UsageError

LEAK_STATUSES = ("leak", "no_leak", "inconclusive")
# (metric name, sample key, help)
GAUGES = (
    ("soakctl_rss_bytes", "rss_bytes", "Resident set size of the process tree, bytes."),
    ("soakctl_cpu_percent", "cpu_percent", "CPU of the process tree, percent of one core."),
    ("soakctl_num_fds", "num_fds", "Open file descriptors (handles on Windows) of the tree."),
    ("soakctl_num_threads", "num_threads", "Threads in the process tree."),
    ("soakctl_num_procs", "num_procs", "Live processes in the tree."),
    ("soakctl_zombies", "zombies", "Zombie processes in the tree."),
    ("soakctl_sample_timestamp_seconds", "ts", "When the latest sample was taken (Unix s)."),
)
LABELS = ("run_id", "profile", "name")
LEAK_FAMILIES = (
    ("soakctl_leak_slope_mib_per_hour", "Live estimate of the sustained growth rate (MiB/h)."),
    ("soakctl_leak_ci_low_mib_per_hour", "Lower end of the growth rate's 95 % CI (MiB/h)."),
    ("soakctl_leak_ci_high_mib_per_hour", "Upper end of the growth rate's 95 % CI (MiB/h)."),
    ("soakctl_leak_status", "Live leak status: 1 for the current one, 0 for the others."),
)


def parse_listen(text: str) -> tuple[str, int, bool]:
    """``(host, port, loopback)`` for ``HOST:PORT`` / ``[V6]:PORT`` / ``:PORT`` / ``PORT``.

    Raises ``ValueError`` (the caller names the flag or profile key).
    """
    value = str(text).strip()
    host = ""
    port_text = value
    if value.startswith("["):
        end = value.find("]")
        if end < 0 or not value[end + 1:].startswith(":"):
            raise ValueError(f"expected [V6ADDR]:PORT, got {text!r}")
        host, port_text = value[1:end], value[end + 2:]
    elif ":" in value:
        host, _, port_text = value.rpartition(":")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"expected HOST:PORT or PORT (0-65535), got {text!r}")
    if not host:
        host = "127.0.0.1"
    return host, int(port_text), _is_loopback(host)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Latest:
    """What the collector reads: replaced wholesale by the run thread (no lock needed)."""

    def __init__(self) -> None:
        self.run: dict[str, str] = {}
        self.samples: dict[str, Mapping[str, Any]] = {}
        self.leaks: dict[str, dict[str, Any]] = {}
        self.version = 0


class SampleCollector:
    """A ``prometheus_client`` custom collector over the latest samples and leak estimates."""

    def __init__(self, latest: _Latest) -> None:
        self._latest = latest

    def describe(self) -> list[Any]:
        return []  # the families depend on the run; no registration-time check

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        latest = self._latest
        run_id, profile = latest.run.get("run_id", ""), latest.run.get("profile", "")
        samples = list(latest.samples.items())
        for metric, key, doc in GAUGES:
            family = GaugeMetricFamily(metric, doc, labels=LABELS)
            for name, sample in samples:
                value = sample.get(key)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    family.add_metric((run_id, profile, name), float(value))
            yield family
        restarts = CounterMetricFamily("soakctl_restarts", "Restarts of the process so far.",
                                       labels=LABELS)
        for name, sample in samples:
            restarts.add_metric((run_id, profile, name), float(sample.get("restarts") or 0))
        yield restarts
        yield from self._leak_families(run_id, profile)

    def _leak_families(self, run_id: str, profile: str) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        labels = (*LABELS, "series")
        (slope_name, slope_doc), (low_name, low_doc), (high_name, high_doc), (
            status_name, status_doc) = LEAK_FAMILIES
        slope = GaugeMetricFamily(slope_name, slope_doc, labels=labels)
        low = GaugeMetricFamily(low_name, low_doc, labels=labels)
        high = GaugeMetricFamily(high_name, high_doc, labels=labels)
        status = GaugeMetricFamily(status_name, status_doc, labels=(*labels, "status"))
        for series, est in list(self._latest.leaks.items()):
            key = (run_id, profile, str(est.get("name", "target")), series)
            value = est.get("slope_mib_per_hour")
            if isinstance(value, int | float):
                slope.add_metric(key, float(value))
            ci = est.get("ci_mib_per_hour")
            if isinstance(ci, list | tuple) and len(ci) == 2 and all(
                    isinstance(v, int | float) for v in ci):
                low.add_metric(key, float(ci[0]))
                high.add_metric(key, float(ci[1]))
            current = est.get("status")
            for state in LEAK_STATUSES:
                status.add_metric((*key, state), 1.0 if state == current else 0.0)
        yield from (slope, low, high, status)


class MetricsExporter:
    """Serves ``/metrics`` for the run; implements the run observer protocol."""

    def __init__(self, listen: str, *, warn: Callable[[str], None] | None = None,
                 source: str = "--metrics-listen") -> None:
        from prometheus_client import CollectorRegistry

        try:
            host, port, loopback = parse_listen(listen)
        except ValueError as exc:
            raise UsageError(f"{source}: {exc}") from None
        if not loopback and warn is not None:
            warn(f"{source} {listen}: serving metrics beyond this machine "
                 "(a non-loopback address was given explicitly)")
        self._latest = _Latest()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(SampleCollector(self._latest))
        self._cache: tuple[int, bytes] | None = None
        self._cache_lock = threading.Lock()
        self._text = _DirectText()
        handler = _handler_for(self)
        server_cls = _V6Server if ":" in host else _Server
        try:
            self._server = server_cls((host, port), handler)
        except OSError as exc:
            raise UsageError(f"{source} {listen}: cannot listen "
                             f"({exc.strerror or exc})") from None
        self.host, self.port = host, int(self._server.server_address[1])
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, name="soakctl-metrics", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        """Accept connections until close(): blocks in select with no timeout, so an idle
        exporter never wakes up (``serve_forever`` polls twice a second)."""
        server = self._server
        server.socket.setblocking(False)  # a client gone before accept() never blocks us
        with selectors.DefaultSelector() as sel:
            sel.register(server.socket, selectors.EVENT_READ, "accept")
            sel.register(self._wake_r, selectors.EVENT_READ, "stop")
            while True:
                events = sel.select()
                if any(key.data == "stop" for key, _ in events):
                    return
                server.handle_request()  # accept one (never waits); its own thread serves it

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def render(self) -> bytes:
        """The exposition text, regenerated only when a sample or estimate arrived."""
        version = self._latest.version
        cached = self._cache
        if cached is not None and cached[0] == version:
            return cached[1]
        with self._cache_lock:
            body = self._text.render(self._latest)
            self._cache = (version, body)
        return body

    # -- observer protocol -----------------------------------------------------------------
    def on_start(self, info: dict[str, Any]) -> None:
        self._latest.run = {"run_id": str(info.get("run_id", "")),
                            "profile": str(info.get("profile", ""))}
        self._latest.version += 1

    def on_sample(self, sample: Sample) -> None:
        self._latest.samples[str(sample.get("name", "target"))] = sample
        self._latest.version += 1

    def on_event(self, event: dict[str, Any]) -> None:
        pass

    def on_leak_estimate(self, estimate: dict[str, Any]) -> None:
        self._latest.leaks[str(estimate.get("series", "rss_bytes"))] = dict(estimate)
        self._latest.version += 1

    def on_finish(self, summary: dict[str, Any]) -> None:
        pass  # keep serving the final values until close(): the last scrape sees them

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        self._thread.join(timeout=5)
        self._server.server_close()
        self._wake_r.close()
        self._wake_w.close()


class _DirectText:
    """The page :class:`SampleCollector` describes, written straight from the latest samples.

    Building the metric families and then the text costs ~50 µs per new sample; at one sample
    and one scrape a second that was most of the exporter's cost (``benchmarks/bench_sampler.py
    metrics``). The label sets are formatted once per process name and series, the HELP/TYPE
    lines once per process, and a scrape only formats the numbers. ``exposition(registry.
    collect())`` stays the reference: the tests check that both write the same page.
    """

    def __init__(self) -> None:
        self._labels: dict[tuple[str, ...], str] = {}

    def _label(self, *values: str) -> str:
        text = self._labels.get(values)
        if text is None:
            if len(self._labels) > 10_000:  # names come from the profile: bounded anyway
                self._labels.clear()
            keys = ("run_id", "profile", "name", "series", "status")[: len(values)]
            text = self._labels[values] = ",".join(
                f'{k}="{_escape(v)}"' for k, v in zip(keys, values, strict=True))
        return text

    def render(self, latest: _Latest) -> bytes:
        run_id, profile = latest.run.get("run_id", ""), latest.run.get("profile", "")
        samples = [(self._label(run_id, profile, name), sample)
                   for name, sample in list(latest.samples.items())]
        lines: list[str] = []
        for metric, key, doc in GAUGES:
            rows = [f"{metric}{{{labels}}} {_number(value)}" for labels, sample in samples
                    if isinstance(value := sample.get(key), int | float)
                    and not isinstance(value, bool)]
            if rows:
                lines += (f"# HELP {metric} {_escape(doc)}", f"# TYPE {metric} gauge", *rows)
        if samples:
            lines += ("# HELP soakctl_restarts_total Restarts of the process so far.",
                      "# TYPE soakctl_restarts_total counter")
            lines += [f"soakctl_restarts_total{{{labels}}} "
                      f"{_number(float(sample.get('restarts') or 0))}"
                      for labels, sample in samples]
        lines += self._leak_lines(latest, run_id, profile)
        lines.append("")
        return "\n".join(lines).encode()

    def _leak_lines(self, latest: _Latest, run_id: str, profile: str) -> list[str]:
        slope: list[str] = []
        low: list[str] = []
        high: list[str] = []
        status: list[str] = []
        for series, est in list(latest.leaks.items()):
            labels = self._label(run_id, profile, str(est.get("name", "target")), series)
            value = est.get("slope_mib_per_hour")
            if isinstance(value, int | float):
                slope.append(f"soakctl_leak_slope_mib_per_hour{{{labels}}} {_number(value)}")
            ci = est.get("ci_mib_per_hour")
            if isinstance(ci, list | tuple) and len(ci) == 2 and all(
                    isinstance(v, int | float) for v in ci):
                low.append(f"soakctl_leak_ci_low_mib_per_hour{{{labels}}} {_number(ci[0])}")
                high.append(f"soakctl_leak_ci_high_mib_per_hour{{{labels}}} {_number(ci[1])}")
            current = est.get("status")
            status.extend(f'soakctl_leak_status{{{labels},status="{state}"}} '
                          f"{'1.0' if state == current else '0.0'}" for state in LEAK_STATUSES)
        out: list[str] = []
        for (name, doc), rows in zip(LEAK_FAMILIES, (slope, low, high, status), strict=True):
            if rows:
                out += (f"# HELP {name} {_escape(doc)}", f"# TYPE {name} gauge", *rows)
        return out


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def exposition(families: Iterable[Any]) -> bytes:
    """Prometheus text format 0.0.4 for ``families`` (what ``generate_latest`` writes).

    ``generate_latest`` re-validates every name and label on each call, which costs most of a
    millisecond per scrape for these few series; the names here are constants checked by the
    tests (with prometheus_client's parser and a real Prometheus server), so the text is
    written directly. Only label values vary: they are escaped.
    """
    lines: list[str] = []
    for family in families:
        if not family.samples:
            continue
        name = family.name + ("_total" if family.type == "counter" else "")
        lines.append(f"# HELP {name} {_escape(family.documentation)}")
        lines.append(f"# TYPE {name} {family.type}")
        for sample in family.samples:
            labels = ",".join(f'{k}="{_escape(str(v))}"' for k, v in sample.labels.items())
            value = _number(sample.value)
            lines.append(f"{sample.name}{{{labels}}} {value}" if labels
                         else f"{sample.name} {value}")
    lines.append("")
    return "\n".join(lines).encode()


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


class _Server(socketserver.ThreadingTCPServer):
    """A thread per connection; Prometheus keeps its connection open (HTTP/1.1), so a scrape
    a second costs one request on a live connection, not a connect and a thread each."""

    daemon_threads = True
    allow_reuse_address = True


class _V6Server(_Server):
    address_family = socket.AF_INET6


MAX_LINE = 8192
MAX_HEADERS = 100
_REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 405: b"Method Not Allowed",
            431: b"Request Header Fields Too Large"}


def _handler_for(exporter: MetricsExporter) -> type[socketserver.StreamRequestHandler]:
    """A minimal HTTP/1.1 handler for ``GET /metrics`` (and HEAD), keep-alive aware.

    ``http.server`` parses every request's headers with the email package, which costs more
    than rendering the page; a scrape needs none of them but ``Connection``. Lines and header
    counts are bounded; anything else than GET/HEAD of /metrics is answered and closed.
    """
    content_type = b"text/plain; version=0.0.4; charset=utf-8"

    class Handler(socketserver.StreamRequestHandler):
        timeout = 60  # an idle or stalled connection is closed after a minute

        def handle(self) -> None:
            with contextlib.suppress(OSError):
                while self._one():
                    pass

        def _one(self) -> bool:
            line = self.rfile.readline(MAX_LINE + 1)
            if not line:
                return False
            parts = line.split()
            if len(parts) != 3 or not parts[2].startswith(b"HTTP/1.") or len(line) > MAX_LINE:
                return self._send(400, b"bad request line\n", keep=False)
            keep = parts[2] == b"HTTP/1.1"
            for _ in range(MAX_HEADERS):
                header = self.rfile.readline(MAX_LINE + 1)
                if header in (b"\r\n", b"\n", b""):
                    break
                name, _, value = header.partition(b":")
                key = name.strip().lower()
                if key == b"connection":
                    token = value.strip().lower()
                    keep = token == b"keep-alive" or (keep and token != b"close")
                elif key in (b"content-length", b"transfer-encoding") and value.strip() != b"0":
                    return self._send(400, b"no request body expected\n", keep=False)
            else:
                return self._send(431, b"too many headers\n", keep=False)
            method, path = parts[0], parts[1].split(b"?", 1)[0]
            if method not in (b"GET", b"HEAD"):
                return self._send(405, b"only GET\n", keep=keep)
            if path not in (b"/metrics", b"/metrics/"):
                return self._send(404, b"only /metrics is served here\n", keep=keep)
            body = exporter.render()
            return self._send(200, body, keep=keep, head=method == b"HEAD",
                              ctype=content_type)

        def _send(self, status: int, body: bytes, *, keep: bool, head: bool = False,
                  ctype: bytes = b"text/plain; charset=utf-8") -> bool:
            headers = (b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n"
                       % (status, _REASONS[status], ctype, len(body),
                          b"" if keep else b"Connection: close\r\n"))
            self.wfile.write(headers if head else headers + body)
            return keep

    return Handler
