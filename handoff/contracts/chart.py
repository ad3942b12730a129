"""The comparison's trade-off chart: a measured metric (y) against p95 latency
or peak memory (x), one labelled point per candidate, the requirement lines
drawn. Drawn on the server as inline SVG (no JavaScript, nothing from a CDN);
the page puts the same figures in a table for screen readers.

A candidate that passed is a circle, one that failed a cross, one not yet
measured a square: told apart by shape, not by colour alone."""

from dataclasses import dataclass

from .selectors import LATENCY, MEMORY

WIDTH, HEIGHT = 640, 320
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 64, 24, 16, 48
X_AXES = {"latency": (LATENCY, "p95 latency (ms)"), "memory": (MEMORY, "Peak memory (MB)")}


@dataclass
class Point:
    x: float
    y: float
    label: str
    x_value: float
    y_value: float
    verdict: str | None  # "pass", "fail" or None (not measured yet)

    @property
    def corner(self):
        """The top-left corner of an unmeasured point's square."""
        return round(self.x - 5, 1), round(self.y - 5, 1)

    @property
    def label_y(self):
        return round(self.y - 10, 1)

    @property
    def cross(self):
        """The two strokes of a failing point's cross, as a path."""
        s = 6
        return (f"M{self.x - s},{self.y - s} L{self.x + s},{self.y + s} "
                f"M{self.x - s},{self.y + s} L{self.x + s},{self.y - s}")


@dataclass
class Chart:
    width: int
    height: int
    x_label: str
    y_label: str
    points: list
    x_ticks: list  # (x, label)
    y_ticks: list  # (y, label)
    x_limit: float | None  # the budget's vertical line, in chart coordinates
    y_limit: float | None  # the metric requirement's horizontal line
    left: int
    right: int
    top: int
    bottom: int


def _fmt(value):
    return f"{value:.4g}"


def _scale(values):
    low, high = min(values), max(values)
    span = high - low or abs(high) or 1.0
    return low - span * 0.1, high + span * 0.1


def draw(table, *, x="latency", y=None):
    """The chart of a ``selectors.comparison`` table with ``x`` ("latency" or
    "memory") against the metric row ``y`` ("accuracy"), or None when no
    candidate has both figures. Unknown axes fall back to latency and the
    first required metric."""
    x_key, x_label = X_AXES.get(x, X_AXES["latency"])
    rows = {row["key"]: row for row in table["rows"]}
    metric_rows = [row for row in table["rows"] if row["key"].startswith("metric.")]
    y_row = rows.get(f"metric.{y}") or (metric_rows[0] if metric_rows else None)
    x_row = rows.get(x_key)
    if y_row is None or x_row is None:
        return None
    pairs = [
        (column, x_cell["value"], y_cell["value"])
        for column, x_cell, y_cell in zip(table["columns"], x_row["cells"], y_row["cells"], strict=True)
        if x_cell["value"] is not None and y_cell["value"] is not None
    ]
    if not pairs:
        return None
    x_limit = x_row["maximum"]
    y_limit = y_row["minimum"] if y_row["minimum"] is not None else y_row["maximum"]
    x_low, x_high = _scale([p[1] for p in pairs] + ([x_limit] if x_limit is not None else []))
    y_low, y_high = _scale([p[2] for p in pairs] + ([y_limit] if y_limit is not None else []))
    x_low = max(x_low, 0.0) if min(p[1] for p in pairs) >= 0 else x_low
    left, right, top, bottom = PAD_LEFT, WIDTH - PAD_RIGHT, PAD_TOP, HEIGHT - PAD_BOTTOM

    def x_of(value):
        return round(left + (value - x_low) / (x_high - x_low) * (right - left), 1)

    def y_of(value):
        return round(top + (y_high - value) / (y_high - y_low) * (bottom - top), 1)

    points = [
        Point(x=x_of(xv), y=y_of(yv), label=f"{column['model']} {column['version_label']}", x_value=xv,
              y_value=yv, verdict=column["verdict"])
        for column, xv, yv in pairs
    ]
    fractions = (0.1, 0.5, 0.9)
    return Chart(
        width=WIDTH, height=HEIGHT, x_label=x_label, y_label=y_row["label"], points=points,
        x_ticks=[(x_of(v), _fmt(v)) for v in (x_low + (x_high - x_low) * f for f in fractions)],
        y_ticks=[(y_of(v), _fmt(v)) for v in (y_high - (y_high - y_low) * f for f in fractions)],
        x_limit=x_of(x_limit) if x_limit is not None else None,
        y_limit=y_of(y_limit) if y_limit is not None else None,
        left=left, right=right, top=top, bottom=bottom,
    )
