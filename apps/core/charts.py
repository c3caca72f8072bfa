"""Geometry for server-rendered SVG charts: frames, linear scales, nice ticks, axes, reference lines, markers and
a line chart built from them.

Templates under ``templates/charts/`` only place what this module computed: no arithmetic happens in a template.
Coordinates are user units of a fixed viewBox; the SVG scales with its container and keeps its aspect ratio.
Styling is by class (``static/css/site.css``, section "Charts"): the Content-Security-Policy forbids inline styles.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# Layout assumes labels up to this size in user units. On a phone the SVG is drawn at about half size, and the
# stylesheet enlarges chart text there to stay legible: labels must not collide even at that size.
LABEL_FONT_SIZE = 22
# Average glyph width as a fraction of the font size, on the generous side (digits and capitals are wide).
GLYPH_WIDTH = 0.6
LABEL_GAP = 10
TICK_LENGTH = 6


def text_width(text: str, size: float = LABEL_FONT_SIZE) -> float:
    """An upper estimate of a label's width: the server cannot measure text, so layout errs on the wide side."""
    return len(text) * size * GLYPH_WIDTH


def number_label(value: float) -> str:
    """1000.0 → "1000", 0.25 → "0.25": tick values without trailing zeros."""
    return f"{value:g}"


@dataclass(frozen=True)
class Frame:
    """The viewBox and the margins around the plot area (where axes, ticks and labels go)."""

    width: int = 640
    height: int = 320
    left: int = 72
    right: int = 24
    top: int = 24
    bottom: int = 44

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    @property
    def plot_left(self) -> float:
        return float(self.left)

    @property
    def plot_right(self) -> float:
        return float(self.width - self.right)

    @property
    def plot_top(self) -> float:
        return float(self.top)

    @property
    def plot_bottom(self) -> float:
        return float(self.height - self.bottom)

    @property
    def plot_width(self) -> float:
        return self.plot_right - self.plot_left

    @property
    def plot_height(self) -> float:
        return self.plot_bottom - self.plot_top


@dataclass(frozen=True)
class LinearScale:
    """Maps values in [low, high] linearly onto user units [start, end]; for a y axis end < start (up is smaller)."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        fraction = (value - self.low) / (self.high - self.low)
        return round(self.start + fraction * (self.end - self.start), 2)


def nice_step(span: float, count: int) -> float:
    """The smallest of 1, 2, 2.5 or 5 × 10^k that splits ``span`` into at most ``count`` steps."""
    raw = span / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5):
        if raw <= multiple * magnitude * (1 + 1e-9):
            return multiple * magnitude
    return 10 * magnitude


def nice_ticks(low: float, high: float, count: int = 5, *, start: float = 0.0) -> list[float]:
    """About ``count`` values inside [low, high] a nice step apart, counted from ``start``: a 100-1000 scale
    counted from 100 gives 100, 300, 500, 700, 900."""
    step = nice_step(high - low, count)
    first = math.ceil((low - start) / step - 1e-9)
    last = math.floor((high - start) / step + 1e-9)
    return [round(start + index * step, 10) for index in range(first, last + 1)]


@dataclass(frozen=True)
class Segment:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Tick:
    """A value on an axis: its tick mark, its gridline (if any) and where its label goes."""

    value: float | str
    label: str
    mark: Segment
    label_x: float
    label_y: float
    anchor: str = "middle"  # SVG text-anchor
    baseline: str = "middle"  # SVG dominant-baseline
    grid: Segment | None = None
    emphasis: bool = False


@dataclass(frozen=True)
class Reference:
    """A labelled reference line (a pass mark, a target), drawn dashed across the plot."""

    value: float
    label: str
    line: Segment
    label_x: float
    label_y: float
    anchor: str = "end"
    baseline: str = "auto"


def y_ticks(
    frame: Frame, scale: LinearScale, values: Sequence[float], *, emphasised: Sequence[float] = ()
) -> list[Tick]:
    """Ticks on the left axis, with gridlines: both ends of the scale, the ``emphasised`` values (reference lines,
    in bold) and those of ``values`` that keep clear of them. A value is dropped when it comes closer to an end or
    an emphasised value than a label's height, or than 0.6 of a step (then it would look like an uneven step)."""
    kept = {scale.low, scale.high, *emphasised}
    plain = sorted(set(values) - kept)
    steps = [abs(scale(b) - scale(a)) for a, b in itertools.pairwise(plain)]
    clearance = max(1.2 * LABEL_FONT_SIZE, 0.6 * min(steps, default=0.0))
    values = sorted(kept | {v for v in plain if all(abs(scale(v) - scale(k)) >= clearance for k in kept)})
    ticks = []
    for value in values:
        y = scale(value)
        ticks.append(
            Tick(
                value=value,
                label=number_label(value),
                mark=Segment(frame.plot_left - TICK_LENGTH, y, frame.plot_left, y),
                label_x=frame.plot_left - TICK_LENGTH - 4,
                label_y=y,
                anchor="end",
                baseline="middle",
                grid=Segment(frame.plot_left, y, frame.plot_right, y),
                emphasis=value in emphasised,
            )
        )
    return ticks


def slot_centres(count: int, start: float, end: float) -> list[float]:
    """``count`` evenly spaced positions, each in the middle of its slot: one point sits in the centre."""
    if count <= 0:
        return []
    slot = (end - start) / count
    return [round(start + (index + 0.5) * slot, 2) for index in range(count)]


def thinned_indices(positions: Sequence[float], labels: Sequence[str]) -> list[int]:
    """Which of evenly spaced labels to show so that none overlap: every k-th, counted back from the last (the
    latest is the one people look for), so the spacing stays regular."""
    count = len(positions)
    if count == 0:
        return []
    if count == 1:
        return [0]
    slot = positions[1] - positions[0]
    widest = max(text_width(label) for label in labels) + LABEL_GAP
    every = max(1, math.ceil(widest / slot))
    return list(range(count - 1, -1, -every))[::-1]


def x_ticks(frame: Frame, positions: Sequence[float], labels: Sequence[str]) -> list[Tick]:
    """Ticks under the plot for evenly spaced categories (dates of attempts, weeks), labels thinned to fit.
    A label that would run past the viewBox's edge is anchored at its tick instead of centred on it."""
    ticks = []
    for index in thinned_indices(positions, labels):
        x, label = positions[index], labels[index]
        half = text_width(label) / 2
        anchor = "middle"
        if x + half > frame.width:
            anchor = "end"
        elif x - half < 0:
            anchor = "start"
        ticks.append(
            Tick(
                value=label,
                label=label,
                mark=Segment(x, frame.plot_bottom, x, frame.plot_bottom + TICK_LENGTH),
                label_x=x,
                label_y=frame.plot_bottom + TICK_LENGTH + 4,
                anchor=anchor,
                baseline="hanging",
            )
        )
    return ticks


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in user units: what a label or a data mark covers."""

    left: float
    top: float
    right: float
    bottom: float

    def overlap(self, other: Box) -> float:
        width = min(self.right, other.right) - max(self.left, other.left)
        height = min(self.bottom, other.bottom) - max(self.top, other.top)
        return width * height if width > 0 and height > 0 else 0.0


def horizontal_reference(
    frame: Frame, scale: LinearScale, value: float, label: str, *, obstacles: Sequence[Box] = ()
) -> Reference:
    """A horizontal line at ``value`` across the plot, its label just above or below the line at the right or the
    left end: the first of those places (in that order) that covers no data, or else the one covering least."""
    y = scale(value)
    width, height = text_width(label), LABEL_FONT_SIZE
    best: tuple[float, Reference] | None = None
    for anchor in ("end", "start"):
        label_x = frame.plot_right - 4 if anchor == "end" else frame.plot_left + 4
        left = label_x - width if anchor == "end" else label_x
        for above in (True, False):
            top = y - 4 - height if above else y + 4
            if top < frame.plot_top or top + height > frame.plot_bottom:
                continue
            box = Box(left, top, left + width, top + height)
            covered = sum(box.overlap(obstacle) for obstacle in obstacles)
            if best is None or covered < best[0]:
                reference = Reference(
                    value=value,
                    label=label,
                    line=Segment(frame.plot_left, y, frame.plot_right, y),
                    label_x=label_x,
                    label_y=round(y - 4 if above else y + 4, 2),
                    anchor=anchor,
                    baseline="auto" if above else "hanging",
                )
                best = (covered, reference)
    if best is None:  # a plot too short for the label: on the line, at the right
        return Reference(value, label, Segment(frame.plot_left, y, frame.plot_right, y), frame.plot_right - 4, y)
    return best[1]


MARKER_SHAPES = ("circle", "diamond", "square", "triangle")


def marker_path(shape: str, x: float, y: float, size: float) -> str:
    """An SVG path for a point marker of about ``size`` radius; shapes tell series apart without colour."""
    r = round(size, 2)
    if shape == "circle":
        return f"M{x - r:g},{y:g}a{r:g},{r:g} 0 1,0 {2 * r:g},0a{r:g},{r:g} 0 1,0 {-2 * r:g},0Z"
    if shape == "diamond":
        d = round(size * 1.3, 2)  # a diamond of the circle's radius looks smaller than the circle
        return f"M{x:g},{y - d:g}L{x + d:g},{y:g}L{x:g},{y + d:g}L{x - d:g},{y:g}Z"
    if shape == "square":
        return f"M{x - r:g},{y - r:g}h{2 * r:g}v{2 * r:g}h{-2 * r:g}Z"
    if shape == "triangle":
        d = round(size * 1.25, 2)
        return f"M{x:g},{y - d:g}L{x + d:g},{y + d * 0.8:g}L{x - d:g},{y + d * 0.8:g}Z"
    raise ValueError(f"Unknown marker shape {shape!r}; use one of {', '.join(MARKER_SHAPES)}.")


@dataclass(frozen=True)
class LegendEntry:
    """One line of a chart's legend: a small swatch (a path in a 24×24 box) and its text."""

    label: str
    css_class: str
    path: str


def legend_marker(label: str, *, kind: str, shape: str) -> LegendEntry:
    return LegendEntry(label, f"chart-point chart-{kind}", marker_path(shape, 12, 12, 6))


def legend_band(label: str) -> LegendEntry:
    return LegendEntry(label, "chart-band", "M12,3V21M7,3H17M7,21H17")


def legend_reference(label: str) -> LegendEntry:
    return LegendEntry(label, "chart-reference", "M0,12H24")


def legend_line(label: str) -> LegendEntry:
    return LegendEntry(label, "chart-line", "M0,18L12,8L24,12")


@dataclass(frozen=True)
class LineDatum:
    """One observation for a line chart, as a selector hands it over."""

    value: float
    label: str  # its x axis label, e.g. a short date
    title: str  # the full text of the point, shown on hover: date, value, band, verdict
    kind: str = "point"  # a CSS class suffix (chart-<kind>) and the key of its marker shape
    band: tuple[float, float] | None = None


@dataclass(frozen=True)
class LinePoint:
    x: float
    y: float
    value: float
    label: str
    title: str
    kind: str
    marker: str
    band: tuple[float, float] | None = None
    band_path: str = ""


class _Labelled:
    """The ids a chart's <title> and <desc> take, from its own ``id``, for aria-labelledby/aria-describedby."""

    id: str

    @property
    def title_id(self) -> str:
        return f"{self.id}-title"

    @property
    def description_id(self) -> str:
        return f"{self.id}-desc"


@dataclass(frozen=True)
class LineChart(_Labelled):
    id: str
    title: str
    description: str
    frame: Frame
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    x_axis: Segment
    y_axis: Segment
    references: list[Reference]
    points: list[LinePoint]
    path: str
    legend: list[LegendEntry] = field(default_factory=list)


def line_chart(
    *,
    id: str,  # the element id prefix, as in HTML
    title: str,
    description: str,
    data: Sequence[LineDatum],
    y_low: float,
    y_high: float,
    references: Sequence[tuple[float, str]] = (),
    shapes: dict[str, str] | None = None,
    legend: Sequence[LegendEntry] = (),
    frame: Frame | None = None,
    y_tick_count: int = 5,
) -> LineChart:
    """A line chart of values in order (evenly spaced left to right) on a linear y scale from ``y_low`` to
    ``y_high``, with an optional band per point (drawn as an error bar) and labelled reference lines."""
    frame = frame or Frame()
    y_scale = LinearScale(y_low, y_high, frame.plot_bottom, frame.plot_top)
    xs = slot_centres(len(data), frame.plot_left, frame.plot_right)
    slot = frame.plot_width / max(len(data), 1)
    # Markers and error-bar caps shrink when many points share the width, so that neighbours stay apart.
    radius = round(min(7.0, max(2.5, slot * 0.32)), 2)
    cap = round(min(7.0, max(2.0, slot * 0.3)), 2)
    shapes = shapes or {}
    points = []
    for x, datum in zip(xs, data, strict=True):
        y = y_scale(datum.value)
        band_path = ""
        if datum.band is not None:
            top, bottom = y_scale(datum.band[1]), y_scale(datum.band[0])
            band_path = f"M{x:g},{top:g}V{bottom:g}M{x - cap:g},{top:g}h{2 * cap:g}M{x - cap:g},{bottom:g}h{2 * cap:g}"
        points.append(
            LinePoint(
                x=x,
                y=y,
                value=datum.value,
                label=datum.label,
                title=datum.title,
                kind=datum.kind,
                marker=marker_path(shapes.get(datum.kind, "circle"), x, y, radius),
                band=datum.band,
                band_path=band_path,
            )
        )
    path = "M" + "L".join(f"{point.x:g},{point.y:g}" for point in points) if len(points) > 1 else ""
    reference_values = [value for value, _ in references]
    obstacles = [Box(p.x - radius, p.y - radius, p.x + radius, p.y + radius) for p in points] + [
        Box(p.x - cap, y_scale(p.band[1]), p.x + cap, y_scale(p.band[0])) for p in points if p.band is not None
    ]
    return LineChart(
        id=id,
        title=title,
        description=description,
        frame=frame,
        x_ticks=x_ticks(frame, xs, [datum.label for datum in data]),
        y_ticks=y_ticks(
            frame, y_scale, nice_ticks(y_low, y_high, y_tick_count, start=y_low), emphasised=reference_values
        ),
        x_axis=Segment(frame.plot_left, frame.plot_bottom, frame.plot_right, frame.plot_bottom),
        y_axis=Segment(frame.plot_left, frame.plot_top, frame.plot_left, frame.plot_bottom),
        references=[
            horizontal_reference(frame, y_scale, value, label, obstacles=obstacles) for value, label in references
        ],
        points=points,
        path=path,
        legend=list(legend),
    )


def x_value_ticks(
    frame: Frame, scale: LinearScale, values: Sequence[float], label: Callable[[float], str] = number_label
) -> list[Tick]:
    """Ticks under the plot for a linear x axis (values, not categories), each with a vertical gridline. A label
    that would run past the viewBox's edge is anchored at its tick instead of centred on it."""
    ticks = []
    for value in values:
        x = scale(value)
        text = label(value)
        half = text_width(text) / 2
        anchor = "end" if x + half > frame.width else "start" if x - half < 0 else "middle"
        ticks.append(
            Tick(
                value=value,
                label=text,
                mark=Segment(x, frame.plot_bottom, x, frame.plot_bottom + TICK_LENGTH),
                label_x=x,
                label_y=frame.plot_bottom + TICK_LENGTH + 4,
                anchor=anchor,
                baseline="hanging",
                grid=Segment(x, frame.plot_top, x, frame.plot_bottom),
            )
        )
    return ticks


@dataclass(frozen=True)
class AxisTitle:
    """The name of an axis: under the x tick labels, or turned a quarter left of the y tick labels."""

    text: str
    x: float
    y: float
    rotate: int = 0

    @property
    def transform(self) -> str:
        return f"rotate({self.rotate} {self.x:g} {self.y:g})" if self.rotate else ""


@dataclass(frozen=True)
class ScatterDatum:
    """One point for a scatter chart, as a selector hands it over: both coordinates in data units."""

    x: float
    y: float
    title: str  # the full text of the point, shown on hover
    kind: str = "point"
    interval: tuple[float, float] | None = None  # a vertical interval around y, drawn as an error bar


@dataclass(frozen=True)
class ScatterPoint:
    x: float
    y: float
    title: str
    kind: str
    marker: str
    interval_path: str = ""


@dataclass(frozen=True)
class ScatterChart(_Labelled):
    id: str
    title: str
    description: str
    frame: Frame
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    x_axis: Segment
    y_axis: Segment
    x_title: AxisTitle
    y_title: AxisTitle
    lines: list[Segment]  # reference lines in any direction, e.g. a diagonal
    points: list[ScatterPoint]
    legend: list[LegendEntry] = field(default_factory=list)


# A square plot area with room for tick labels and an axis title on the left and below.
SCATTER_FRAME = Frame(width=560, height=520, left=104, right=32, top=24, bottom=72)


def scatter_chart(
    *,
    id: str,  # the element id prefix, as in HTML
    title: str,
    description: str,
    data: Sequence[ScatterDatum],
    x_ticks: Sequence[float],
    y_ticks: Sequence[float],
    x_title: str,
    y_title: str,
    tick_label: Callable[[float], str] = number_label,
    diagonal: bool = False,
    shapes: dict[str, str] | None = None,
    legend: Sequence[LegendEntry] = (),
    frame: Frame | None = None,
) -> ScatterChart:
    """Points on linear x and y scales spanning the first to the last tick of each, an optional vertical interval
    per point (an error bar) and, with ``diagonal``, the line y = x as a reference (a reliability diagram's
    perfect calibration)."""
    frame = frame or SCATTER_FRAME
    x_scale = LinearScale(x_ticks[0], x_ticks[-1], frame.plot_left, frame.plot_right)
    y_scale = LinearScale(y_ticks[0], y_ticks[-1], frame.plot_bottom, frame.plot_top)
    radius, cap = 7.0, 7.0
    shapes = shapes or {}
    points = []
    for datum in data:
        x, y = x_scale(datum.x), y_scale(datum.y)
        interval_path = ""
        if datum.interval is not None:
            top, bottom = y_scale(datum.interval[1]), y_scale(datum.interval[0])
            interval_path = (
                f"M{x:g},{top:g}V{bottom:g}M{x - cap:g},{top:g}h{2 * cap:g}M{x - cap:g},{bottom:g}h{2 * cap:g}"
            )
        points.append(
            ScatterPoint(
                x=x,
                y=y,
                title=datum.title,
                kind=datum.kind,
                marker=marker_path(shapes.get(datum.kind, "circle"), x, y, radius),
                interval_path=interval_path,
            )
        )
    lines = []
    if diagonal:
        low, high = max(x_scale.low, y_scale.low), min(x_scale.high, y_scale.high)
        lines.append(Segment(x_scale(low), y_scale(low), x_scale(high), y_scale(high)))
    widest_y_label = max(text_width(tick_label(value)) for value in y_ticks)
    return ScatterChart(
        id=id,
        title=title,
        description=description,
        frame=frame,
        x_ticks=x_value_ticks(frame, x_scale, x_ticks, tick_label),
        y_ticks=y_ticks_exact(frame, y_scale, y_ticks, tick_label),
        x_axis=Segment(frame.plot_left, frame.plot_bottom, frame.plot_right, frame.plot_bottom),
        y_axis=Segment(frame.plot_left, frame.plot_top, frame.plot_left, frame.plot_bottom),
        x_title=AxisTitle(
            x_title,
            round((frame.plot_left + frame.plot_right) / 2, 2),
            frame.plot_bottom + TICK_LENGTH + 4 + LABEL_FONT_SIZE + LABEL_GAP,
        ),
        y_title=AxisTitle(
            y_title,
            round(max(LABEL_FONT_SIZE, frame.plot_left - TICK_LENGTH - 4 - widest_y_label - LABEL_GAP), 2),
            round((frame.plot_top + frame.plot_bottom) / 2, 2),
            rotate=-90,
        ),
        lines=lines,
        points=points,
        legend=list(legend),
    )


def y_ticks_exact(
    frame: Frame, scale: LinearScale, values: Sequence[float], label: Callable[[float], str] = number_label
) -> list[Tick]:
    """Ticks on the left axis at exactly ``values`` (no thinning), with gridlines."""
    return [
        Tick(
            value=value,
            label=label(value),
            mark=Segment(frame.plot_left - TICK_LENGTH, scale(value), frame.plot_left, scale(value)),
            label_x=frame.plot_left - TICK_LENGTH - 4,
            label_y=scale(value),
            anchor="end",
            baseline="middle",
            grid=Segment(frame.plot_left, scale(value), frame.plot_right, scale(value)),
        )
        for value in values
    ]


@dataclass(frozen=True)
class HistogramBin:
    """One bar of a histogram, as a selector hands it over: values in [low, high) counted ``count`` times."""

    low: float
    high: float
    count: int
    title: str  # the full text of the bar, shown on hover


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    title: str
    label_x: float
    label_y: float


@dataclass(frozen=True)
class HistogramChart(_Labelled):
    id: str
    title: str
    description: str
    frame: Frame
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    x_axis: Segment
    y_axis: Segment
    x_title: AxisTitle
    y_title: AxisTitle
    bars: list[Bar]
    references: list[Reference]
    legend: list[LegendEntry] = field(default_factory=list)


# Room on the left for the count labels and the turned y axis title, below for the x labels and title, and at the
# top for the reference line's label.
HISTOGRAM_FRAME = Frame(width=640, height=340, left=92, right=24, top=40, bottom=76)


def count_ticks(tallest: int, count: int = 4) -> list[int]:
    """Whole-number ticks from 0 to at least ``tallest``, a nice step apart: a y axis of counts."""
    step = max(1, math.ceil(nice_step(max(tallest, 1), count)))
    top = max(1, math.ceil(tallest / step)) * step
    return list(range(0, top + 1, step))


def vertical_reference(frame: Frame, scale: LinearScale, value: float, label: str) -> Reference:
    """A vertical line at ``value`` from top to bottom of the plot, its label above the plot beside the line: to the
    right of it, or to the left when it would run past the viewBox's edge."""
    x = scale(value)
    anchor, label_x = "start", x + 4
    if x + 4 + text_width(label) > frame.width:
        anchor, label_x = "end", x - 4
    return Reference(
        value=value,
        label=label,
        line=Segment(x, frame.plot_top - LABEL_FONT_SIZE - 8, x, frame.plot_bottom),
        label_x=round(label_x, 2),
        label_y=round(frame.plot_top - LABEL_FONT_SIZE - 8, 2),
        anchor=anchor,
        baseline="hanging",
    )


def histogram_chart(
    *,
    id: str,  # the element id prefix, as in HTML
    title: str,
    description: str,
    bins: Sequence[HistogramBin],
    x_ticks: Sequence[float],
    x_title: str,
    y_title: str,
    references: Sequence[tuple[float, str]] = (),
    legend: Sequence[LegendEntry] = (),
    frame: Frame | None = None,
    tick_label: Callable[[float], str] = number_label,
) -> HistogramChart:
    """Bars over a linear x scale spanning the first to the last tick, their heights on a count scale from 0 to
    just above the tallest bar (not to the number of people counted: a small bin stays readable), with
    vertical reference lines (a pass mark)."""
    frame = frame or HISTOGRAM_FRAME
    x_scale = LinearScale(x_ticks[0], x_ticks[-1], frame.plot_left, frame.plot_right)
    counts = count_ticks(max((b.count for b in bins), default=0))
    y_scale = LinearScale(0, counts[-1], frame.plot_bottom, frame.plot_top)
    bars = []
    for datum in bins:
        left, right = x_scale(datum.low) + 1, x_scale(datum.high) - 1  # a hairline apart
        top = y_scale(datum.count)
        bars.append(
            Bar(
                x=round(left, 2),
                y=top,
                width=round(right - left, 2),
                height=round(frame.plot_bottom - top, 2),
                count=datum.count,
                title=datum.title,
                label_x=round((left + right) / 2, 2),
                label_y=round(top - 4, 2),
            )
        )
    widest_y_label = max(text_width(str(value)) for value in counts)
    return HistogramChart(
        id=id,
        title=title,
        description=description,
        frame=frame,
        x_ticks=x_value_ticks(frame, x_scale, x_ticks, tick_label),
        y_ticks=y_ticks_exact(frame, y_scale, counts),
        x_axis=Segment(frame.plot_left, frame.plot_bottom, frame.plot_right, frame.plot_bottom),
        y_axis=Segment(frame.plot_left, frame.plot_top, frame.plot_left, frame.plot_bottom),
        x_title=AxisTitle(
            x_title,
            round((frame.plot_left + frame.plot_right) / 2, 2),
            frame.plot_bottom + TICK_LENGTH + 4 + LABEL_FONT_SIZE + LABEL_GAP,
        ),
        y_title=AxisTitle(
            y_title,
            round(max(LABEL_FONT_SIZE, frame.plot_left - TICK_LENGTH - 4 - widest_y_label - LABEL_GAP), 2),
            round((frame.plot_top + frame.plot_bottom) / 2, 2),
            rotate=-90,
        ),
        bars=bars,
        references=[vertical_reference(frame, x_scale, value, label) for value, label in references],
        legend=list(legend),
    )


def legend_bar(label: str) -> LegendEntry:
    return LegendEntry(label, "chart-bar", "M5,6H19V22H5Z")
