"""Charts of the funnel's counters for the "What works" page, drawn on the server as SVG.

Written here rather than with a charting library: pygal's SVG carries its own <style>
and <script>, which the dashboard's policy (no inline style or script) refuses, and a
canvas library served from our origin is tens of kilobytes of script for what a polyline
and a few rectangles draw. The markup holds elements and coordinates only; its look is
in dashboard.css. Each chart has a title and a description in words, and the same
numbers are in the tables under it.
"""
from __future__ import annotations

from dataclasses import dataclass

from babel.lists import format_list
from flask_babel import format_number, get_locale, gettext

WIDTH, HEIGHT, PAD = 640, 160, 6  # the trend's drawing box (SVG user units)
BAR_HEIGHT, BAR_GAP = 22, 8


@dataclass(frozen=True)
class Line:
    """One series of a trend: its points, and what its description says about it."""
    label: str
    points: str  # "x,y x,y …" in the drawing box
    total: int
    peak: int
    peak_at: str


@dataclass(frozen=True)
class Trend:
    lines: tuple[Line, ...]
    top: int  # the value at the top of the box
    first: str  # the first and last keys, under the box
    last: str

    @property
    def title(self) -> str:
        """"Shown and Opened, 1 Mar 2026 to 5 Mar 2026", in the page's language."""
        return gettext("%(series)s, %(first)s to %(last)s", first=self.first, last=self.last,
                       series=format_list([str(line.label) for line in self.lines],
                                          locale=get_locale()))

    @property
    def description(self) -> str:
        """The chart in words, for screen readers and for anyone who cannot see it."""
        return " ".join(
            gettext("%(label)s: %(total)s in all, at most %(peak)s (%(when)s).",
                    label=line.label, total=format_number(line.total),
                    peak=format_number(line.peak), when=line.peak_at)
            if line.total else gettext("%(label)s: none.", label=line.label)
            for line in self.lines)


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    width: float  # share of the box's width, 0–100
    y: int


def trend(rows: list[dict], series: dict[str, str], label_of) -> Trend | None:
    """Lines of `series` ({counter: label}) over `rows` (a time view's rows, in order);
    `label_of(key)` says a key in words. None for fewer than two points: no line to draw."""
    if len(rows) < 2:
        return None
    top = max(row[name] for row in rows for name in series) or 1
    step = (WIDTH - 2 * PAD) / (len(rows) - 1)

    def y(value: int) -> float:
        return HEIGHT - PAD - value / top * (HEIGHT - 2 * PAD)

    lines = []
    for name, label in series.items():
        values = [row[name] for row in rows]
        peak = max(range(len(rows)), key=lambda i: values[i])
        lines.append(Line(label, " ".join(f"{PAD + i * step:.1f},{y(v):.1f}"
                                          for i, v in enumerate(values)),
                          sum(values), values[peak], label_of(rows[peak]["key"])))
    return Trend(tuple(lines), top, label_of(rows[0]["key"]), label_of(rows[-1]["key"]))


def bars(steps: list[tuple[str, int]]) -> list[Bar]:
    """The funnel as bars, each as wide as its count against the widest."""
    top = max((count for _, count in steps), default=0) or 1
    return [Bar(label, count, round(count / top * 100, 2), i * (BAR_HEIGHT + BAR_GAP))
            for i, (label, count) in enumerate(steps)]


def bars_height(found: list[Bar]) -> int:
    return len(found) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP if found else 0
