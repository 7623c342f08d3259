"""The charts of the analytics page: pygal SVGs as data URLs, each with its text alternative."""

import base64
import math
from dataclasses import dataclass

import pygal
from django.utils.translation import gettext as _
from pygal.etree import etree
from pygal.style import Style

from consent.rules import duration_text
from consent.selectors.analytics import VersionAnalytics

# Colours that stand out from white (4.5:1 or more) and from each other, also for colour-blind
# readers; each bar also carries its number, so a print in grey stays readable.
RIGHT_FIRST = "#0f5132"
RIGHT_AFTER_RETEACH = "#2a73b0"
FLAGGED = "#b3261e"
OWN_WORDS = "#6a3d9a"
BEING_RETAUGHT = "#5c636a"
NEUTRAL = "#31566f"
TOO_FAST = FLAGGED
TEXT = "#212529"
GUIDE = "#c3c9cf"

CHART_WIDTH = 640

# Question keys are short labels: this chart leaves more room for the table beside it.
NARROW_CHART_WIDTH = 540
ROW_HEIGHT = 30

# The axis, its title and the margins; a legend adds LEGEND_ROW_HEIGHT a row.
CHART_PADDING = 80
LEGEND_ROW_HEIGHT = 24
LEGEND_BOX_SIZE = 14
CHART_MARGIN = 10
LEGEND_COLUMNS = 2

# A bar narrower than this share of the longest carries no number: it would not fit in it.
PRINTED_VALUE_MIN = 0.08

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"


@dataclass
class Chart:
    """An SVG chart as an image source (a data: URI), with its size and its text alternative."""

    src: str
    alt: str
    width: int
    height: int


@dataclass
class AnalyticsCharts:
    statuses: Chart | None = None
    questions: Chart | None = None
    most_missed: Chart | None = None
    reading: Chart | None = None


def _style(colors: tuple[str, ...]) -> Style:
    return Style(
        background="white",
        plot_background="white",
        foreground=TEXT,
        foreground_strong=TEXT,
        foreground_subtle=TEXT,
        guide_stroke_color=GUIDE,
        guide_stroke_dasharray="0",
        major_guide_stroke_color=GUIDE,
        major_guide_stroke_dasharray="0",
        opacity="1",
        opacity_hover="1",
        colors=colors,
        font_family=FONT,
        label_font_size=13,
        major_label_font_size=13,
        legend_font_size=13,
        value_font_size=12,
        value_colors=("white",) * len(colors),
        title_font_size=14,
    )


def _printed_values(largest: float, formatter=str):
    """Print a bar's value on it, unless the bar is too short for the text (the table has it)."""

    def printed(value: float | None) -> str:
        if not value or value < largest * PRINTED_VALUE_MIN:
            return ""
        return formatter(value)

    return printed


def _horizontal_bars(
    chart_class: type,
    *,
    labels: list[str],
    colors: tuple[str, ...],
    axis_title: str,
    largest: float,
    formatter=str,
    legend: bool = False,
    series: int = 1,
    width: int = CHART_WIDTH,
    **config,
):
    """A horizontal bar chart with one row a label, the first label on top."""
    legend_rows = math.ceil(series / LEGEND_COLUMNS) if legend else 0
    # pygal 3.1 leaves room for series // columns legend rows, one too few when the last row is
    # not full: the margin below the chart makes room for it.
    legend_rows_missing = legend_rows - series // LEGEND_COLUMNS if legend else 0
    chart = chart_class(
        style=_style(colors),
        width=width,
        height=CHART_PADDING + ROW_HEIGHT * max(len(labels), 1) + LEGEND_ROW_HEIGHT * legend_rows,
        explicit_size=True,
        # No scripts: pygal's default fetches its tooltips from a CDN.
        js=[],
        disable_xml_declaration=True,
        truncate_label=-1,
        truncate_legend=-1,
        show_legend=legend,
        legend_at_bottom=True,
        legend_at_bottom_columns=LEGEND_COLUMNS,
        legend_box_size=LEGEND_BOX_SIZE,
        print_values=True,
        print_zeroes=False,
        formatter=_printed_values(largest, formatter),
        x_title=axis_title,
        margin=CHART_MARGIN,
        margin_bottom=CHART_MARGIN + LEGEND_ROW_HEIGHT * legend_rows_missing,
        spacing=10,
        **config,
    )
    # pygal draws the first row at the bottom.
    chart.x_labels = list(reversed(labels))
    return chart


def _add(chart, title: str, values: list) -> None:
    chart.add(title, list(reversed(values)))


def _image(chart, *, alt: str) -> Chart:
    """Render a pygal chart to an image: the SVG without pygal's script, base64 in a data: URI."""
    tree = chart.render_tree()
    # pygal always writes its configuration as a script for its tooltips: an image never runs
    # it, so it goes, and the image holds no script at all.
    for parent in list(tree.iter()):
        for child in list(parent):
            if child.tag == "script":
                parent.remove(child)
    # pygal's own etree: lxml when installed, the standard library's otherwise.
    svg = etree.tostring(tree, encoding="unicode").encode("utf-8")
    return Chart(
        src="data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii"),
        alt=alt,
        width=chart.config.width,
        height=chart.config.height,
    )


def analytics_charts(figures: VersionAnalytics) -> AnalyticsCharts:
    """The page's charts; none for figures that do not exist yet (no answer, no reading)."""
    charts = AnalyticsCharts()
    charts.statuses = _statuses_chart(figures)
    if figures.questions_reached:
        charts.questions = _questions_chart(figures)
    if figures.most_missed:
        charts.most_missed = _most_missed_chart(figures)
    if figures.sections_opened:
        charts.reading = _reading_chart(figures)
    return charts


def _statuses_chart(figures: VersionAnalytics) -> Chart:
    statuses = figures.statuses
    largest = max(statuses, key=lambda s: s.sessions)
    chart = _horizontal_bars(
        pygal.HorizontalBar,
        labels=[s.label for s in statuses],
        colors=(NEUTRAL,),
        axis_title=_("Consent sessions"),
        largest=largest.sessions,
    )
    _add(chart, _("Consent sessions"), [s.sessions for s in statuses])
    alt = _(
        "Bar chart of the %(count)s consent sessions by status; the most are %(status)s "
        "(%(sessions)s). The numbers are in the table beside it."
    ) % {"count": figures.session_count, "status": largest.label, "sessions": largest.sessions}
    return _image(chart, alt=alt)


def _questions_chart(figures: VersionAnalytics) -> Chart:
    questions = figures.questions
    outcomes = [
        (_("Right first time"), RIGHT_FIRST, [q.right_first for q in questions]),
        (
            _("Right after re-teaching"),
            RIGHT_AFTER_RETEACH,
            [q.right_after_reteach for q in questions],
        ),
        (_("Flagged"), FLAGGED, [q.flagged for q in questions]),
        (_("In own words"), OWN_WORDS, [q.own_words for q in questions]),
        (_("Being re-taught"), BEING_RETAUGHT, [q.being_retaught for q in questions]),
    ]
    chart = _horizontal_bars(
        pygal.HorizontalStackedBar,
        labels=[q.label for q in questions],
        colors=tuple(color for _title, color, _values in outcomes),
        axis_title=_("Patients who reached the question"),
        largest=max(q.reached for q in questions),
        legend=True,
        series=len(outcomes),
    )
    for title, _color, values in outcomes:
        _add(chart, title, values)
    alt = _(
        "Stacked bar chart of how each of the %(count)s questions ended for the patients who "
        "reached it: right first time, right after re-teaching, flagged, in own words, being "
        "re-taught; %(flagged)s flagged in all. The numbers are in the table that follows."
    ) % {"count": len(questions), "flagged": figures.flagged_count}
    return _image(chart, alt=alt)


def _most_missed_chart(figures: VersionAnalytics) -> Chart:
    missed = figures.most_missed
    chart = _horizontal_bars(
        pygal.HorizontalBar,
        labels=[q.label for q in missed],
        colors=(FLAGGED,),
        axis_title=_("Missed on the first try (%)"),
        largest=100,
        formatter=lambda value: f"{value:.0f} %",
        width=NARROW_CHART_WIDTH,
        range=(0, 100),
    )
    _add(chart, _("Missed on the first try"), [q.missed_percent for q in missed])
    top = missed[0]
    alt = _(
        "Bar chart of the share of patients who missed each question on the first try, for the "
        "%(count)s questions missed at least once; the most missed is %(question)s "
        "(%(percent)s %%). The numbers are in the table beside it."
    ) % {"count": len(missed), "question": top.label, "percent": top.missed_percent}
    return _image(chart, alt=alt)


def _reading_chart(figures: VersionAnalytics) -> Chart:
    sections = figures.sections
    chart = _horizontal_bars(
        pygal.HorizontalBar,
        labels=[s.label for s in sections],
        colors=(NEUTRAL,),
        axis_title=_("Median time (seconds)"),
        largest=max(s.median_seconds or 0 for s in sections),
        formatter=duration_text,
    )
    _add(
        chart,
        _("Median time"),
        [
            {"value": s.median_seconds, "color": TOO_FAST if s.too_fast else NEUTRAL}
            if s.median_seconds is not None
            else None
            for s in sections
        ],
    )
    alt = _(
        "Bar chart of the median time patients spent on each of the %(count)s sections; "
        "%(fast)s passed faster than the text can be read, in red. The numbers are in the "
        "table beside it."
    ) % {"count": len(sections), "fast": len(figures.too_fast)}
    return _image(chart, alt=alt)
