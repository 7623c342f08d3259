"""Icon arrays: 100 small figures, some highlighted, drawn on the server as SVG.

Patients judge "fewer than 1 in 100" far better from a picture of 100 people than from the
number alone. The picture carries its own text alternative; highlighted figures differ in shape
(filled) as well as colour, so it reads without colour vision too.
"""

import math
from decimal import Decimal
from functools import lru_cache

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

COLUMNS = 10
CELL = 24  # px per figure, head and body included
HIGHLIGHT = "#a61b29"
PLAIN = "#6c757d"


def highlighted_count(max_per_100: Decimal | float | int | None) -> int:
    """How many figures to fill: the upper bound, rounded up so that a risk is never hidden."""
    if max_per_100 is None:
        return 0
    return min(100, max(0, math.ceil(float(max_per_100))))


def icon_array_description(max_per_100: Decimal | float | int | None, frequency_text: str) -> str:
    count = highlighted_count(max_per_100)
    return ngettext(
        "Picture of 100 people. %(count)d of them is highlighted: %(frequency)s.",
        "Picture of 100 people. %(count)d of them are highlighted: %(frequency)s.",
        count,
    ) % {"count": count, "frequency": frequency_text}


@lru_cache(maxsize=256)
def icon_array_svg(count: int, element_id: str, description: str) -> SafeString:
    """Return an accessible inline SVG of 100 figures with the first `count` highlighted."""
    figures = []
    for index in range(100):
        row, column = divmod(index, COLUMNS)
        x, y = column * CELL + CELL / 2, row * CELL
        filled = index < count
        figures.append(
            (
                x,
                y + 6,
                x - 6,
                y + 21,
                y + 13,
                x + 6,
                y + 21,
                HIGHLIGHT if filled else "none",
                HIGHLIGHT if filled else PLAIN,
            )
        )
    body = format_html_join(
        "",
        '<g fill="{7}" stroke="{8}" stroke-width="1.5"><circle cx="{0}" cy="{1}" r="4"/>'
        '<path d="M{2} {3} Q{2} {4} {0} {4} Q{5} {4} {5} {6} Z"/></g>',
        figures,
    )
    title = _("%(count)d in 100") % {"count": count}
    return format_html(
        '<svg class="icon-array" role="img" viewBox="0 0 {0} {0}" width="100%" '
        'aria-labelledby="{1}-title" aria-describedby="{1}-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{1}-title">{2}</title><desc id="{1}-desc">{3}</desc>{4}</svg>',
        COLUMNS * CELL,
        element_id,
        title,
        description,
        body,
    )
