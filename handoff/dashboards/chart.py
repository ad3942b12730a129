"""The dashboard's charts, drawn on the server as inline SVG (no JavaScript,
nothing from a CDN): a line chart of a weekly figure, bars of weekly counts and
a sparkline per project. Every chart has a title and a table of its numbers
beside it (the template's job), so nothing is said by colour or shape alone."""

from dataclasses import dataclass, field

WIDTH, HEIGHT = 640, 200
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 12, 12, 28


@dataclass
class Mark:
    x: float
    y: float
    value: float
    label: str  # the week, as the x axis says it
    display: str = ""  # the value as the table beside the chart says it
    height: float = 0.0  # bars only


@dataclass
class Chart:
    width: int
    height: int
    marks: list
    line: str = ""  # a polyline's points (line charts; gaps split into ``segments``)
    segments: list = field(default_factory=list)
    ticks: list = field(default_factory=list)  # (y, label)
    x_labels: list = field(default_factory=list)  # (x, label), a few only
    bar_width: float = 0.0
    baseline: float = 0.0


def _fmt(value, percent=False):
    if percent:
        return f"{value * 100:.0f}%"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _scale(values, *, ceiling=None):
    high = max(values) if values else 1
    if ceiling is not None:
        high = max(high, ceiling)
    high = high or 1
    return 0.0, float(high)


def _frame(points, low, high):
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    step = inner_w / max(len(points), 1)

    def x_of(i):
        return round(PAD_LEFT + step * (i + 0.5), 1)

    def y_of(value):
        return round(PAD_TOP + (high - value) / ((high - low) or 1) * inner_h, 1)

    return step, x_of, y_of


def _x_labels(points, x_of):
    every = max(1, len(points) // 6)
    return [(x_of(i), label[5:]) for i, (label, _) in enumerate(points) if i % every == 0]


def line(points, *, percent=False, ceiling=None):
    """A line chart of ``points`` [(label, value or None)]; None leaves a gap. None without a value."""
    values = [v for _, v in points if v is not None]
    if not values:
        return None
    low, high = _scale(values, ceiling=ceiling)
    step, x_of, y_of = _frame(points, low, high)
    marks, segments, run = [], [], []
    for i, (label, value) in enumerate(points):
        if value is None:
            if run:
                segments.append(" ".join(run))
            run = []
            continue
        mark = Mark(x=x_of(i), y=y_of(value), value=value, label=label, display=_fmt(value, percent))
        marks.append(mark)
        run.append(f"{mark.x},{mark.y}")
    if run:
        segments.append(" ".join(run))
    ticks = [(y_of(v), _fmt(v, percent)) for v in (high, high / 2, 0.0)]
    return Chart(width=WIDTH, height=HEIGHT, marks=marks, segments=segments, ticks=ticks,
                 x_labels=_x_labels(points, x_of), baseline=y_of(0.0))


def bars(points):
    """A bar chart of counts [(label, n)]; None when every count is zero."""
    values = [v or 0 for _, v in points]
    if not any(values):
        return None
    low, high = _scale(values)
    step, x_of, y_of = _frame(points, low, high)
    width = round(step * 0.7, 1)
    marks = []
    for i, (label, value) in enumerate(points):
        top = y_of(value or 0)
        marks.append(Mark(x=round(x_of(i) - width / 2, 1), y=top, value=value or 0, label=label,
                          display=str(value or 0), height=round(y_of(0.0) - top, 1)))
    ticks = [(y_of(v), _fmt(v)) for v in sorted({int(high), int(high) // 2, 0}, reverse=True)]
    return Chart(width=WIDTH, height=HEIGHT, marks=marks, ticks=ticks, x_labels=_x_labels(points, x_of),
                 bar_width=width, baseline=y_of(0.0))


SPARK_W, SPARK_H = 120, 24


def sparkline(values):
    """A small line of ``values`` (numbers, None as 0) for a table cell, or None when all are 0."""
    values = [v or 0 for v in values]
    if not any(values):
        return None
    high = max(values)
    step = SPARK_W / max(len(values) - 1, 1)
    points = " ".join(f"{round(i * step, 1)},{round(SPARK_H - 2 - (v / high) * (SPARK_H - 4), 1)}"
                      for i, v in enumerate(values))
    return Chart(width=SPARK_W, height=SPARK_H, marks=[], line=points)


def of(data):
    """The dashboard's charts from its figures (``selectors.team_figures``)."""
    weekly = data["weekly"]
    return {
        "lead_time": line([(w["week"], w["lead_time_median_hours"]) for w in weekly]),
        "accepted": bars([(w["week"], w["accepted"]) for w in weekly]),
        "first_pass": line([(w["week"], w["first_pass_rate"]) for w in weekly], percent=True, ceiling=1.0),
        "incidents": bars([(w["week"], w["incidents_opened"]["total"]) for w in weekly]),
        "sparklines": {row["slug"]: sparkline(row["weekly_accepted"]) for row in data["by_project"]},
    }
