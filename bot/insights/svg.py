"""Charts as inline SVG, drawn on the server: no JavaScript, no inline ``style``. Pure.

Each chart is an ``<svg role="img">`` labelled by its own ``<title>`` and ``<desc>``
(``aria-labelledby``); its numbers are also in a table beside it on the page, which is what
a screen reader reads. Colours and dashes are SVG presentation attributes (allowed by the
page's Content Security Policy, unlike ``style``), with a class on each mark for a
stylesheet to restyle. Every piece of text is escaped here, and the result is ``Markup``
so the template inserts it as is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 30, 36
TEXT = "#333333"
GRID = "#d0d0d0"
#: Most x-axis labels drawn; the others are skipped (every bar is in the table).
MAX_LABELS = 9
_ID = re.compile(r"^[a-z][a-z0-9-]{0,40}$")
#: Steps of a duration axis, in seconds: minutes, hours, days.
TIME_STEPS = (60, 120, 300, 600, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600,
              86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400)


@dataclass(frozen=True)
class Series:
    """One coloured set of values, one per label (None: no value)."""

    name: str
    values: Sequence[float | None]
    color: str
    css: str = ""
    dashed: bool = False


def nice_step(span: float, ticks: int = 4, steps: Sequence[float] | None = None,
              integer: bool = False) -> float:
    """A round step so that about ``ticks`` steps cover ``span``: 1, 2 or 5 times a power
    of ten (at least 1 for counts), or the first of ``steps`` large enough."""
    raw = max(span, 0) / ticks
    if steps:
        return next((s for s in steps if s >= raw), steps[-1] * math.ceil(raw / steps[-1]))
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return max(1.0, math.ceil(step)) if integer else step


def _attrs(**attrs: object) -> str:
    return "".join(f' {k.rstrip("_").replace("_", "-")}="{escape(str(v))}"'
                   for k, v in attrs.items() if v is not None)


def _tag(name: str, title: str | None = None, **attrs: object) -> str:
    """``<name attrs/>``, or with an escaped ``<title>`` (a tooltip) inside."""
    if title is None:
        return f"<{name}{_attrs(**attrs)}/>"
    return f"<{name}{_attrs(**attrs)}><title>{escape(title)}</title></{name}>"


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


class _Frame:
    """The plot area, its y scale, the axes, the grid and the legend."""

    def __init__(self, labels: Sequence[str], top: float, step: float) -> None:
        self.labels = labels
        self.step = step
        self.top = max(step, math.ceil(top / step) * step) if top > 0 else step * 4
        self.x0, self.x1 = LEFT, WIDTH - RIGHT
        self.y0, self.y1 = TOP, HEIGHT - BOTTOM
        self.band = (self.x1 - self.x0) / max(1, len(labels))

    def y(self, value: float) -> float:
        return self.y1 - (self.y1 - self.y0) * (value / self.top)

    def center(self, index: int) -> float:
        return self.x0 + self.band * (index + 0.5)

    def draw(self, tick: Callable[[float], str], series: Sequence[Series]) -> list[str]:
        out = [f'<g class="axis"{_attrs(font_size=11, font_family="sans-serif", fill=TEXT)}>']
        ticks = round(self.top / self.step)
        for i in range(ticks + 1):
            value = self.step * i
            y = _num(self.y(value))
            out.append(f"<line{_attrs(x1=self.x0, x2=self.x1, y1=y, y2=y, stroke=GRID)}/>")
            out.append(f"<text{_attrs(x=self.x0 - 6, y=_num(self.y(value) + 4))} "
                       f'text-anchor="end">{escape(tick(value))}</text>')
        every = max(1, math.ceil(len(self.labels) / MAX_LABELS))
        last = len(self.labels) - 1
        for i, label in enumerate(self.labels):
            if (last - i) % every == 0:  # always label the latest
                out.append(f"<text{_attrs(x=_num(self.center(i)), y=self.y1 + 16)} "
                           f'text-anchor="middle">{escape(label)}</text>')
        out.append(f"<line{_attrs(x1=self.x0, x2=self.x1, y1=self.y1, y2=self.y1)} "
                   f'stroke="{TEXT}"/>')
        x = self.x0
        for s in series:
            dash = "4 3" if s.dashed else None
            out.append(_tag("line", x1=x, x2=x + 14, y1=12, y2=12, stroke=s.color,
                            stroke_width=3 if s.dashed else 10, stroke_dasharray=dash))
            out.append(f"<text{_attrs(x=x + 18, y=16)}>{escape(s.name)}</text>")
            x += 26 + 7 * len(s.name)
        out.append("</g>")
        return out


def _svg(chart_id: str, title: str, desc: str, body: list[str]) -> Markup:
    if not _ID.match(chart_id):
        raise ValueError(f"bad chart id: {chart_id!r}")
    head = (f'<svg xmlns="http://www.w3.org/2000/svg"{_attrs(viewBox=f"0 0 {WIDTH} {HEIGHT}")}'
            f' role="img" class="chart" aria-labelledby="{chart_id}-title {chart_id}-desc"'
            f' id="{chart_id}">'
            f'<title id="{chart_id}-title">{escape(title)}</title>'
            f'<desc id="{chart_id}-desc">{escape(desc)}</desc>')
    return Markup(head + "".join(body) + "</svg>")


def _empty(frame: _Frame, message: str) -> str:
    x, y = (frame.x0 + frame.x1) / 2, (frame.y0 + frame.y1) / 2
    return (f"<text{_attrs(x=_num(x), y=_num(y), fill=TEXT, font_size=13)} "
            f'font-family="sans-serif" text-anchor="middle">{escape(message)}</text>')


def bar_chart(chart_id: str, title: str, desc: str, labels: Sequence[str],
              series: Sequence[Series], *, tick: Callable[[float], str] = _num,
              integer: bool = True, fixed_top: float | None = None,
              empty: str = "Nothing in this period") -> Markup:
    """Bars stacked from the first series up, one bar per label."""
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(labels))]
    top = fixed_top if fixed_top is not None else max(totals, default=0)
    frame = _Frame(labels, top, nice_step(top, integer=integer))
    body = frame.draw(tick, series)
    width = frame.band * 0.7
    for i, label in enumerate(labels):
        base = 0.0
        for s in series:
            value = s.values[i]
            if not value:
                continue
            y_top, y_bottom = frame.y(base + value), frame.y(base)
            body.append(_tag(
                "rect", f"{label} · {s.name}: {tick(value)}", class_=f"bar {s.css}".strip(),
                x=_num(frame.center(i) - width / 2), y=_num(y_top), width=_num(width),
                height=_num(max(y_bottom - y_top, 0.5)), fill=s.color))
            base += value
    if not any(totals):
        body.append(_empty(frame, empty))
    return _svg(chart_id, title, desc, body)


def line_chart(chart_id: str, title: str, desc: str, labels: Sequence[str],
               series: Sequence[Series], *, tick: Callable[[float], str] = _num,
               steps: Sequence[float] | None = None,
               empty: str = "Nothing in this period") -> Markup:
    """One line per series through its values; a missing value breaks the line."""
    values = [v for s in series for v in s.values if v is not None]
    top = max(values, default=0)
    frame = _Frame(labels, top, nice_step(top, steps=steps))
    body = frame.draw(tick, series)
    for s in series:
        runs: list[list[str]] = [[]]
        for i, value in enumerate(s.values):
            if value is None:
                runs.append([])
                continue
            runs[-1].append(f"{_num(frame.center(i))},{_num(frame.y(value))}")
        dash = "6 4" if s.dashed else None
        for run in runs:
            if len(run) > 1:
                body.append(_tag("polyline", class_=f"line {s.css}".strip(),
                                 points=" ".join(run), fill="none", stroke=s.color,
                                 stroke_width=2, stroke_dasharray=dash))
        for i, value in enumerate(s.values):
            if value is not None:
                body.append(_tag(
                    "circle", f"{labels[i]} · {s.name}: {tick(value)}",
                    class_=f"point {s.css}".strip(), cx=_num(frame.center(i)),
                    cy=_num(frame.y(value)), r=3.5, fill=s.color))
    if not values:
        body.append(_empty(frame, empty))
    return _svg(chart_id, title, desc, body)
