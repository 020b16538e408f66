"""The SVG builder: well-formed, accessible, escaped, no inline style."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from bot.insights import svg

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = '"><script>alert(1)</script>'


def test_bars_stack_and_every_text_is_escaped() -> None:
    chart = svg.bar_chart("chart-x", f"T {HOSTILE}", f"D {HOSTILE}", ["a", HOSTILE],
                          [svg.Series(HOSTILE, [1, 2], "#000", "s1"),
                           svg.Series("two", [0, 3], "#111", "s2")])
    assert "<script" not in chart and "style=" not in chart
    root = ElementTree.fromstring(str(chart))
    assert root.get("role") == "img" and root.get("aria-labelledby") == "chart-x-title chart-x-desc"
    assert root.find(f"{NS}title").text == f"T {HOSTILE}"
    rects = list(root.iter(f"{NS}rect"))
    assert [r.find(f"{NS}title").text for r in rects] == [
        f"a · {HOSTILE}: 1", f"{HOSTILE} · {HOSTILE}: 2", f"{HOSTILE} · two: 3"]
    # the second bar's pieces stack: the upper one ends where the lower one begins
    lower, upper = rects[1], rects[2]
    assert float(upper.get("y")) + float(upper.get("height")) == pytest.approx(
        float(lower.get("y")))
    assert {r.get("class") for r in rects} == {"bar s1", "bar s2"}


def test_lines_break_at_missing_values_and_dash_the_second_series() -> None:
    chart = svg.line_chart("chart-y", "T", "D", ["1", "2", "3", "4"],
                           [svg.Series("median", [60, 120, None, 30], "#000"),
                            svg.Series("p90", [90, 300, 400, 500], "#f00", dashed=True)],
                           steps=svg.TIME_STEPS)
    root = ElementTree.fromstring(str(chart))
    lines = list(root.iter(f"{NS}polyline"))
    assert len(lines) == 2  # the median's lone last point draws no line, only its dot
    assert lines[1].get("stroke-dasharray") == "6 4"
    assert len(list(root.iter(f"{NS}circle"))) == 7


def test_empty_charts_say_so() -> None:
    chart = svg.bar_chart("chart-z", "T", "D", ["a", "b"], [svg.Series("s", [0, None], "#000")],
                          empty="Nothing <here>")
    assert "Nothing &lt;here&gt;" in chart
    ElementTree.fromstring(str(chart))
    line = svg.line_chart("chart-w", "T", "D", [], [])
    assert "Nothing in this period" in line


def test_chart_ids_are_checked() -> None:
    with pytest.raises(ValueError):
        svg.bar_chart('x" onload="alert(1)', "T", "D", [], [])


def test_nice_steps() -> None:
    assert svg.nice_step(0, integer=True) == 1
    assert svg.nice_step(3, integer=True) == 1
    assert svg.nice_step(37) == 10
    assert svg.nice_step(100) == 25
    assert svg.nice_step(5000, steps=svg.TIME_STEPS) == 1800
    assert svg.nice_step(10**8, steps=svg.TIME_STEPS) % (28 * 86400) == 0
