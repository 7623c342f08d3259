"""Icon arrays: 100 small figures, some marked, drawn on the server as SVG.

Patients judge "fewer than 1 in 100" far better from a picture of 100 people than from the
number alone, provided the picture says what the number says (issue 11, "honest numbers"):

- "about N in 100" and "up to N in 100" mark N figures (a fraction of a figure for a decimal);
- "fewer than N in 100" marks FEWER than N: N - 1 whole figures and the left half of one, so
  "fewer than 1 in 100" is one partly filled figure out of 100, never one whole person;
- the complement is said beside it ("More than 99 in 100 do not."), and the text alternative
  carries the pack's own wording word for word, "fewer than" included;
- risks the source gives ONE figure for (a pack `group`) get one picture, so nobody adds them up.

Marked figures differ in shape (filled, or filled up to a line) as well as colour, so the
picture reads without colour vision too. Each figure carries `data-marked` (1, a fraction or 0):
the sum is what the picture says, and tests read it back from the SVG.
"""

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from consent.content.packs import risk_figure

COLUMNS = 10
PEOPLE = 100
CELL = 24  # px per figure, head and body included
HIGHLIGHT = "#a61b29"
PLAIN = "#6c757d"
# How much of the one figure a "fewer than N" picture fills: visibly less than a whole one.
FEWER_THAN_PART = 0.5

Number = Decimal | float | int


class RiskLike(Protocol):
    key: str
    name: str
    frequency_text: str
    max_per_100: float | None


@dataclass(frozen=True)
class Marks:
    """What a picture marks: `full` whole figures, then one figure filled to `part` (0 for none)."""

    full: int
    part: float

    @property
    def marked(self) -> float:
        return self.full + self.part


def marks_for(max_per_100: Number | None, figure: str) -> Marks:
    """The figures to mark for a pack figure read as `figure` (packs.risk_figure)."""
    if max_per_100 is None:
        return Marks(0, 0.0)
    value = min(float(PEOPLE), max(0.0, float(max_per_100)))
    if figure == "fewer-than":
        # Strictly fewer than the figure: the whole figures below it, and part of the next.
        full = max(0, math.ceil(value) - 1)
        return Marks(full, round((value - full) * FEWER_THAN_PART, 4))
    full = math.floor(value)
    return Marks(full, round(value - full, 4))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def complement_text(max_per_100: Number | None, figure: str) -> str:
    """The people the risk spares, said as the figure is: "More than 99 in 100 do not."."""
    if max_per_100 is None:
        return ""
    rest = _number(PEOPLE - float(max_per_100))
    if figure == "fewer-than":
        return _("More than %(rest)s in 100 do not.") % {"rest": rest}
    if figure == "about":
        return _("About %(rest)s in 100 do not.") % {"rest": rest}
    return _("At least %(rest)s in 100 do not.") % {"rest": rest}


def _marks_text(marks: Marks) -> str:
    if marks.full == 0 and marks.part:
        return _("One figure is partly filled")
    if marks.full == 0:
        return _("No figure is filled")
    whole = (
        _("1 figure is filled")
        if marks.full == 1
        else _("%(count)d figures are filled") % {"count": marks.full}
    )
    return whole + (_(" and one more partly") if marks.part else "")


def picture_description(
    max_per_100: Number | None, frequency_text: str, figure: str, names: Sequence[str] = ()
) -> str:
    """The picture's text alternative: what is marked, the pack's words as they are, the rest."""
    marks = marks_for(max_per_100, figure)
    about = ""
    if len(names) > 1:
        joined = _("%(first)s and %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}
        about = _(" for %(names)s") % {"names": joined}
    return " ".join(
        (
            _("Picture of 100 people%(about)s.") % {"about": about},
            _("%(marks)s: %(frequency)s")
            % {"marks": _marks_text(marks), "frequency": frequency_text}
            + ("" if frequency_text.rstrip().endswith(".") else "."),
            complement_text(max_per_100, figure),
        )
    )


@lru_cache(maxsize=256)
def icon_array_svg(
    full: int, part: float, element_id: str, title: str, description: str
) -> SafeString:
    """An accessible inline SVG of 100 figures: `full` filled, then one filled to `part`."""
    figures = []
    gradient = SafeString("")
    for index in range(PEOPLE):
        row, column = divmod(index, COLUMNS)
        x, y = column * CELL + CELL / 2, row * CELL
        if index < full:
            marked, fill, stroke = "1", HIGHLIGHT, HIGHLIGHT
        elif index == full and part > 0:
            marked, fill, stroke = f"{part:g}", f"url(#{element_id}-part)", HIGHLIGHT
            # Filled from the left up to `part` of the figure's width, a hard edge at the line:
            # visibly part of one person, head and body alike.
            gradient = format_html(
                '<defs><linearGradient id="{0}-part" gradientUnits="userSpaceOnUse" x1="{1}" '
                'y1="0" x2="{2}" y2="0"><stop offset="{3}" stop-color="{4}"/>'
                '<stop offset="{3}" stop-color="#ffffff"/></linearGradient></defs>',
                element_id,
                x - 6,
                x + 6,
                f"{part:g}",
                HIGHLIGHT,
            )
        else:
            marked, fill, stroke = "0", "none", PLAIN
        figures.append((x, y + 6, x - 6, y + 21, y + 13, x + 6, y + 21, fill, stroke, marked))
    body = format_html_join(
        "",
        '<g class="person" data-marked="{9}" fill="{7}" stroke="{8}" stroke-width="1.5">'
        '<circle cx="{0}" cy="{1}" r="4"/>'
        '<path d="M{2} {3} Q{2} {4} {0} {4} Q{5} {4} {5} {6} Z"/></g>',
        figures,
    )
    return format_html(
        '<svg class="icon-array" role="img" viewBox="0 0 {0} {0}" width="100%" '
        'aria-labelledby="{1}-title" aria-describedby="{1}-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{1}-title">{2}</title><desc id="{1}-desc">{3}</desc>{4}{5}</svg>',
        COLUMNS * CELL,
        element_id,
        title,
        description,
        gradient,
        body,
    )


# The circle of a head as four cubic curves (the usual 0.5523 approximation of a quarter circle).
_HEAD_RADIUS = 4
_KAPPA = 0.5523 * _HEAD_RADIUS


def _figure_path(x: float, y: float) -> str:
    """One figure of `icon_array_svg` as path data: its head, then its body."""
    r, k, cy = _HEAD_RADIUS, _KAPPA, y + 6
    head = (
        f"M{x + r:g} {cy:g}"
        f"C{x + r:g} {cy + k:g} {x + k:g} {cy + r:g} {x:g} {cy + r:g}"
        f"C{x - k:g} {cy + r:g} {x - r:g} {cy + k:g} {x - r:g} {cy:g}"
        f"C{x - r:g} {cy - k:g} {x - k:g} {cy - r:g} {x:g} {cy - r:g}"
        f"C{x + k:g} {cy - r:g} {x + r:g} {cy - k:g} {x + r:g} {cy:g}Z"
    )
    body = (
        f"M{x - 6:g} {y + 21:g}"
        f"Q{x - 6:g} {y + 13:g} {x:g} {y + 13:g}"
        f"Q{x + 6:g} {y + 13:g} {x + 6:g} {y + 21:g}Z"
    )
    return head + body


@lru_cache(maxsize=64)
def icon_array_pdf_svg(highlighted: float) -> str:
    """The picture of `icon_array_svg` for print: the same 100 figures in the same places and
    colours, `highlighted` of them marked (whole figures, then one filled from the left to the
    fraction), drawn as one path per kind of figure instead of one group per figure.

    For the record's PDF only: it has no text alternative of its own (the record prints the
    picture's description beside it) and no `data-marked`; `icon_array_marks` reads it back.
    """
    full = max(0, min(PEOPLE, math.floor(highlighted)))
    part = round(highlighted - full, 4) if full < PEOPLE else 0.0
    kinds: dict[str, list[str]] = {"marked": [], "part": [], "plain": []}
    gradient = ""
    for index in range(PEOPLE):
        row, column = divmod(index, COLUMNS)
        x, y = column * CELL + CELL / 2, row * CELL
        if index < full:
            kinds["marked"].append(_figure_path(x, y))
        elif index == full and part > 0:
            kinds["part"].append(_figure_path(x, y))
            gradient = (
                '<defs><linearGradient id="part" gradientUnits="userSpaceOnUse" '
                f'x1="{x - 6:g}" y1="0" x2="{x + 6:g}" y2="0">'
                f'<stop offset="{part:g}" stop-color="{HIGHLIGHT}"/>'
                f'<stop offset="{part:g}" stop-color="#ffffff"/></linearGradient></defs>'
            )
        else:
            kinds["plain"].append(_figure_path(x, y))
    paint = {
        "marked": (HIGHLIGHT, HIGHLIGHT),
        "part": ("url(#part)", HIGHLIGHT),
        "plain": ("none", PLAIN),
    }
    paths = "".join(
        f'<path class="{kind}" fill="{paint[kind][0]}" stroke="{paint[kind][1]}" '
        f'stroke-width="1.5" d="{"".join(figures)}"/>'
        for kind, figures in kinds.items()
        if figures
    )
    size = COLUMNS * CELL
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'width="{size}" height="{size}">{gradient}{paths}</svg>'
    )


def icon_array_marks(svg: str) -> dict[str, int]:
    """How many figures of each kind (`marked`, `part`, `plain`) a print picture draws."""
    return {
        kind: data.count("M") // 2
        for kind, data in re.findall(r'<path class="(\w+)"[^>]* d="([^"]*)"', svg)
    }


@dataclass(frozen=True)
class RiskPicture:
    """One picture and the risks it stands for (several for a group the source gives one
    figure for). `svg` is None where the pack gives no number: the risk is said in words."""

    risks: tuple[Any, ...]
    group: str
    figure: str
    frequency_text: str
    max_per_100: float | None
    marked: float | None
    title: str
    description: str
    complement: str
    svg: SafeString | None

    @property
    def risk(self) -> Any:
        return self.risks[0]

    @property
    def names(self) -> str:
        """The risks it stands for, by name: "Fluid around the heart, Stroke and ..."."""
        names = [risk.name for risk in self.risks]
        if len(names) == 1:
            return names[0]
        return _("%(first)s and %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}


def pack_risk_fields(content: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Each risk's `figure` and `group` from a version's stored pack content, by risk key."""
    risks = (content or {}).get("risks") or []
    return {
        entry["key"]: {"figure": entry.get("figure"), "group": entry.get("group") or ""}
        for entry in risks
        if isinstance(entry, dict) and "key" in entry
    }


def risk_pictures(
    risks: Iterable[RiskLike], content: Mapping[str, Any] | None
) -> list[RiskPicture]:
    """The pictures for a version's risks, in the pack's order, a group at its first member."""
    fields = pack_risk_fields(content)
    grouped: dict[str, list[RiskLike]] = {}
    order: list[list[RiskLike]] = []
    for risk in risks:
        group = fields.get(risk.key, {}).get("group", "")
        if group and group in grouped:
            grouped[group].append(risk)
            continue
        members = [risk]
        if group:
            grouped[group] = members
        order.append(members)
    pictures = []
    for members in order:
        first = members[0]
        extra = fields.get(first.key, {})
        group = extra.get("group", "")
        figure = risk_figure(first.max_per_100, first.frequency_text, extra.get("figure"))
        names = [risk.name for risk in members]
        element_id = f"risk-group-{group}" if group else f"risk-{first.key}"
        if first.max_per_100 is None:
            pictures.append(
                RiskPicture(
                    risks=tuple(members),
                    group=group,
                    figure="",
                    frequency_text=first.frequency_text,
                    max_per_100=None,
                    marked=None,
                    title="",
                    description="",
                    complement="",
                    svg=None,
                )
            )
            continue
        marks = marks_for(first.max_per_100, figure)
        title = _sentence(first.frequency_text).rstrip(".")
        description = picture_description(first.max_per_100, first.frequency_text, figure, names)
        pictures.append(
            RiskPicture(
                risks=tuple(members),
                group=group,
                figure=figure,
                frequency_text=first.frequency_text,
                max_per_100=first.max_per_100,
                marked=marks.marked,
                title=title,
                description=description,
                complement=complement_text(first.max_per_100, figure),
                svg=icon_array_svg(marks.full, marks.part, element_id, title, description),
            )
        )
    return pictures
