"""A small inline-SVG time chart: lines, min–max envelopes, shaded spans, event markers.

Written by hand (about 150 lines) because the report must be one self-contained file that
works offline: no chart library, no CDN, no script. The x axis is time since the run started,
in seconds, minutes or hours by the run's length (:func:`time_unit`).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import numpy as np

PALETTE = ("#1f6feb", "#d97706", "#059669", "#9333ea", "#dc2626", "#0891b2")


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2, 5 × 10^k steps)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def time_unit(span_s: float) -> tuple[str, float]:
    """The x axis unit for a run of ``span_s``: seconds up to 5 minutes, minutes up to 3 hours,
    else hours; as (suffix, seconds per unit)."""
    if span_s <= 300:
        return "s", 1.0
    if span_s <= 3 * 3600:
        return "min", 60.0
    return "h", 3600.0


def _fmt(v: float) -> str:
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-2):
        return f"{v:.2g}"
    return f"{v:.6g}" if abs(v) < 100 else f"{v:.0f}"


@dataclass
class TimeChart:
    """One chart; x in seconds since ``t0_s``, drawn in hours."""

    title: str
    y_label: str
    t0_s: float
    t1_s: float
    width: int = 1000
    height: int = 260
    parts: list[str] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    y_lo: float = math.inf
    y_hi: float = -math.inf
    _pending: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)
    margin: tuple[int, int, int, int] = (42, 16, 36, 70)  # top, right, bottom, left

    def include(self, *values: np.ndarray | float) -> None:
        for v in values:
            arr = np.asarray(v, dtype=float)
            arr = arr[np.isfinite(arr)]
            if arr.size:
                self.y_lo = min(self.y_lo, float(arr.min()))
                self.y_hi = max(self.y_hi, float(arr.max()))

    def x(self, t: np.ndarray | float) -> np.ndarray:
        _top, right, _bottom, left = self.margin
        span = max(self.t1_s - self.t0_s, 1e-9)
        return left + (np.asarray(t, dtype=float) - self.t0_s) / span * (
            self.width - left - right)

    def y(self, v: np.ndarray | float) -> np.ndarray:
        top, _right, bottom, _left = self.margin
        lo, hi = self._range()
        return top + (1 - (np.asarray(v, dtype=float) - lo) / (hi - lo)) * (
            self.height - top - bottom)

    def _range(self) -> tuple[float, float]:
        lo, hi = self.y_lo, self.y_hi
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return 0.0, 1.0
        pad = (hi - lo) * 0.05 or max(abs(hi) * 0.05, 1.0)
        return lo - pad, hi + pad

    def line(self, t: np.ndarray, v: np.ndarray, color: str, label: str = "",
             width: float = 1.5, dash: str = "") -> None:
        self.include(v)
        self._pending.append(("line", (t, v, color, width, dash)))
        if label:
            self.legend.append((label, color))

    def band(self, t: np.ndarray, lo: np.ndarray, hi: np.ndarray, color: str,
             opacity: float = 0.18, label: str = "") -> None:
        self.include(lo, hi)
        self._pending.append(("band", (t, lo, hi, color, opacity)))
        if label:
            self.legend.append((label, color))

    def span(self, t_a: float, t_b: float, color: str, label: str) -> None:
        self._pending.append(("span", (t_a, t_b, color, label or "warm-up")))
        if label:
            self.legend.append((label, color))

    def marker(self, t: float, color: str, label: str, dash: str = "4 3",
               legend: str = "") -> None:
        """A vertical line at ``t`` (its label as a tooltip); ``legend`` names its kind once."""
        if not self.t0_s <= t <= self.t1_s:
            return  # outside the sampled time: drawing it at an edge would mislead
        self._pending.append(("marker", (t, color, label, dash)))
        if legend and (legend, color) not in self.legend:
            self.legend.append((legend, color))

    def _legend_layout(self) -> list[tuple[float, float, str, str]]:
        """(x, baseline y, label, color) per legend entry: rows under the title, wrapping."""
        _top, right, _bottom, left = self.margin
        lx, ly, out = float(left), 32.0, []
        for label, color in self.legend:
            w = 14 + 6.5 * len(label)
            if lx + w > self.width - right and lx > left:
                lx, ly = float(left), ly + 14
            out.append((lx, ly, label, color))
            lx += w + 12
        return out

    def render(self) -> str:
        layout = self._legend_layout()
        extra = int(layout[-1][1] - 32) if layout else 0
        base = self.margin, self.height
        if extra:  # more legend rows: a taller chart, the plot area starting lower
            top, r, b, lft = self.margin
            self.margin, self.height = (top + extra, r, b, lft), self.height + extra
        try:
            return self._render(layout)
        finally:
            self.margin, self.height = base

    def _render(self, layout: list[tuple[float, float, str, str]]) -> str:
        left = self.margin[3]
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} '
               f'{self.height}" role="img" aria-label="{html.escape(self.title)}">',
               f'<text x="{left}" y="18" class="ct">{html.escape(self.title)}</text>']
        out += self._axes()
        for kind, args in self._pending:
            out.append(getattr(self, f"_draw_{kind}")(*args))
        for lx, ly, label, color in layout:  # a row of its own under the title, never over it
            out.append(f'<rect x="{lx:.0f}" y="{ly - 9:.0f}" width="10" height="10" '
                       f'fill="{color}"/><text x="{lx + 14:.0f}" y="{ly:.0f}" class="lg">'
                       f"{html.escape(label)}</text>")
        out.append("</svg>")
        return "".join(out)

    def _axes(self) -> list[str]:
        top, right, bottom, left = self.margin
        lo, hi = self._range()
        out = [f'<rect x="{left}" y="{top}" width="{self.width - left - right}" '
               f'height="{self.height - top - bottom}" class="pl"/>']
        for v in nice_ticks(lo, hi):
            yy = float(self.y(v))
            out.append(f'<line x1="{left}" x2="{self.width - right}" y1="{yy:.1f}" '
                       f'y2="{yy:.1f}" class="gr"/><text x="{left - 6}" y="{yy + 4:.1f}" '
                       f'class="yt">{_fmt(v)}</text>')
        suffix, unit_s = time_unit(self.t1_s - self.t0_s)
        for v in nice_ticks(0.0, (self.t1_s - self.t0_s) / unit_s, 8):
            xx = float(self.x(self.t0_s + v * unit_s))
            out.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top}" '
                       f'y2="{self.height - bottom}" class="gr"/>'
                       f'<text x="{xx:.1f}" y="{self.height - bottom + 16}" class="xt">'
                       f'{_fmt(v)} {suffix}</text>')
        out.append(f'<text x="14" y="{(self.height) / 2:.0f}" class="yl" transform="rotate(-90 '
                   f'14 {self.height / 2:.0f})">{html.escape(self.y_label)}</text>')
        return out

    def _pts(self, t: np.ndarray, v: np.ndarray) -> str:
        xs, ys = self.x(t), self.y(v)
        return " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, ys, strict=True))

    def _draw_line(self, t: np.ndarray, v: np.ndarray, color: str, width: float,
                   dash: str) -> str:
        d = f' stroke-dasharray="{dash}"' if dash else ""
        return (f'<polyline fill="none" stroke="{color}" stroke-width="{width}"{d} '
                f'points="{self._pts(t, v)}"/>')

    def _draw_band(self, t: np.ndarray, lo: np.ndarray, hi: np.ndarray, color: str,
                   opacity: float) -> str:
        pts = self._pts(np.r_[t, t[::-1]], np.r_[hi, lo[::-1]])
        return f'<polygon fill="{color}" fill-opacity="{opacity}" stroke="none" points="{pts}"/>'

    def _draw_span(self, t_a: float, t_b: float, color: str, label: str) -> str:
        top, _r, bottom, _l = self.margin
        xa, xb = float(self.x(t_a)), float(self.x(t_b))
        return (f'<rect x="{xa:.1f}" y="{top}" width="{max(xb - xa, 0):.1f}" '
                f'height="{self.height - top - bottom}" fill="{color}" fill-opacity="0.15">'
                f"<title>{html.escape(label)}</title></rect>")

    def _draw_marker(self, t: float, color: str, label: str, dash: str) -> str:
        top, _r, bottom, _l = self.margin
        xx = float(self.x(t))
        return (f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top}" y2="{self.height - bottom}" '
                f'stroke="{color}" stroke-width="1.2" stroke-dasharray="{dash}">'
                f"<title>{html.escape(label)}</title></line>")
