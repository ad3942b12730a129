"""A small chart of a metric's recent windows against the contract's limit,
drawn on the server as inline SVG (no JavaScript, nothing from a CDN)."""

from dataclasses import dataclass

WIDTH, HEIGHT = 640, 180
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 56, 12, 12, 24


@dataclass
class Point:
    x: float
    y: float
    value: float
    breached: bool
    at: object


@dataclass
class Chart:
    width: int
    height: int
    points: list
    line: str  # the polyline's points attribute
    limit_y: float | None
    ticks: list  # (y, label)
    first: object
    last: object


def _fmt(value):
    return f"{value:.4g}"


def draw(windows, limit=None):
    """The chart of ``windows`` (each with ``value`` and ``window_start``),
    with ``limit`` (``breaches.Limit``) as a dashed line, or None without windows."""
    values = [w.value for w in windows if w.value is not None and w.value == w.value]
    if not values:
        return None
    low, high = min(values), max(values)
    if limit is not None:
        low, high = min(low, limit.value), max(high, limit.value)
    span = high - low or abs(high) or 1.0
    low, high = low - span * 0.1, high + span * 0.1
    inner_w, inner_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM

    def y_of(value):
        return PAD_TOP + (high - value) / (high - low) * inner_h

    step = inner_w / max(len(windows) - 1, 1)
    points = []
    for i, window in enumerate(windows):
        value = window.value
        if value is None or value != value:
            continue
        points.append(Point(x=round(PAD_LEFT + i * step, 1), y=round(y_of(value), 1), value=value,
                            breached=limit.breached_by(value) if limit is not None else False,
                            at=window.window_start))
    ticks = [(round(y_of(v), 1), _fmt(v)) for v in (high - (high - low) * f for f in (0.1, 0.5, 0.9))]
    return Chart(width=WIDTH, height=HEIGHT, points=points,
                 line=" ".join(f"{p.x},{p.y}" for p in points),
                 limit_y=round(y_of(limit.value), 1) if limit is not None else None, ticks=ticks,
                 first=windows[0].window_start, last=windows[-1].window_start)
