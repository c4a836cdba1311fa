"""A small Prometheus HTTP API client: paged range queries with auth from files and TLS.

Prometheus refuses a range query that would return more than 11,000 points per series
("exceeded maximum resolution of 11,000 points per timeseries"), so :func:`query_range` splits a
long range into pages of at most :data:`MAX_POINTS` steps and joins each series' pages by its
label set. Credentials come from files (never from the command line, where ``ps`` shows them);
TLS verification is always on, with ``ca_file`` for a private CA. Every failure (unreachable
server, HTTP error, PromQL error) raises :class:`PrometheusError` with the server's message in
one line; credentials never appear in it.
"""

from __future__ import annotations

import base64
import math
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from soakctl.errors import UsageError

MAX_POINTS = 11_000  # Prometheus' per-series limit for one range query
DEFAULT_POINTS = 10_000  # the default step aims at this many points over the range
TIMEOUT_S = 60.0
MAX_MESSAGE = 300


class PrometheusError(UsageError):
    """The server could not be reached or refused the query (exit 2, one line)."""


@dataclass(frozen=True)
class Auth:
    """An ``Authorization`` header value read from a file, or none."""

    header: str | None = None

    @classmethod
    def from_files(cls, basic_auth_file: Path | None, bearer_token_file: Path | None) -> Auth:
        if basic_auth_file is not None and bearer_token_file is not None:
            raise UsageError("give --basic-auth-file or --bearer-token-file, not both")
        if basic_auth_file is not None:
            text = _read_secret(basic_auth_file, "--basic-auth-file")
            if ":" not in text:
                raise UsageError(f"{basic_auth_file}: expected one line USER:PASSWORD")
            token = base64.b64encode(text.encode()).decode()
            return cls(f"Basic {token}")
        if bearer_token_file is not None:
            return cls(f"Bearer {_read_secret(bearer_token_file, '--bearer-token-file')}")
        return cls()


def _read_secret(path: Path, flag: str) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{flag} {path}: not UTF-8 text") from exc
    if not text or "\n" in text:
        raise UsageError(f"{flag} {path}: expected exactly one non-empty line")
    return text


@dataclass
class Series:
    """One returned series: its labels and its points (seconds since the epoch, values)."""

    labels: dict[str, str]
    ts: np.ndarray
    values: np.ndarray

    @property
    def name(self) -> str:
        labels = dict(self.labels)
        metric = labels.pop("__name__", "")
        inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        return f"{metric}{{{inner}}}" if inner or not metric else metric


@dataclass
class RangeResult:
    series: list[Series]
    pages: int
    step_s: float
    start: float
    end: float
    warnings: list[str] = field(default_factory=list)


def default_step(range_s: float) -> float:
    """Whole seconds, at least 1 s, so the range holds about :data:`DEFAULT_POINTS` points."""
    return float(max(1, math.ceil(range_s / DEFAULT_POINTS)))


def pages(start: float, end: float, step_s: float) -> list[tuple[float, float]]:
    """[start, end] split on the step grid into pages of at most MAX_POINTS points each."""
    if step_s <= 0:
        raise UsageError(f"--step must be positive, got {step_s}")
    if end < start:
        raise UsageError("--until is before the start of the range")
    out = []
    span = (MAX_POINTS - 1) * step_s
    cursor = start
    while cursor <= end:
        page_end = min(cursor + span, end)
        out.append((cursor, page_end))
        # Next page starts one step after this one's last grid point: no point twice.
        cursor += (math.floor((page_end - cursor) / step_s + 1e-9) + 1) * step_s
    return out


def public_url(url: str) -> str:
    """``url`` without any user:password part, for messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


class Client:
    """Talks to one Prometheus server (``base_url`` like ``http://host:9090``)."""

    def __init__(self, base_url: str, *, auth: Auth | None = None, ca_file: Path | None = None,
                 timeout_s: float = TIMEOUT_S) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"--prometheus: expected an http:// or https:// URL, got "
                             f"{public_url(base_url)!r}")
        if parts.username or parts.password:
            raise UsageError("--prometheus: put credentials in --basic-auth-file, not the URL")
        self.base_url = base_url.rstrip("/")
        self.auth = auth or Auth()
        self.timeout_s = timeout_s
        self._ssl: ssl.SSLContext | None = None
        if parts.scheme == "https":
            try:
                self._ssl = ssl.create_default_context(
                    cafile=str(ca_file) if ca_file is not None else None)
            except (OSError, ssl.SSLError) as exc:
                raise UsageError(f"--ca-file {ca_file}: cannot load ({exc})") from exc
        elif ca_file is not None:
            raise UsageError("--ca-file needs an https:// URL")

    def _post(self, path: str, form: dict[str, str]) -> Any:
        url = f"{self.base_url}{path}"
        body = urllib.parse.urlencode(form).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "Accept": "application/json"}
        if self.auth.header:
            headers["Authorization"] = self.auth.header
        # The scheme was checked to be http or https in __init__.
        request = urllib.request.Request(url, data=body, headers=headers,  # noqa: S310
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s,  # noqa: S310
                                        context=self._ssl) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise PrometheusError(self._http_message(exc)) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise PrometheusError(f"cannot reach Prometheus at {public_url(self.base_url)}: "
                                  f"{_one_line(str(reason))}") from None
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise PrometheusError(f"{public_url(url)}: the answer is not JSON "
                                  f"(is this a Prometheus API?)") from None
        if not isinstance(doc, dict) or doc.get("status") != "success":
            raise PrometheusError(_api_message(doc, url))
        return doc

    def _http_message(self, exc: urllib.error.HTTPError) -> str:
        try:
            raw = exc.read()
        except OSError:
            raw = b""
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            doc = None
        if isinstance(doc, dict) and doc.get("error"):
            return f"Prometheus: HTTP {exc.code}: {_api_message(doc, exc.url)}"
        text = _one_line(raw.decode("utf-8", "replace")) or str(exc.reason)
        return f"Prometheus: HTTP {exc.code} from {public_url(exc.url)}: {text}"

    def query_range(self, query: str, start: float, end: float, step_s: float,
                    progress: Callable[[int, int], None] | None = None) -> RangeResult:
        """All series of ``query`` over [start, end], paged (see module doc)."""
        windows = pages(start, end, step_s)
        merged: dict[tuple[tuple[str, str], ...], tuple[dict[str, str], list[Any]]] = {}
        warnings: list[str] = []
        for i, (a, b) in enumerate(windows):
            doc = self._post("/api/v1/query_range", {
                "query": query, "start": _ts(a), "end": _ts(b), "step": _ts(step_s)})
            data = doc.get("data") or {}
            if data.get("resultType") != "matrix":
                raise PrometheusError(f"query returned {data.get('resultType')!r}, not a range "
                                      "vector (matrix): give an instant-vector expression")
            for w in doc.get("warnings") or []:
                if str(w) not in warnings:
                    warnings.append(str(w))
            for item in data.get("result") or []:
                labels = {str(k): str(v) for k, v in (item.get("metric") or {}).items()}
                key = tuple(sorted(labels.items()))
                merged.setdefault(key, (labels, []))[1].append(item.get("values") or [])
            if progress is not None:
                progress(i + 1, len(windows))
        series = [_to_series(labels, chunks) for labels, chunks in merged.values()]
        series.sort(key=lambda s: s.name)
        return RangeResult(series=series, pages=len(windows), step_s=step_s, start=start,
                           end=end, warnings=warnings)


def _to_series(labels: dict[str, str], chunks: list[list[Any]]) -> Series:
    n = sum(len(c) for c in chunks)
    ts = np.empty(n)
    values = np.empty(n)
    i = 0
    for chunk in chunks:
        m = len(chunk)
        if m:
            ts[i:i + m] = [p[0] for p in chunk]
            # Prometheus sends values as strings ("123", "NaN", "+Inf"): numpy parses them.
            values[i:i + m] = np.array([p[1] for p in chunk], dtype=np.float64)
        i += m
    order = np.argsort(ts, kind="stable")
    return Series(labels=labels, ts=ts[order], values=values[order])


def _ts(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_MESSAGE else line[:MAX_MESSAGE] + "..."


def _api_message(doc: Any, url: str) -> str:
    if isinstance(doc, dict):
        kind = doc.get("errorType") or "error"
        return f"Prometheus {kind}: {_one_line(str(doc.get('error') or 'no message'))}"
    return f"{public_url(url)}: unexpected answer"
