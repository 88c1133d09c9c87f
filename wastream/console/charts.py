"""Small SVG charts drawn on the server (no script, no CDN): a column chart of a series
and a horizontal bar chart of labelled values. Labels are escaped; the SVG is inlined."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from markupsafe import Markup


def columns(values: Sequence[float], *, width: int = 360, height: int = 80,
            label: str = "", color: str = "#2b6cb0") -> Markup:
    """One column per value (e.g. per minute), scaled to the largest; the total and the
    maximum in the corner."""
    n = max(1, len(values))
    top = max([*values, 1.0])
    bw = width / n
    bars = []
    for i, v in enumerate(values):
        h = 0 if v <= 0 else max(1.0, (height - 14) * v / top)
        bars.append(f'<rect x="{i * bw:.1f}" y="{height - h:.1f}" width="{max(bw - 1, 1):.1f}" '
                    f'height="{h:.1f}" fill="{color}"><title>{v:g}</title></rect>')
    caption = (f'<text x="2" y="11" font-size="11" fill="#333">{escape(label)} '
               f'total {sum(values):g}, max {max([*values, 0]):g}</text>')
    return Markup(f'<svg class="chart" role="img" aria-label="{escape(label)}" '  # noqa: S704
                  f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
                  f'<rect width="{width}" height="{height}" fill="#f7fafc"/>'
                  f'{"".join(bars)}{caption}</svg>')


def bars(items: Sequence[tuple[str, float]], *, width: int = 420, row: int = 18,
         color: str = "#2f855a") -> Markup:
    """A horizontal bar per (label, value), scaled to the largest value."""
    top = max([v for _, v in items] + [1.0])
    lab_w = 150
    height = row * max(1, len(items)) + 4
    out = []
    for i, (name, v) in enumerate(items):
        y = i * row + 2
        w = (width - lab_w - 50) * v / top if v > 0 else 0
        out.append(f'<text x="0" y="{y + 12}" font-size="11">{escape(name[:24])}</text>'
                   f'<rect x="{lab_w}" y="{y}" width="{w:.1f}" height="{row - 4}" '
                   f'fill="{color}"/><text x="{lab_w + w + 4:.1f}" y="{y + 12}" '
                   f'font-size="11">{v:g}</text>')
    return Markup(f'<svg class="chart" role="img" width="{width}" height="{height}" '  # noqa: S704
                  f'viewBox="0 0 {width} {height}">{"".join(out)}</svg>')


def location_tile(lat: float, lon: float, size: int = 120) -> Markup:
    """A map tile drawn offline: a graticule of 0.01° around the point, the point in the
    middle, its coordinates below (no tile server is reachable from here)."""
    lines = []
    for i in range(1, 4):
        c = i * size / 4
        lines.append(f'<line x1="{c}" y1="0" x2="{c}" y2="{size}" stroke="#cbd5e0"/>'
                     f'<line x1="0" y1="{c}" x2="{size}" y2="{c}" stroke="#cbd5e0"/>')
    half = size / 2
    return Markup(f'<svg class="tile" width="{size}" height="{size + 14}" '  # noqa: S704
                  f'viewBox="0 0 {size} {size + 14}"><rect width="{size}" height="{size}" '
                  f'fill="#e6fffa"/>{"".join(lines)}<circle cx="{half}" cy="{half}" r="5" '
                  f'fill="#c53030"/><text x="2" y="{size + 11}" font-size="10">'
                  f'{float(lat):.5f}, {float(lon):.5f}</text></svg>')


_OUTCOMES = ("completed", "in_progress", "abandoned", "expired")


def funnel_pairs(stages: Sequence[Any]) -> list[tuple[str, float]]:
    """A flow's funnel rows (stage, runs) in reading order: started, the steps (most
    reached first), then the outcomes."""
    got = {str(r["stage"]): float(r["runs"]) for r in stages}
    steps = sorted((k for k in got if k.startswith("step:")), key=lambda k: -got[k])
    order = ["started", *steps, *(o for o in _OUTCOMES if o in got)]
    return [(k, got[k]) for k in order if k in got]


def delivery_pairs(rows: Sequence[Any]) -> list[tuple[str, float]]:
    """The delivery funnel summed over the days shown."""
    names = ("messages", "sent", "delivered", "read", "failed")
    return [(n, float(sum(int(r[n]) for r in rows))) for n in names]
