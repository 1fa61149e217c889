"""Geometry for small server-side SVG charts (the CSP forbids inline scripts, and pages must read without
JavaScript): the views compute coordinates here, the templates only draw them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 36  # room for the axis labels


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom_y: float = HEIGHT - BOTTOM
    ticks: list[dict] = field(default_factory=list)  # {y, label}
    columns: list[dict] = field(default_factory=list)  # {x, label, value, y, h, title}
    lines: list[str] = field(default_factory=list)  # polyline points, one per run of known values
    band: dict | None = None  # {y, h} of a shaded range


def _nice_step(value: float) -> float:
    """The smallest 1/2/2.5/5 × 10^k at or above value."""
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp * (1 + 1e-9):
            return step * exp
    return 10 * exp


def _axis(low: float, high: float) -> tuple[float, float, int]:
    """Round axis ends and a tick count (3–6) whose steps are round numbers, as tight as possible."""
    best: tuple[float, float, int] | None = None
    for n in (4, 5, 3):
        step = _nice_step((high - low) / n) if high > low else 1.0
        bottom = math.floor(low / step + 1e-9) * step
        ticks = max(1, math.ceil((high - bottom) / step - 1e-9))
        top = bottom + ticks * step
        if best is None or top - bottom < best[1] - best[0] - 1e-9:
            best = (bottom, top, ticks)
    return best


def _scale(low: float, high: float):
    plot = HEIGHT - BOTTOM - TOP

    def y(v: float) -> float:
        return round(TOP + plot * (1 - (v - low) / (high - low)), 1)

    return y


def _ticks(low: float, high: float, n: int, fmt) -> list[dict]:
    y = _scale(low, high)
    return [
        {"y": y(low + (high - low) * k / n), "label": fmt(low + (high - low) * k / n)} for k in range(n + 1)
    ]


def _columns(labels: list[str]) -> list[float]:
    step = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    return [round(LEFT + step * (i + 0.5), 1) for i in range(len(labels))]


def line_with_band(
    labels: list[str], values: list[float | None], band: tuple[float, float] | None, fmt, titles=None
) -> Chart:
    """A line of monthly values (broken where a month has none) over an optional shaded band."""
    known = [v for v in values if v is not None]
    low, high, n = _axis(0.0, max(known + ([band[1]] if band else []) + [1]) * 1.05)
    y = _scale(low, high)
    chart = Chart(ticks=_ticks(low, high, n, fmt))
    run: list[str] = []
    for i, (x, label, value) in enumerate(zip(_columns(labels), labels, values, strict=True)):
        cy = y(value) if value is not None else None
        chart.columns.append(
            {"x": x, "label": label, "value": value, "y": cy, "title": titles[i] if titles else label}
        )
        if cy is None:  # a month without data breaks the line instead of bridging it
            if len(run) > 1:
                chart.lines.append(" ".join(run))
            run = []
        else:
            run.append(f"{x},{cy}")
    if len(run) > 1:
        chart.lines.append(" ".join(run))
    if band:
        chart.band = {"y": y(band[1]), "h": round(y(band[0]) - y(band[1]), 1)}
    return chart


def bars(labels: list[str], values: list[float | None], fmt, titles=None) -> Chart:
    """Monthly bars from zero (values below zero drawn down from the axis)."""
    known = [v for v in values if v is not None]
    low, high, n = _axis(min([0.0] + known), max(known + [0.01]) * 1.05)
    y = _scale(low, high)
    chart = Chart(ticks=_ticks(low, high, n, fmt))
    zero = y(0.0)
    chart.bottom_y = zero
    for i, (x, label, value) in enumerate(zip(_columns(labels), labels, values, strict=True)):
        if value is None:
            chart.columns.append({"x": x, "label": label, "value": None, "y": zero, "h": 0, "title": label})
            continue
        top_y, h = (y(value), zero - y(value)) if value >= 0 else (zero, y(value) - zero)
        title = titles[i] if titles else label
        chart.columns.append(
            {"x": x, "label": label, "value": value, "y": top_y, "h": round(h, 1), "title": title}
        )
    return chart


def grouped_bars(
    labels: list[str], series: list[list[float]], fmt, titles: list[list[str]] | None = None
) -> Chart:
    """Side-by-side bars per month, one per series (e.g. requests published and deals made), from zero."""
    known = [v for values in series for v in values if v is not None]
    low, high, n = _axis(0.0, max(known + [0.01]) * 1.05)
    y = _scale(low, high)
    chart = Chart(ticks=_ticks(low, high, n, fmt))
    chart.bottom_y = y(0.0)
    step = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    width = min(22.0, step * 0.8 / max(len(series), 1))
    for i, (x, label) in enumerate(zip(_columns(labels), labels, strict=True)):
        column = {"x": x, "label": label, "bars": []}
        for k, values in enumerate(series):
            value = values[i] or 0
            left = x - width * len(series) / 2 + width * k
            column["bars"].append(
                {
                    "x": round(left, 1),
                    "w": round(width - 1, 1),
                    "y": y(value),
                    "h": round(chart.bottom_y - y(value), 1),
                    "value": value,
                    "series": k,
                    "title": titles[k][i] if titles else f"{label}: {fmt(value)}",
                }
            )
        chart.columns.append(column)
    return chart


@dataclass
class HBars:
    width: int
    height: int
    label_width: int
    rows: list[dict]  # {label, y, w, value, text}


def hbars(labels: list[str], values: list[float], fmt, width: int = 480, label_width: int = 150) -> HBars:
    """Horizontal bars (a category or a region per row) whose labels stay legible on a phone."""
    row_h, top = 26, 4
    most = max(values + [0]) or 1
    span = width - label_width - 60  # room for the value after the bar
    rows = [
        {
            "label": label,
            "y": top + i * row_h,
            "w": round(span * value / most, 1),
            "value": value,
            "text": fmt(value),
        }
        for i, (label, value) in enumerate(zip(labels, values, strict=True))
    ]
    return HBars(width=width, height=top * 2 + row_h * len(rows), label_width=label_width, rows=rows)
