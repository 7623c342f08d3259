"""Comprehension analytics for one procedure version: what patients understood, aggregated.

This is how a clinical team learns which part of a procedure's text to rewrite: the questions
patients get wrong, what re-teaching achieves, and the sections read far faster than their text
allows. Only aggregates leave this module, never a patient's answers or identity.

Every figure is computed in a fixed number of queries however many consent sessions there are,
and by the database: counts by aggregation, medians by window functions that send back only the
middle rows (the same SQL on SQLite and PostgreSQL).

A consent session counts for a question only once its patient reached that question (answered it
at least once), and for a section only once its patient opened that section: a question nobody
reached is not "missed".
"""

import base64
import math
import statistics
from dataclasses import dataclass

import pygal
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext as _
from pygal.etree import etree
from pygal.style import Style

from consent.models import (
    Attempt,
    ConsentSession,
    ProcedureVersion,
    Question,
    QuestionReview,
    Section,
    SectionView,
)
from consent.selectors import (
    READING_SECONDS_MIN,
    READING_WORDS_PER_MINUTE_MAX,
    section_word_count,
)

# The figures


def duration_display(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


@dataclass
class StatusCount:
    status: str
    label: str
    sessions: int


@dataclass
class QuestionOutcomes:
    """What the patients who reached one teach-back question made of it.

    Each of them is in exactly one outcome: right first time, right after re-teaching, flagged
    (still wrong after the last re-teach), answered in their own words (free text, which the
    physician assesses) or, for a patient still answering, being re-taught.
    """

    number: int
    key: str
    prompt: str
    section_title: str
    free_text: bool
    reached: int = 0
    right_first: int = 0
    right_after_reteach: int = 0
    flagged: int = 0
    own_words: int = 0
    # Wrong on the first try: the measure of how often a question is missed.
    missed_first: int = 0
    # Answers in the patient's own words that the physician has assessed, and the key points
    # those answers covered out of the key points they could have covered.
    assessed: int = 0
    key_points_covered: int = 0
    key_points_possible: int = 0

    @property
    def label(self) -> str:
        return f"{self.number}. {self.key}"

    @property
    def being_retaught(self) -> int:
        settled = self.right_first + self.right_after_reteach + self.flagged + self.own_words
        return self.reached - settled

    @property
    def graded(self) -> int:
        """First tries that were graded right or wrong (answers in own words are not)."""
        return self.reached - self.own_words

    @property
    def missed_percent(self) -> int:
        return round(100 * self.missed_first / self.graded) if self.graded else 0

    @property
    def key_points_percent(self) -> int | None:
        if not self.key_points_possible:
            return None
        return round(100 * self.key_points_covered / self.key_points_possible)


@dataclass
class SectionReadingTime:
    """How long the patients who opened one section spent on it (the median of their times)."""

    number: int
    title: str
    words: int
    readers: int = 0
    median_seconds: float | None = None

    @property
    def label(self) -> str:
        return f"{self.number}. {self.title}"

    @property
    def median_display(self) -> str:
        return "" if self.median_seconds is None else duration_display(self.median_seconds)

    @property
    def words_per_minute(self) -> int | None:
        """The reading speed of the median patient (faster than the median time means faster)."""
        if not self.median_seconds:
            return None
        return round(self.words * 60 / self.median_seconds)

    @property
    def too_fast(self) -> bool:
        """Half the patients or more passed the section faster than anyone can read it."""
        if self.median_seconds is None:
            return False
        if self.median_seconds < READING_SECONDS_MIN:
            return True
        return self.words * 60 > READING_WORDS_PER_MINUTE_MAX * self.median_seconds


@dataclass
class VersionAnalytics:
    version: ProcedureVersion
    statuses: list[StatusCount]
    questions: list[QuestionOutcomes]
    sections: list[SectionReadingTime]

    @property
    def session_count(self) -> int:
        return sum(s.sessions for s in self.statuses)

    @property
    def flagged_count(self) -> int:
        """Answers still wrong after the last re-teach, over every question and session."""
        return sum(q.flagged for q in self.questions)

    @property
    def questions_reached(self) -> bool:
        return any(q.reached for q in self.questions)

    @property
    def sections_opened(self) -> bool:
        return any(s.readers for s in self.sections)

    @property
    def most_missed(self) -> list[QuestionOutcomes]:
        """Questions missed on the first try at least once, the most often missed first."""
        missed = [q for q in self.questions if q.missed_first]
        return sorted(missed, key=lambda q: (-q.missed_percent, -q.missed_first, q.number))

    @property
    def own_words_questions(self) -> list[QuestionOutcomes]:
        return [q for q in self.questions if q.free_text]

    @property
    def too_fast(self) -> list[SectionReadingTime]:
        return [s for s in self.sections if s.too_fast]


@dataclass
class VersionChoice:
    version: ProcedureVersion
    sessions: int


def procedure_versions_with_sessions() -> list[VersionChoice]:
    """Every procedure version with its number of consent sessions, in one query."""
    versions = ProcedureVersion.objects.annotate(sessions=Count("consent_sessions")).order_by(
        "slug", "language", "-imported_at"
    )
    return [VersionChoice(version=v, sessions=v.sessions) for v in versions]


def default_version(choices: list[VersionChoice]) -> ProcedureVersion | None:
    """The most recently imported version that has consent sessions, if any has."""
    used = [c.version for c in choices if c.sessions]
    return max(used, key=lambda v: (v.imported_at, v.pk)) if used else None


def version_analytics(*, version: ProcedureVersion) -> VersionAnalytics:
    """Every figure of the analytics page for one procedure version, in six queries."""
    return VersionAnalytics(
        version=version,
        statuses=_status_counts(version),
        questions=_question_outcomes(version),
        sections=_section_reading_times(version),
    )


def _status_counts(version: ProcedureVersion) -> list[StatusCount]:
    counts = dict(
        ConsentSession.objects.filter(procedure_version=version)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return [
        StatusCount(status=value, label=str(label), sessions=counts.get(value, 0))
        for value, label in ConsentSession.Status.choices
    ]


def _question_outcomes(version: ProcedureVersion) -> list[QuestionOutcomes]:
    questions = list(
        Question.objects.filter(version=version).select_related("section").order_by("position")
    )
    outcomes = {
        q.pk: QuestionOutcomes(
            number=number,
            key=q.key,
            prompt=q.prompt,
            section_title=q.section.title,
            free_text=q.kind == Question.Kind.FREE_TEXT,
        )
        for number, q in enumerate(questions, start=1)
    }
    # A question has at most one settling attempt per session (nothing is asked after it) and
    # exactly one first attempt, so counting attempts counts sessions.
    past_last_reteach = Q(round__gt=F("session__max_reteach"))
    rows = (
        Attempt.objects.filter(session__procedure_version=version)
        .order_by()  # the default ordering would split the groups
        .values("question_id")
        .annotate(
            reached=Count("pk", filter=Q(round=1)),
            right_first=Count("pk", filter=Q(round=1, is_correct=True)),
            missed_first=Count("pk", filter=Q(round=1, is_correct=False)),
            right_after_reteach=Count("pk", filter=Q(round__gt=1, is_correct=True)),
            flagged=Count("pk", filter=past_last_reteach & Q(is_correct=False)),
            own_words=Count("pk", filter=Q(is_correct__isnull=True)),
        )
    )
    for row in rows:
        outcome = outcomes[row.pop("question_id")]
        for name, value in row.items():
            setattr(outcome, name, value)
    key_points = {q.pk: len(q.key_points) for q in questions}
    reviews = QuestionReview.objects.filter(
        session__procedure_version=version, question__kind=Question.Kind.FREE_TEXT
    ).values_list("question_id", "covered_key_points")
    for question_id, covered in reviews:
        outcome = outcomes[question_id]
        outcome.assessed += 1
        outcome.key_points_covered += len(covered)
        outcome.key_points_possible += key_points[question_id]
    return list(outcomes.values())


def _section_reading_times(version: ProcedureVersion) -> list[SectionReadingTime]:
    sections = list(Section.objects.filter(version=version).order_by("position"))
    middle = _median_rows(
        SectionView.objects.filter(session__procedure_version=version, visits__gt=0),
        group="section_id",
        value="seconds",
    )
    readings = []
    for number, section in enumerate(sections, start=1):
        readers, times = middle.get(section.pk, (0, []))
        readings.append(
            SectionReadingTime(
                number=number,
                title=section.title,
                words=section_word_count(section.body),
                readers=readers,
                median_seconds=statistics.mean(times) if times else None,
            )
        )
    return readings


def _median_rows(rows: QuerySet, *, group: str, value: str) -> dict[int, tuple[int, list[int]]]:
    """The middle value (or two middle values) of each group, with the group's size.

    Window functions number each group's rows in order, and only the one or two rows in the
    middle leave the database, however many there are (SQLite and PostgreSQL alike). For n rows
    they are ranks (n + 1) / 2 to (n + 2) / 2 in integer division: the median is their mean.
    """
    ranked = (
        rows.order_by()
        .annotate(
            rank=Window(RowNumber(), partition_by=[F(group)], order_by=[F(value), F("pk")]),
            size=Window(Count("pk"), partition_by=[F(group)]),
        )
        .filter(rank__gte=(F("size") + 1) / 2, rank__lte=(F("size") + 2) / 2)
        .values_list(group, "size", value)
    )
    middle: dict[int, tuple[int, list[int]]] = {}
    for key, size, number in ranked:
        middle.setdefault(key, (size, []))[1].append(number)
    return middle


# The charts: SVG drawn on the server, shown as images (the site's CSP allows data: images, not
# the inline styles an <svg> element would need). The same numbers are in a table beside each.

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
        formatter=duration_display,
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
