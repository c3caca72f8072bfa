"""Chart geometry (apps/core/charts.py) and the SVG the chart templates make of it."""

import itertools
import re
from xml.etree.ElementTree import Element

import pytest
from defusedxml.ElementTree import fromstring
from django.template.loader import render_to_string

from apps.core import charts

SVG = "{http://www.w3.org/2000/svg}"


def score_chart(scores: list[int], *, band: int = 60) -> charts.LineChart:
    data = [
        charts.LineDatum(
            value=score,
            label=f"{index + 1} Mar",
            title=f"Mock {index + 1}: {score}",
            kind="pass" if score >= 720 else "fail",
            band=(max(100, score - band), min(1000, score + band)),
        )
        for index, score in enumerate(scores)
    ]
    return charts.line_chart(
        id="scores",
        title="Mock scores",
        description="Scores over time.",
        data=data,
        y_low=100,
        y_high=1000,
        references=[(720, "Pass mark 720")],
        shapes={"pass": "circle", "fail": "diamond"},
        legend=[charts.legend_band("95% band"), charts.legend_reference("Pass mark 720")],
    )


def render_svg(chart: charts.LineChart) -> tuple[str, Element]:
    markup = render_to_string("charts/_line.svg", {"chart": chart})
    return markup, fromstring(markup.strip())


def test_a_score_at_the_pass_mark_sits_exactly_on_the_pass_line():
    chart = score_chart([500, 720, 900])

    (pass_line,) = chart.references

    assert chart.points[1].y == pass_line.line.y1 == pass_line.line.y2
    assert pass_line.label == "Pass mark 720"


def test_higher_scores_are_higher_on_the_page_and_bands_surround_their_score():
    chart = score_chart([300, 600, 900])

    ys = [point.y for point in chart.points]

    assert ys[0] > ys[1] > ys[2]  # SVG's y grows downwards
    frame = chart.frame
    assert all(frame.plot_top <= y <= frame.plot_bottom for y in ys)
    for point in chart.points:
        top, bottom = (float(v) for v in re.match(r"M[\d.]+,([\d.]+)V([\d.]+)", point.band_path).groups())
        assert top < point.y < bottom


def test_the_score_axis_reads_at_round_values_and_always_labels_the_pass_mark():
    chart = score_chart([650])

    labels = [tick.label for tick in chart.y_ticks]

    assert labels == ["100", "300", "500", "720", "1000"]
    assert [tick.label for tick in chart.y_ticks if tick.emphasis] == ["720"]
    gaps = [a.label_y - b.label_y for a, b in itertools.pairwise(chart.y_ticks)]
    assert min(gaps) >= charts.LABEL_FONT_SIZE  # no two labels overlap


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1]), (0, 100, [0, 20, 40, 60, 80, 100]), (3, 17, [5, 10, 15])],
)
def test_nice_ticks(low, high, expected):
    assert charts.nice_ticks(low, high) == pytest.approx(expected)


def test_nice_ticks_counted_from_the_scale_minimum():
    assert charts.nice_ticks(100, 1000, start=100) == [100, 300, 500, 700, 900]


def test_one_point_is_centred_with_its_label():
    chart = score_chart([740])

    (point,) = chart.points
    (tick,) = chart.x_ticks

    assert point.x == pytest.approx((chart.frame.plot_left + chart.frame.plot_right) / 2)
    assert tick.label_x == point.x
    assert tick.anchor == "middle"
    assert chart.path == ""  # no line through a single point


def test_no_points_still_draw_the_axes_and_pass_line():
    chart = score_chart([])

    assert chart.points == []
    assert chart.x_ticks == []
    assert chart.path == ""
    assert [tick.label for tick in chart.y_ticks][-1] == "1000"
    assert len(chart.references) == 1


def test_two_points_are_joined_by_a_line():
    chart = score_chart([600, 750])

    first, second = chart.points

    assert chart.path == f"M{first.x:g},{first.y:g}L{second.x:g},{second.y:g}"
    assert first.x < second.x
    assert [tick.label for tick in chart.x_ticks] == ["1 Mar", "2 Mar"]


def test_sixty_points_thin_the_date_labels_so_none_overlap():
    chart = score_chart([400 + 10 * (i % 40) for i in range(60)])

    ticks = chart.x_ticks

    assert 2 < len(ticks) < 60
    assert ticks[-1].label == "60 Mar"  # the latest always has its label
    gaps = [b.label_x - a.label_x for a, b in itertools.pairwise(ticks)]
    widest = max(charts.text_width(tick.label) for tick in ticks)
    assert min(gaps) >= widest
    assert len(set(gaps)) == 1 or max(gaps) - min(gaps) < 0.1  # evenly spaced
    for tick in ticks:  # nothing runs off the viewBox
        half = charts.text_width(tick.label) / 2
        assert tick.anchor != "middle" or 0 <= tick.label_x - half <= tick.label_x + half <= chart.frame.width


def test_the_pass_label_moves_off_a_score_that_would_hide_it():
    # given the latest score sits just above the pass line, where the label goes by default (top right)
    clear = score_chart([450, 500, 550])
    crowded = score_chart([450, 500, 740])

    # then it goes to the first place that covers no point or band: top left
    assert (clear.references[0].anchor, clear.references[0].baseline) == ("end", "auto")
    label = crowded.references[0]
    assert (label.anchor, label.baseline) == ("start", "auto")
    covered = charts.Box(
        label.label_x,
        label.label_y - charts.LABEL_FONT_SIZE,
        label.label_x + charts.text_width(label.label),
        label.label_y,
    )
    frame = crowded.frame
    scale = charts.LinearScale(100, 1000, frame.plot_bottom, frame.plot_top)
    for point in crowded.points:
        low, high = point.band
        assert covered.overlap(charts.Box(point.x - 7, scale(high), point.x + 7, scale(low))) == 0


def test_unknown_marker_shapes_are_refused():
    with pytest.raises(ValueError, match="Unknown marker shape 'star'"):
        charts.marker_path("star", 10, 10, 5)


def test_the_markup_is_an_accessible_image_with_a_title_and_description():
    markup, svg = render_svg(score_chart([610, 700, 745]))

    assert svg.get("role") == "img"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title.text == "Mock scores"
    assert desc.text == "Scores over time."
    assert svg.get("aria-labelledby") == title.get("id")
    assert svg.get("aria-describedby") == desc.get("id")
    assert svg.get("viewBox") == "0 0 640 320"
    assert "preserveAspectRatio" not in markup
    assert "style" not in markup  # the Content-Security-Policy forbids inline styles
    assert "<script" not in markup


def test_the_markup_has_a_band_and_a_titled_point_per_score_and_shapes_for_the_verdict():
    _, svg = render_svg(score_chart([610, 700, 745]))

    bands = svg.findall(f".//{SVG}path[@class='chart-band']")
    points = svg.findall(f".//{SVG}path[@class]")
    points = [p for p in points if "chart-point" in p.get("class")]

    assert len(bands) == 3
    assert [p.find(f"{SVG}title").text for p in points] == ["Mock 1: 610", "Mock 2: 700", "Mock 3: 745"]
    assert [p.get("class") for p in points] == ["chart-point chart-fail"] * 2 + ["chart-point chart-pass"]
    # a diamond (straight edges) below the pass mark, a circle (arcs) at or above it: not colour alone
    assert "a" not in points[0].get("d")
    assert "a" in points[2].get("d")
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "Pass mark 720" in texts
    assert {"100", "720", "1000", "1 Mar", "3 Mar"} <= set(texts)


def test_the_legend_is_text_with_decorative_swatches():
    chart = score_chart([700])
    chart.legend.append(charts.legend_line("Readiness"))

    markup = render_to_string("charts/_legend.html", {"chart": chart})

    assert [entry.label for entry in chart.legend] == ["95% band", "Pass mark 720", "Readiness"]
    for entry in chart.legend:
        assert f'<path class="{entry.css_class}" d="{entry.path}"/></svg>{entry.label}</li>' in markup
    assert markup.count('aria-hidden="true"') == 3
    assert "style" not in markup
